"""Duplicate screening of a large import in a second process, while the import writes on.

Screening a row (looking up its bands and person keys, scoring the candidates, writing links and
index rows) costs about as much CPU as writing it. Inline, the import does both one after the
other on one core. With `alongside(job_id)` the importer writes its batches while a forked
process screens the cases already committed, oldest first, on the other core:

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

# Per thread: a worker may run two imports at once, one with a screening process and one without.
_local = threading.local()


def deferred() -> bool:
    """True while this thread's import leaves the screening of its cases to a screening process."""
    return getattr(_local, "deferred", False)


def _job_case_ids(job_id: int, after: int, limit: int) -> list[int]:
    from xinfang.ledger.models import LedgerRow

    return list(LedgerRow.objects.filter(job_id=job_id, case_id__gt=after).order_by("case_id")
                .values_list("case_id", flat=True)[:limit])


def catch_up(job_id: int) -> int:
    """Screen every case not yet indexed of the job and of the bureau's other unfinished imports
    (a run killed with its screening process leaves such cases; a job counts as done only after
    this ran), oldest first. Returns how many cases were screened."""
    from xinfang.ledger.models import ImportJob

    from . import index
    from .models import Signature

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


def _follow(job_id: int, finished, parent_pid: int) -> None:
    """The screening process: screen the job's committed cases until the import is finished."""
    from . import index

    # The parent's connections were closed before the fork; this process opens its own, with the
    # importer's larger SQLite page cache (the band index is read at random).
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size = -65536")
    after = 0
    while True:
        last_round = finished.is_set()  # read before looking: rows committed before the flag are seen
        ids = _job_case_ids(job_id, after, BATCH)
        if ids:
            index.index_cases(ids)
            after = ids[-1]
            continue
        if last_round:
            return
        if os.getppid() != parent_pid:  # the import was killed: its resumed run screens the rest
            return
        time.sleep(POLL_SECONDS)


def _run(job_id: int, finished, parent_pid: int) -> None:
    try:
        _follow(job_id, finished, parent_pid)
    except BaseException:  # the importer's catch_up screens what this process did not
        log.exception("import %s: the screening process failed", job_id)
        os._exit(1)
    finally:
        connections.close_all()
    os._exit(0)


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
    file: below MIN_ROWS, or where forking is not possible, the receiver screens inline as usual).
    On leaving, waits for that process (calling `beat()` every few seconds, so the waiting job
    does not look stalled) and screens whatever it left (`catch_up`)."""
    ctx = None
    # Not inside a transaction: the child could not see its uncommitted cases, and closing the
    # connection to fork would end it.
    if not _screening_on():
        yield
        return
    if (rows >= MIN_ROWS and "fork" in multiprocessing.get_all_start_methods() and not deferred()
            and not any(c.in_atomic_block for c in connections.all(initialized_only=True))):
        ctx = multiprocessing.get_context("fork")
    if ctx is None:
        yield
        catch_up(job_id)  # cases an earlier, killed run of a large import left unscreened
        return
    # A forked child must not share the parent's database connections.
    connections.close_all()
    finished = ctx.Event()
    process = ctx.Process(target=_run, args=(job_id, finished, os.getpid()), daemon=True,
                          name=f"xinfang-screen-{job_id}")
    process.start()
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = False
        finished.set()
        while process.is_alive():
            process.join(timeout=5)
            if beat:
                beat()
        if process.exitcode:
            log.warning("import %s: screening process exited with %s; screening the rest here", job_id, process.exitcode)
    catch_up(job_id)
