"""Suggestions follow the life of cases: computed when cases are created, judged when routed."""
from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from xinfang.cases.models import Case, Event
from xinfang.cases.signals import cases_created

from . import service


@receiver(cases_created, sender=Case, dispatch_uid="suggest.cases_created")
def suggest_new_cases(sender, case_ids, source="", **kwargs):
    """Every new case gets its suggestion inside the creating transaction (one batch at a time)."""
    service.suggest_cases(list(case_ids), source=source or "")


@receiver(post_save, sender=Event, dispatch_uid="suggest.routing")
def record_routing(sender, instance: Event, created: bool, raw: bool = False, **kwargs):
    """The first 交转 (route) of a case tells whether staff took the suggested organ."""
    if created and not raw and instance.action == "route" and instance.target_organ_id:
        service.record_routing(instance.case_id, instance.target_organ_id)
