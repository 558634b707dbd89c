"""Keep the daily aggregates honest: whatever changes a case marks its received day stale."""
from __future__ import annotations

from django.utils import timezone


def _day(case):
    return timezone.localdate(case.received_at) if case.received_at else None


def on_case_saved(sender, instance, **kwargs) -> None:
    from .aggregates import mark_days

    mark_days([_day(instance)])


def on_cases_created(sender, case_ids=(), **kwargs) -> None:
    # Bulk writers (import, demo) skip save(): their cases are marked here.
    from .aggregates import mark_cases

    mark_cases(case_ids)


def on_link_saved(sender, instance, **kwargs) -> None:
    # A confirmed 重复信访 link changes 重复信访率 of the later case and 一次性化解率 of the earlier one.
    from .aggregates import mark_cases

    mark_cases([instance.case_id, instance.earlier_id])


def on_related_saved(sender, instance, **kwargs) -> None:
    # A record about a case (e.g. a mediation reaching an agreement) changes the case's counters.
    from .aggregates import mark_cases

    mark_cases([instance.case_id])
