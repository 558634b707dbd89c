"""Duplicate screening of a large import in a second process, while the import writes on.

Screening a row (looking up its bands and person keys, scoring the candidates, writing links and
index rows) costs about half of what writing it costs. Inline, the import does both one after the
other on one core. With `alongside(job_id)` the importer writes its batches while a second
process (spawned: a fresh interpreter on the same settings and database) screens the cases
already committed, oldest first, on the other core:

- the `cases_created` receiver leaves an import's cases to that process (`deferred()`);
- the process follows the job's ledger rows by case id (the importer commits its batches in
  increasing case ids) and screens up to BATCH cases at a time with `index.index_cases`, which
  reads and scores outside any transaction and takes the write lock only to write;
- when the import has written its last batch the process finishes what is left and exits; then
  the importer screens, itself, any case of the job still not indexed (`catch_up`): after a
  screening process that failed, or an earlier run of the job that was killed. So every case of a
  finished import is screened, exactly as inline, and a killed import leaves nothing that its
  resumed run does not screen.

Each case is screened against every case indexed before it, as inline. The import counts as done
only when its cases are screened.

On SQLite the process also takes over part of the text index of the import's cases (most of what
writing a case costs there): the importer records a batch's id range as deferred
(`cases.search.defer_text_index`) while fewer than MAX_DEFERRED batches wait, and the process
indexes one such batch after each batch it screens (`search.index_deferred`); `catch_up` indexes
whatever is left. Search finds deferred cases meanwhile, so nothing changes for the users.
On PostgreSQL the import's cases wait in the trigram indexes' pending lists (which the server
searches too), and the process merges them into the indexes every MERGE_ROWS cases it screens
(`search.merge_pending`); the importer merges what is left when it finishes.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time

from django.db import connections

log = logging.getLogger(__name__)

BATCH = 1000  # cases screened per step (as the receiver screens an import batch)
# Smaller imports screen inline: starting a process costs more than it saves.
MIN_ROWS = int(os.environ.get("XINFANG_IMPORT_SCREEN_ALONGSIDE_ROWS") or 4000)
POLL_SECONDS = 0.05
MAX_DEFERRED = 2  # import batches whose text index may wait for this process at once

# Per thread: a worker may run two imports at once, one with a screening process and one without.
_local = threading.local()


def deferred() -> bool:
    """True while this thread's import leaves the screening of its cases to a screening process."""
    return getattr(_local, "deferred", False)


def defer_text() -> bool:
    """Whether the import batch being written (inside its transaction) should leave its text index
    to the screening process: SQLite, a process running, and fewer than MAX_DEFERRED batches
    already waiting for it (a busy process leaves the indexing to the importer)."""
    from django.db import connection

    from xinfang.cases import search

    return deferred() and connection.vendor == "sqlite" and search.deferred_ranges(connection) < MAX_DEFERRED


def _job_case_ids(job_id: int, after: int, limit: int) -> list[int]:
    from xinfang.ledger.models import LedgerRow

    return list(LedgerRow.objects.filter(job_id=job_id, case_id__gt=after).order_by("case_id")
                .values_list("case_id", flat=True)[:limit])


def catch_up(job_id: int) -> int:
    """Screen every case not yet indexed of the job and of the bureau's other unfinished imports
    (a run killed with its screening process leaves such cases; a job counts as done only after
    this ran), oldest first, and index any text whose indexing is still deferred. Returns how many
    cases were screened."""
    from xinfang.ledger.models import ImportJob

    from . import index
    from .models import Signature

    from django.db import connection

    from xinfang.cases import search

    # The text index of batches whose process did not get to them (SQLite).
    search.index_deferred(connection)
    job = ImportJob.objects.filter(pk=job_id).values_list("bureau_id", flat=True).first()
    jobs = [job_id, *ImportJob.objects.filter(bureau_id=job).exclude(pk=job_id).exclude(
        status=ImportJob.Status.DONE).order_by("pk").values_list("pk", flat=True)]
    done = 0
    for one in jobs:
        after = 0
        while True:
            ids = _job_case_ids(one, after, 20 * BATCH)
            if not ids:
                break
            after = ids[-1]
            indexed = set(Signature.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
            todo = [i for i in ids if i not in indexed]
            for start in range(0, len(todo), BATCH):
                index.index_cases(todo[start:start + BATCH])
            done += len(todo)
    return done


def _follow(job_id: int, finished, alive, parent_pid: int) -> None:
    """The screening process: screen the job's committed cases until the import is finished.
    `alive` counts its rounds, so the importer can tell a working process from a stuck one."""
    from django.db import connection

    from xinfang.cases import search

    from . import index

    # The importer's larger SQLite page cache and memory map: the band index is read at random.
    if connection.vendor == "sqlite":
        from xinfang.ledger.importer import MMAP_BYTES

        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size = -65536")
            cur.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    after = unmerged = 0
    while True:
        alive.value += 1
        last_round = finished.is_set()  # read before looking: rows committed before the flag are seen
        ids = _job_case_ids(job_id, after, BATCH)
        # A batch screened, then one import batch's deferred text index (SQLite). The importer
        # defers only while few batches wait (MAX_DEFERRED), so the two processes share that work
        # by how busy each is. PostgreSQL: the trigram indexes' pending lists are merged every
        # MERGE_ROWS cases (the import's batches only append to them).
        if ids:
            index.index_cases(ids)
            after = ids[-1]
            search.index_deferred(connection, limit=1)
            unmerged += len(ids)
            if unmerged >= search.MERGE_ROWS:
                search.merge_pending(connection)
                unmerged = 0
            continue
        if search.index_deferred(connection, limit=1):
            continue
        if last_round:
            return
        if os.getppid() != parent_pid:  # the import was killed: its resumed run screens the rest
            return
        time.sleep(POLL_SECONDS)


def _run(job_id: int, finished, alive, parent_pid: int, settings_module: str, database: str) -> None:
    """Entry of the screening process: a fresh interpreter (spawned, not forked: a fork of a
    threaded worker can inherit a lock another thread held, SQLite's among them, and hang), set up
    on the importer's settings and database (under test, the test database). Spawning re-imports
    the importing program's main script, which must guard its work with `if __name__ ==
    "__main__"` (the `xinfang` command does); one that does not makes this process fail at start,
    and the importer then screens inline."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    try:
        import django

        django.setup()
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = database
        connections["default"].settings_dict["NAME"] = database
        _follow(job_id, finished, alive, parent_pid)
    except BaseException:  # the importer's catch_up screens what this process did not
        log.exception("import %s: the screening process failed", job_id)
        os._exit(1)
    finally:
        connections.close_all()
    os._exit(0)


_TARGET = _run
STUCK_SECONDS = 120  # a screening process that has not moved for this long is stopped


def _screening_on() -> bool:
    """Whether new cases are screened at all: the dedup receiver is connected to cases_created
    (the ledger benchmark disconnects the receivers to time the importer alone)."""
    from xinfang.cases.models import Case
    from xinfang.cases.signals import cases_created

    from .service import on_cases_created

    sync, _async = cases_created._live_receivers(Case)
    return on_cases_created in sync


@contextlib.contextmanager
def alongside(job_id: int, rows: int, *, beat=None):
    """Screen the job's new cases in a second process while the body imports (`rows` rows in the
    file: below MIN_ROWS, or inside a transaction, the receiver screens inline as usual). On
    leaving, waits for that process (calling `beat()` every few seconds, so the waiting job does
    not look stalled; stopping it if it has not moved for STUCK_SECONDS) and screens whatever it
    left (`catch_up`)."""
    from django.conf import settings

    if not _screening_on():
        yield
        return
    # Not inside a transaction: the other process could not see the uncommitted cases.
    if (rows < MIN_ROWS or deferred()
            or any(c.in_atomic_block for c in connections.all(initialized_only=True))):
        yield
        catch_up(job_id)  # cases an earlier, killed run of a large import left unscreened
        return
    ctx = multiprocessing.get_context("spawn")
    finished, alive = ctx.Event(), ctx.Value("q", 0)
    process = ctx.Process(target=_TARGET, name=f"xinfang-screen-{job_id}", daemon=True, args=(
        job_id, finished, alive, os.getpid(), os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "xinfang.settings",
        str(connections["default"].settings_dict["NAME"])))
    process.start()
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = False
        finished.set()
        seen, since = alive.value, time.monotonic()
        while process.is_alive():
            process.join(timeout=min(5, STUCK_SECONDS))
            if beat:
                beat()
            if alive.value != seen:
                seen, since = alive.value, time.monotonic()
            elif time.monotonic() - since > STUCK_SECONDS:
                log.warning("import %s: the screening process has not moved for %s s; stopped", job_id, STUCK_SECONDS)
                process.kill()
                process.join()
        if process.exitcode:
            log.warning("import %s: screening process exited with %s; screening the rest here", job_id, process.exitcode)
    catch_up(job_id)
