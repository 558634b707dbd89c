"""Background jobs of supervision (huey: the consumer `xinfang serve` starts discovers this module,
as `run_huey` imports every app's tasks; the app also imports it when ready). Idempotent: one
reminder per (letter, grade, recipient)."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="15", hour="*"))
@lock_task("supervision-letter-reminders")
def letter_reminders():
    """Hourly: 临期/超期 reminders of supervision letters not answered in writing."""
    from .reminders import send_letter_reminders

    return send_letter_reminders()
