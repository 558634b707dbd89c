"""Background jobs of the analysis desk (huey; `xinfang serve` starts the consumer, tests run
them inline). Every job is idempotent: aggregates are rebuilt per day, reports and alerts have
unique keys, notices one per (deadline, grade)."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(minute="*/10"))
@lock_task("analytics-refresh")
def refresh_aggregates():
    from .aggregates import refresh

    return refresh()


@db_periodic_task(crontab(minute="5", hour="*"))
def deadline_reminders():
    from .jobs import send_deadline_reminders

    return send_deadline_reminders()


@db_periodic_task(crontab(minute="20", hour="*"))
@lock_task("analytics-alerts")
def early_warning():
    from .hot import detect_alerts

    return detect_alerts()


@db_periodic_task(crontab(minute="30", hour="1", day_of_week="1"))
def weekly_report():
    from .reports import run_scheduled

    return run_scheduled("weekly")


@db_periodic_task(crontab(minute="40", hour="1", day="1"))
def monthly_report():
    from .reports import run_scheduled

    return run_scheduled("monthly")


@db_periodic_task(crontab(minute="50", hour="1", day="1", month="1,4,7,10"))
def quarterly_report():
    from .reports import run_scheduled

    return run_scheduled("quarterly")


@db_periodic_task(crontab(minute="10", hour="2", day="2", month="1"))
def annual_report():
    from .reports import run_scheduled

    return run_scheduled("annual")


@db_task()
def generate_report_task(kind: str, organ_id: int | None, start: str, end: str):
    """On demand in the background (used by `xinfang report --background`)."""
    import datetime as dt

    from xinfang.orgs.models import Organ

    from .reports import generate_report

    organ = Organ.objects.get(pk=organ_id) if organ_id else None
    return generate_report(kind, organ=organ, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end)).pk
