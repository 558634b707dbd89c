"""The work behind the scheduled jobs, callable from tasks, the CLI and tests. Each is idempotent."""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.models import OPEN_STATES
from xinfang.deadlines.models import Deadline

from .models import Notice


def send_deadline_reminders(today: dt.date | None = None) -> int:
    """A notice to the organ responsible for each open duty limit that entered its 临期 window
    (near) or ran out (overdue). One notice per (limit, grade): the unique key claims it, so
    running the job again, or two workers at once, sends nothing twice. Pending limits (no date:
    their year's calendar is missing) are skipped."""
    today = today or timezone.localdate()
    sent = 0
    qs = (Deadline.objects.filter(is_open=True, due_on__isnull=False, rule__is_duty=True, case__state__in=OPEN_STATES)
          .select_related("rule", "case").only("pk", "due_on", "organ_id", "case__id", "case__number",
                                               "case__current_organ_id", "rule__name", "rule__warn_days"))
    near = qs.filter(due_on__gte=today)
    for d in qs.filter(due_on__lt=today).iterator(chunk_size=1000):
        sent += _notice(d, "overdue", _("%(number)s“%(rule)s”已于%(due)s到期,已超期") % {
            "number": d.case.number, "rule": d.rule.name, "due": d.due_on.isoformat()})
    for d in near.iterator(chunk_size=1000):
        warn = d.rule.warn_days
        if warn and d.due_on - dt.timedelta(days=warn - 1) <= today:
            sent += _notice(d, "near", _("%(number)s“%(rule)s”将于%(due)s到期,请按期办理") % {
                "number": d.case.number, "rule": d.rule.name, "due": d.due_on.isoformat()})
    return sent


def _notice(d, grade: str, text: str) -> int:
    organ_id = d.organ_id or d.case.current_organ_id
    try:
        with transaction.atomic():
            _obj, created = Notice.objects.get_or_create(deadline_id=d.pk, grade=grade, defaults=dict(
                organ_id=organ_id, case_id=d.case.pk, text=text[:300], due_on=d.due_on))
    except IntegrityError:  # another worker claimed it first
        return 0
    return int(created)
