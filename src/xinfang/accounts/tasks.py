"""Background jobs of the accounts app (run by the huey consumer that `xinfang serve` starts)."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import throttle


@db_periodic_task(crontab(minute="41"))
def purge_login_failures() -> int:
    """Hourly: delete failed-login rows older than the counting window (they can no longer lock
    anyone; the audit chain keeps the record). Idempotent."""
    return throttle.purge()
