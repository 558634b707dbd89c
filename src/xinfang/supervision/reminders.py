"""Reminders of supervision letters not answered in time (条例第39条: the organ answers in writing
by the date the letter sets). The hourly job (`tasks.letter_reminders`) and
`xinfang supervision remind` call `send_letter_reminders`; it is idempotent.

Which letters: those still waiting for the written answer (status 待答复: never answered, or
answered and returned). A letter is
- 临期 (near) from `SUPERVISION_ANSWER_WARN_DAYS` days before its answer date up to that date
  itself (default 3: the date, the day before and the one before that; 0 sends no 临期 reminder),
  as a duty limit is near inside its rule's warning days (the deadline reminders);
- 超期 (overdue) from the day after its answer date (`SupervisionLetter.is_overdue`).

Who is reminded: the receiving organ of both grades, shown at the top of its inbox; and, of the
超期 grade, the supervisor who issued the letter, shown on the supervision desk of the issuing
organ. A letter first seen already overdue gets only the 超期 reminder.
"""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import conf
from .models import LetterReminder, LetterStatus, ReminderGrade, ReminderTo, SupervisionLetter


def _without(grade: str, recipient: str):
    """Open letters that have not had this reminder yet (so a rerun touches nothing)."""
    sent = LetterReminder.objects.filter(letter_id=OuterRef("pk"), grade=grade, recipient=recipient)
    return (SupervisionLetter.objects.filter(status=LetterStatus.OPEN).exclude(Exists(sent))
            .only("pk", "organ_id", "issuer_id", "issued_by_id", "answer_due").order_by("pk"))


def send_letter_reminders(today: dt.date | None = None) -> int:
    """Send the 临期 and 超期 reminders now due; return how many were sent (0 on a rerun)."""
    today = today or timezone.localdate()
    sent = 0
    overdue = dict(answer_due__lt=today)
    for letter in _without(ReminderGrade.OVERDUE, ReminderTo.ORGAN).filter(**overdue).iterator(chunk_size=500):
        sent += _claim(letter, ReminderGrade.OVERDUE, ReminderTo.ORGAN, letter.organ_id)
    for letter in _without(ReminderGrade.OVERDUE, ReminderTo.ISSUER).filter(**overdue).iterator(chunk_size=500):
        sent += _claim(letter, ReminderGrade.OVERDUE, ReminderTo.ISSUER, letter.issuer_id, letter.issued_by_id)
    warn = conf.answer_warn_days()
    if warn:
        near = _without(ReminderGrade.NEAR, ReminderTo.ORGAN).filter(
            answer_due__gte=today, answer_due__lte=today + dt.timedelta(days=warn - 1))
        for letter in near.iterator(chunk_size=500):
            sent += _claim(letter, ReminderGrade.NEAR, ReminderTo.ORGAN, letter.organ_id)
    return sent


def _claim(letter: SupervisionLetter, grade: str, recipient: str, organ_id: int, user_id: int | None = None) -> int:
    try:
        with transaction.atomic():
            _obj, created = LetterReminder.objects.get_or_create(letter_id=letter.pk, grade=grade, recipient=recipient,
                                                                 defaults=dict(organ_id=organ_id, user_id=user_id,
                                                                               due_on=letter.answer_due))
    except IntegrityError:  # another worker claimed it first
        return 0
    return int(created)


def unread_for(user, recipient: str):
    """Unread reminders of `recipient` kind addressed to the user's organ: the receiving organ's
    staff see the ORGAN ones, the issuing organ's supervisors the ISSUER ones."""
    if not getattr(user, "organ_id", None):
        return LetterReminder.objects.none()
    return (LetterReminder.objects.filter(organ_id=user.organ_id, recipient=recipient, read_at__isnull=True)
            .select_related("letter", "letter__document", "letter__organ", "user"))


def mark_read(user, recipient: str) -> int:
    """Mark the user's organ's unread reminders of `recipient` kind read, by `user`."""
    return unread_for(user, recipient).update(read_at=timezone.now(), read_by=user)
