"""A real crash: the import process is killed with SIGKILL in the middle of a ledger, then started
again; the import goes on from its last committed batch, finishes, and every 编号 is exactly one
whole case.

Both ways the product runs an import are killed:
(a) the command line, `xinfang import FILE`: the same command run again imports the rest, skipping
    the rows the killed run committed;
(b) the background worker (`xinfang run_huey`, the queue a SQLite file in the data directory as in
    production): the job is enqueued by the upload page, the worker killed mid-job, a new worker
    started, and the stalled job resumed by `tasks.resume_stalled`, put on the queue here as the
    worker's periodic scheduler does every two minutes (XINFANG_IMPORT_STALL_SECONDS shortens
    "stalled" to seconds).

Both imports are large enough (XINFANG_IMPORT_SCREEN_ALONGSIDE_ROWS lowered here) to screen their
duplicates in a second process: it dies with the import, and the finished import has
screened every case, including those the killed run committed unscreened.

The processes have their own database: a SQLite file in a temporary XINFANG_DATA_DIR or, when the
suite runs on PostgreSQL (DATABASE_URL), a throwaway database created and dropped here. Nothing
sleeps a fixed time: every wait polls the database with a time limit.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest
import time_machine

from xinfang.cases.models import Case, CaseCounter, Event, Petitioner
from xinfang.cases import search
from xinfang.dedup.models import Signature
from xinfang.ledger import tasks
from xinfang.ledger.models import ImportJob, ImportRowError, LedgerRow
from tests.conftest import NOW

XINFANG = str(Path(sys.executable).with_name("xinfang"))
BUREAU = "BENCHLEDXF"  # the bench's bureau (ledger.bench._world), whose organs the generated ledger names
STALL_SECONDS = 3
WORKER = "WRK-"  # the 编号 prefix of the worker test's ledger
T = SimpleNamespace(case=Case._meta.db_table, event=Event._meta.db_table, pet=Petitioner._meta.db_table,
                    counter=CaseCounter._meta.db_table, job=ImportJob._meta.db_table, row=LedgerRow._meta.db_table,
                    error=ImportRowError._meta.db_table, signature=Signature._meta.db_table)

# One process (each start costs seconds here): the database, the bench's bureau and organs, a
# registrar, and the worker test's ledger uploaded as the upload page does it (the file stored, the
# job created and enqueued on the worker queue; no worker runs yet).
SETUP = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from django.urls import reverse
from xinfang.ledger.bench import _world
from xinfang.ledger.models import ImportJob
from xinfang.orgs.models import Role, User
bureau, organs, district = _world()
user = User.objects.create_user("kill_registrar", password=None, organ=bureau, roles=[Role.REGISTRAR], full_name="断电测试")
client = Client()
client.force_login(user)
with open({upload!r}, "rb") as fh:
    response = client.post(reverse("ledger:import"), {{"file": fh}})
assert response.status_code == 302, response.status_code
print("JOB", ImportJob.objects.get().pk)
"""


@pytest.fixture
def frozen_time():
    """The processes run on the real clock, and so must the polling here (overrides the frozen one)."""
    yield None


class Db:
    """Read-only look at the processes' database, each query seeing the latest commit."""

    def __init__(self, url: str | None, path: Path):
        if url:
            import psycopg

            self.conn, self.mark = psycopg.connect(url, autocommit=True), "%s"
        else:
            self.conn, self.mark = sqlite3.connect(path, isolation_level=None, timeout=30), "?"

    def all(self, sql: str, *params) -> list[tuple]:
        return list(self.conn.execute(sql.replace("?", self.mark), params).fetchall())

    def one(self, sql: str, *params) -> tuple:
        return self.all(sql, *params)[0]

    def heartbeat(self, job_id: int) -> dt.datetime:
        (beat,) = self.one(f"SELECT heartbeat FROM {T.job} WHERE id = ?", job_id)
        return beat if isinstance(beat, dt.datetime) else dt.datetime.fromisoformat(beat).replace(tzinfo=dt.timezone.utc)

    def job(self, job_id: int) -> SimpleNamespace:
        status, total, done, created, skipped, errors = self.one(
            f"SELECT status, total, rows_done, created, skipped, errors FROM {T.job} WHERE id = ?", job_id)
        return SimpleNamespace(status=status, total=total, done=done, created=created, skipped=skipped, errors=errors)


class World:
    def __init__(self, tmp: Path):
        self.tmp, self.procs = tmp, []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("XINFANG_", "DATABASE_URL", "DJANGO_"))}
        self.env.update(XINFANG_DATA_DIR=str(tmp / "data"), XINFANG_IMPORT_STALL_SECONDS=str(STALL_SECONDS),
                        XINFANG_IMPORT_SCREEN_ALONGSIDE_ROWS="50", PYTHONUNBUFFERED="1")
        self.pg_admin = self.url = None
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith("postgres"):
            import psycopg

            parts = urlsplit(base)
            self.pg_name = f"xinfang_kill_{os.getpid()}"
            self.pg_admin = urlunsplit(parts._replace(scheme="postgresql"))
            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {self.pg_name}")
            self.url = urlunsplit(parts._replace(scheme="postgresql", path="/" + self.pg_name))
            self.env["DATABASE_URL"] = self.url

    def prepare(self) -> None:
        self.upload, self.upload_numbers = self.ledger(f"{WORKER}ledger.csv", 300, WORKER)
        out = self.run("shell", "-c", SETUP.format(upload=str(self.upload)))
        self.upload_job = int(out.split("JOB")[-1])
        self.db = Db(self.url, self.tmp / "data" / "xinfang.sqlite3")

    def enqueue_periodic(self, task) -> None:
        """Put `task` on the workers' queue as their periodic scheduler does (Huey.enqueue: the
        serialized task into the queue's storage), without starting a process for it."""
        from huey import SqliteHuey
        from huey.contrib.djhuey import HUEY

        queue = SqliteHuey(HUEY.name, filename=str(self.tmp / "data" / "jobs.sqlite3"))
        queue.storage.enqueue(HUEY.serialize_task(task.s()), 0)

    def run(self, *args, timeout=300) -> str:
        done = subprocess.run([XINFANG, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"xinfang {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, *args, log: str) -> subprocess.Popen:
        with open(self.tmp / log, "ab") as out:
            proc = subprocess.Popen([XINFANG, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL: no cleanup, no rollback in the process, as when the power goes."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)
        if hasattr(self, "db"):
            self.db.conn.close()
        if self.pg_admin:
            import psycopg

            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")

    def ledger(self, name: str, rows: int, prefix: str) -> tuple[Path, list[str]]:
        """A generated ledger (ledger.bench.write_ledger, dates before the suite's NOW) and its 编号s."""
        from xinfang.ledger.bench import ORGANS, write_ledger

        path = self.tmp / name
        with time_machine.travel(NOW, tick=False):
            write_ledger(str(path), rows, [SimpleNamespace(name=n) for _c, n, _s in ORGANS],
                         SimpleNamespace(name="基准区"), prefix=prefix)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            numbers = [r[0] for r in list(csv.reader(fh))[1:]]
        return path, numbers


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("interrupted"))
    try:  # the throwaway database is dropped even when preparing it fails
        w.prepare()
        yield w
    finally:
        w.close()


def wait_for(what: str, predicate, *, proc=None, timeout: float = 240):
    limit = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process ended first (exit code {proc.returncode})")
        if time.monotonic() > limit:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.02)


def check_whole(db: Db, job_id: int) -> SimpleNamespace:
    """Nothing half-made, whatever moment the process died: every case has its LedgerRow, its
    registration and a timeline ending in its state, its petitioner; the job's counts are its rows;
    case numbers have no gap."""
    assert db.one(f"SELECT COUNT(*) FROM {T.case} c WHERE NOT EXISTS "
                  f"(SELECT 1 FROM {T.row} l WHERE l.case_id = c.id)") == (0,), "a case without its LedgerRow"
    assert db.one(f"SELECT COUNT(*) FROM {T.case} c WHERE NOT EXISTS "
                  f"(SELECT 1 FROM {T.event} e WHERE e.case_id = c.id AND e.action = 'register')") == (0,)
    assert db.one(f"SELECT COUNT(*) FROM {T.case} c WHERE c.state <> (SELECT e.to_state FROM {T.event} e "
                  f"WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1)") == (0,), "a timeline cut short"
    # The generated ledger gives every row a petitioner.
    assert db.one(f"SELECT COUNT(*) FROM {T.case} c WHERE NOT EXISTS "
                  f"(SELECT 1 FROM {T.pet} p WHERE p.case_id = c.id)") == (0,)
    for year, count, last_seq, counter in db.all(
            f"SELECT c.year, COUNT(*), MAX(c.seq), k.last FROM {T.case} c JOIN {T.counter} k "
            f"ON k.bureau_id = c.bureau_id AND k.year = c.year GROUP BY c.year, k.last"):
        assert count == last_seq == counter, (year, count, last_seq, counter)
    job = db.job(job_id)
    (made,) = db.one(f"SELECT COUNT(*) FROM {T.row} WHERE job_id = ?", job_id)
    (bad,) = db.one(f"SELECT COUNT(DISTINCT row) FROM {T.error} WHERE job_id = ?", job_id)
    assert (made, bad) == (job.created, job.errors), (made, bad, job)
    assert job.done == job.created + job.skipped + job.errors, job
    return job


def check_all_screened(db: Db) -> None:
    """Every case is in the duplicate index (screened), after the import that finished; on SQLite
    every case is in the text index too (none left deferred by the killed run) and it is sound."""
    assert db.one(f"SELECT COUNT(*) FROM {T.case} c WHERE NOT EXISTS "
                  f"(SELECT 1 FROM {T.signature} s WHERE s.case_id = c.id)") == (0,), "a case never screened"
    if db.mark == "?":
        assert db.one(f"SELECT COUNT(*) FROM {search.PENDING_TABLE}") == (0,), "a batch's text never indexed"
        db.all(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        (title, n) = db.one(f"SELECT title, COUNT(*) FROM {T.case} GROUP BY title ORDER BY 2 DESC LIMIT 1")
        assert db.one(f"SELECT COUNT(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH ?",
                      search.fts_phrase(title)) >= (n,)


def check_every_number_once(db: Db, numbers: list[str], prefix: str) -> None:
    """Every row of the file is exactly one case, or (only) an error line of the job(s)."""
    kept = [r[0] for r in db.all(f"SELECT source_no FROM {T.row} WHERE source_no LIKE ?", prefix + "%")]
    assert len(kept) == len(set(kept))
    rows = {r[0] for r in db.all(
        f"SELECT DISTINCT e.row FROM {T.error} e JOIN {T.job} j ON j.id = e.job_id WHERE j.name LIKE ?", prefix + "%")}
    by_row = {n: no for n, no in enumerate(numbers, 2)}
    assert set(kept) | {by_row[n] for n in rows} == set(numbers)
    assert not set(kept) & {by_row[n] for n in rows}
    assert len(kept) >= 0.9 * len(numbers), "the generated ledger should mostly import"


def test_killed_cli_import_run_again_skips_what_was_committed(world):
    prefix = "CLI-"
    path, numbers = world.ledger(f"{prefix}ledger.csv", 120, prefix)
    db = world.db
    proc = world.start("import", str(path), "--bureau", BUREAU, "--batch", "20", "--no-progress", log="cli.log")
    job_id = wait_for("the import job", lambda: (db.all(f"SELECT id FROM {T.job} WHERE name = ?", path.name)
                                                 or [[None]])[0][0], proc=proc)
    wait_for("two committed batches", lambda: db.job(job_id).done >= 40, proc=proc)
    world.kill(proc)
    killed = check_whole(db, job_id)
    assert killed.status == "running" and 40 <= killed.done < killed.total == len(numbers), killed

    # The same command again (a new job): the committed rows are skipped, the rest imported.
    out = world.run("import", str(path), "--bureau", BUREAU, "--no-progress")
    (again_id,) = db.one(f"SELECT MAX(id) FROM {T.job}")
    again = check_whole(db, again_id)
    assert f"(任务 {again_id})" in out and (again.status, again.done) == ("done", len(numbers)), again
    assert again.skipped == killed.created and again.created + again.errors + again.skipped == len(numbers)
    check_every_number_once(db, numbers, prefix)
    check_all_screened(db)


def test_killed_worker_job_is_resumed_by_a_new_worker(world):
    numbers, job_id, db = world.upload_numbers, world.upload_job, world.db
    assert db.job(job_id).status == "queued"  # uploaded by the world fixture, as the upload page does
    worker = world.start("run_huey", "--no-periodic", log="worker-1.log")
    wait_for("a committed batch", lambda: db.job(job_id).done > 0, proc=worker)
    world.kill(worker)
    killed = check_whole(db, job_id)
    assert killed.status == "running" and 0 < killed.done < killed.total == len(numbers), killed

    worker = world.start("run_huey", "--no-periodic", log="worker-2.log")
    # The job counts as stalled once its heartbeat is older than STALL; then the periodic
    # resume_stalled of the new worker takes it up.
    wait_for("the job counted as stalled", lambda: dt.datetime.now(dt.timezone.utc) - db.heartbeat(job_id)
             > dt.timedelta(seconds=STALL_SECONDS + 0.5), proc=worker)
    world.enqueue_periodic(tasks.resume_stalled)
    wait_for("the resumed job", lambda: db.job(job_id).status in ("done", "failed"), proc=worker)
    world.kill(worker)
    job = check_whole(db, job_id)
    assert (job.status, job.done, job.skipped) == ("done", len(numbers), 0), job
    assert job.created + job.errors == len(numbers)
    check_every_number_once(db, numbers, WORKER)
    check_all_screened(db)
