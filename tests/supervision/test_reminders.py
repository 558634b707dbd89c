"""Reminders of supervision letters not answered in time (条例第39条): the hourly job, the CLI,
and where the reminders show (inbox, desk, letter page). The clock starts at 2026-06-01 09:00."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from xinfang.supervision import services as sv
from xinfang.supervision import tasks
from xinfang.supervision.models import LetterKind, LetterReminder, LetterStatus
from xinfang.supervision.reminders import send_letter_reminders

TODAY = dt.date(2026, 6, 1)


def issue(cast, case, due, kind=LetterKind.SUPERVISE):
    return sv.issue_letter(cast.supervisor, case, kind=kind, organ=cast.housing, reason="受理后超过30日未见办理进展",
                           answer_due=due)


def sent(letter=None):
    qs = LetterReminder.objects.all() if letter is None else letter.reminders.all()
    return sorted((r.grade, r.recipient, r.organ.code, r.user.username if r.user else None) for r in qs)


def test_a_letter_due_tomorrow_gets_one_near_reminder(cast, handling_case, as_user):
    letter = issue(cast, handling_case, TODAY + dt.timedelta(days=1))
    assert send_letter_reminders() == 1
    assert sent(letter) == [("near", "organ", "JZZJ", None)]
    # Running again, by the job or the CLI, sends nothing more.
    assert send_letter_reminders() == 0
    tasks.letter_reminders()  # huey runs it inline in tests
    assert LetterReminder.objects.count() == 1
    reminder = LetterReminder.objects.get()
    assert reminder.due_on == letter.answer_due and reminder.read_at is None
    assert reminder.text == f"督办函{letter.document.number}须于2026-06-02前书面答复,即将到期,请按期答复。"
    # The receiving organ sees it at the top of its inbox; another organ does not.
    html = as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert "函件答复提醒" in html and reminder.text in html
    assert reminder.text not in as_user(cast.other).get(reverse("inbox")).content.decode()
    # The supervisor is not reminded of a letter that is only near its date.
    assert "逾期未答复提醒" not in as_user(cast.supervisor).get(reverse("supervision:desk")).content.decode()


def test_an_overdue_letter_reminds_the_organ_and_the_issuing_supervisor(cast, handling_case, travel, as_user):
    letter = issue(cast, handling_case, TODAY + dt.timedelta(days=5))
    assert send_letter_reminders() == 0  # five days ahead: not yet 临期 (3 days by default)
    travel(TODAY + dt.timedelta(days=6))  # the day after the answer date
    assert send_letter_reminders() == 2
    assert sent(letter) == [("overdue", "issuer", "JZXF", "supervisor"), ("overdue", "organ", "JZZJ", None)]
    assert send_letter_reminders() == 0
    assert call_command_out("remind") == "letter reminders sent: 0\n"
    # The supervision desk of the issuing organ lists it; the letter page shows both reminders.
    desk = as_user(cast.supervisor).get(reverse("supervision:desk")).content.decode()
    assert "逾期未答复提醒" in desk and f"{cast.housing.name}未在2026-06-06前书面答复督办函{letter.document.number}" in desk
    page = as_user(cast.handler).get(reverse("supervision:letter_detail", args=[letter.pk])).content.decode()
    assert "答复提醒" in page and page.count("badge badge-overdue\">超期") == 2 and "陈督查" in page
    inbox = as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert "答复期限2026-06-06已过,尚未书面答复" in inbox


def test_near_then_overdue_each_once(cast, handling_case, travel):
    letter = issue(cast, handling_case, TODAY + dt.timedelta(days=3))
    assert send_letter_reminders() == 0
    travel(TODAY + dt.timedelta(days=1))  # the answer date is two days ahead: inside the 3-day window
    assert send_letter_reminders() == 1
    travel(TODAY + dt.timedelta(days=3))  # on the answer date itself: still 临期, already sent
    assert send_letter_reminders() == 0
    travel(TODAY + dt.timedelta(days=4))
    assert send_letter_reminders() == 2 and send_letter_reminders() == 0
    assert [g for g, *_ in sent(letter)] == ["near", "overdue", "overdue"]


def test_answered_and_closed_letters_get_nothing(cast, handling_case, travel):
    answered = issue(cast, handling_case, TODAY + dt.timedelta(days=1))
    closed = issue(cast, handling_case, TODAY + dt.timedelta(days=1), kind=LetterKind.REMIND)
    sv.answer_letter(cast.handler, answered, answer="已约谈物业,电梯已修复")
    sv.answer_letter(cast.handler, closed, answer="已办理")
    sv.review_answer(cast.supervisor, closed, accept=True)
    for day in (0, 5):
        travel(TODAY + dt.timedelta(days=day))
        assert send_letter_reminders() == 0
    assert not LetterReminder.objects.exists()
    # Returned for a new answer, the letter is waiting again, past its date: reminded.
    sv.review_answer(cast.supervisor, answered, accept=False, note="未说明整改结果")
    answered.refresh_from_db()
    assert answered.status == LetterStatus.OPEN and send_letter_reminders() == 2


def test_warning_days_come_from_the_setting(cast, handling_case, settings):
    letter = issue(cast, handling_case, TODAY + dt.timedelta(days=3))
    assert send_letter_reminders() == 0  # default 3 days: the answer date and the two days before
    settings.SUPERVISION_ANSWER_WARN_DAYS = 0  # no 临期 reminders at all
    assert send_letter_reminders() == 0
    settings.SUPERVISION_ANSWER_WARN_DAYS = 4
    assert send_letter_reminders() == 1 and sent(letter) == [("near", "organ", "JZZJ", None)]


def call_command_out(*args) -> str:
    out = io.StringIO()
    call_command("supervision", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_cli_remind_prints_how_many_were_sent(cast, handling_case, travel):
    issue(cast, handling_case, TODAY + dt.timedelta(days=1))
    issue(cast, handling_case, TODAY + dt.timedelta(days=2))
    assert call_command_out("remind") == "letter reminders sent: 2\n"
    travel(TODAY + dt.timedelta(days=3))
    assert call_command_out("remind") == "letter reminders sent: 4\n"
    assert call_command_out("remind") == "letter reminders sent: 0\n"


def test_the_job_is_registered_with_huey_hourly():
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")  # what `run_huey` (started by `xinfang serve`) does
    periodic = {t.__module__ + "." + t.__name__: t for t in HUEY._registry._periodic_tasks}
    task = periodic["xinfang.supervision.tasks.letter_reminders"]()
    assert task.validate_datetime(dt.datetime(2026, 6, 1, 10, 15))
    assert task.validate_datetime(dt.datetime(2026, 6, 1, 23, 15))
    assert not task.validate_datetime(dt.datetime(2026, 6, 1, 10, 16))


def test_marking_reminders_read(cast, handling_case, travel, as_user):
    letter = issue(cast, handling_case, TODAY + dt.timedelta(days=1))
    travel(TODAY + dt.timedelta(days=2))
    assert send_letter_reminders() == 2
    url = reverse("supervision:reminders_read")
    # Only a supervisor clears the issuer's reminders; staff of the organ clear their own.
    assert as_user(cast.handler).post(url, {"to": "issuer"}).status_code == 403
    assert as_user(cast.other).post(url, {"to": "organ"}).status_code == 302  # nothing of theirs
    assert LetterReminder.objects.filter(read_at__isnull=True).count() == 2
    response = as_user(cast.handler).post(url, {"to": "organ", "next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    organ_side = letter.reminders.get(recipient="organ")
    assert organ_side.read_by == cast.handler and organ_side.read_at is not None
    assert "函件答复提醒" not in as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert as_user(cast.supervisor).post(url, {"to": "issuer"}).status_code == 302
    assert not LetterReminder.objects.filter(read_at__isnull=True).exists()
    assert "逾期未答复提醒" not in as_user(cast.supervisor).get(reverse("supervision:desk")).content.decode()
    page = as_user(cast.supervisor).get(reverse("supervision:letter_detail", args=[letter.pk])).content.decode()
    assert "王承办于" in page and "陈督查于" in page
    assert as_user(cast.handler).post(url, {"to": "nobody"}).status_code == 404


@pytest.mark.parametrize("value", [-1, 61])
def test_bad_warning_days_are_refused(settings, value):
    from django.core.exceptions import ImproperlyConfigured

    settings.SUPERVISION_ANSWER_WARN_DAYS = value
    with pytest.raises(ImproperlyConfigured, match="SUPERVISION_ANSWER_WARN_DAYS"):
        sv.conf.answer_warn_days()
