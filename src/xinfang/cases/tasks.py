"""Background jobs of the case register (run by the huey consumer that `xinfang serve` starts)."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*/5"))
@lock_task("cases-merge-text-index")
def merge_text_index() -> int:
    """Every five minutes, PostgreSQL: move the cases registered since into the trigram indexes
    proper (`search.merge_pending`), so that no registration has to do it in its own statement
    and searches read a short pending list. Returns the pages emptied. Elsewhere: nothing."""
    from django.db import connection

    from . import search

    return search.merge_pending(connection)
