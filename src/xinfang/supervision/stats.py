"""Supervision figures for a period, for the annual report (Art.41: statistics on supervision and
the proposals made) and the periodic analyses.

`supervision_figures(user, start=, end=)` counts what organs in the user's oversight subtree did
from `start` to `end` (inclusive, local dates):

| key | counts |
|---|---|
| letters | letters issued, and per kind (`letters_<kind>`) |
| answered | of those, answered in writing (answered or closed), and `answered_on_time` by their date |
| closed | of those, closed by the supervisor |
| overdue_open | of those, still unanswered past their answer date (as of today) |
| proposals, adopted, partly_adopted, not_adopted | the 三项建议 and the adoption the receivers reported |
| listed | cases put on 挂牌督办 |
| leader_cases | 领导包案 assignments made; `instructions` 批示 given; `escalations` 提级 decided |
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from .models import (
    PROPOSAL_KINDS, CaseListing, Escalation, Instruction, LeaderAssignment, LetterKind, LetterStatus, SupervisionLetter,
)


def _bounds(start: dt.date, end: dt.date):
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz)
    return lo, hi


def supervision_figures(user, *, start: dt.date, end: dt.date) -> dict[str, int]:
    organs = user.organ.descendant_ids() if getattr(user, "organ_id", None) else set()
    if getattr(user, "is_superuser", False):
        organs = None
    lo, hi = _bounds(start, end)
    today = timezone.localdate()

    def scope(qs, field):
        return qs if organs is None else qs.filter(**{f"{field}__in": organs})

    letters = scope(SupervisionLetter.objects.filter(issued_at__gte=lo, issued_at__lt=hi), "issuer_id")
    answered = Q(status__in=[LetterStatus.ANSWERED, LetterStatus.CLOSED])
    proposal = Q(kind__in=[k.value for k in PROPOSAL_KINDS])
    figures = letters.aggregate(
        letters=Count("pk"),
        answered=Count("pk", filter=answered),
        answered_on_time=Count("pk", filter=answered & Q(answered_at__date__lte=F("answer_due"))),
        closed=Count("pk", filter=Q(status=LetterStatus.CLOSED)),
        overdue_open=Count("pk", filter=Q(status=LetterStatus.OPEN, answer_due__lt=today)),
        proposals=Count("pk", filter=proposal),
        adopted=Count("pk", filter=proposal & Q(adoption="adopted")),
        partly_adopted=Count("pk", filter=proposal & Q(adoption="partly")),
        not_adopted=Count("pk", filter=proposal & Q(adoption="not_adopted")),
        **{f"letters_{k.value}": Count("pk", filter=Q(kind=k.value)) for k in LetterKind},
    )
    figures["listed"] = scope(CaseListing.objects.filter(listed_at__gte=lo, listed_at__lt=hi), "organ_id").count()
    figures["leader_cases"] = scope(LeaderAssignment.objects.filter(assigned_at__gte=lo, assigned_at__lt=hi),
                                    "leader__organ_id").count()
    figures["instructions"] = scope(Instruction.objects.filter(at__gte=lo, at__lt=hi), "leader__organ_id").count()
    figures["escalations"] = scope(Escalation.objects.filter(recorded_at__gte=lo, recorded_at__lt=hi),
                                   "recorded_by__organ_id").count()
    return figures
