"""Editing the calendar or a rule recomputes the open deadlines (REGULATION.md §4)."""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import CalendarDay, CalendarYear, Rule


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
@receiver(post_save, sender=Rule)
def calendar_changed(sender, raw=False, **kwargs):
    if raw:
        return
    from xinfang.cases.workflow import recompute_open_deadlines

    transaction.on_commit(recompute_open_deadlines)
