"""Editing the calendar or a rule recomputes the open deadlines (REGULATION §4).

The calendar is data an administrator edits (a holiday the State Council announces late, a local
调休, next year's arrangement). deadlines/signals.py schedules `recompute_open_deadlines` with
transaction.on_commit, so these tests run the callbacks with
django_capture_on_commit_callbacks(execute=True), as a real commit would.
"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.cases.test_workflow import open_deadlines
from xinfang.cases import workflow
from xinfang.cases.models import Case, RouteKind
from xinfang.deadlines.models import CalendarDay, CalendarYear, Rule

D = dt.date


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` — run what the edit scheduled for after the commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_new_holiday_on_the_due_day_moves_the_deadline_and_the_case_art22(make_case, commit):
    case = make_case()  # route due 06-16 (Tuesday), warning from 06-14
    with commit():
        day = CalendarDay.objects.create(date=D(2026, 6, 16), kind="holiday", name="地方性假日")
    assert open_deadlines(case) == {"route": D(2026, 6, 17)}
    assert (fresh(case).due_on, fresh(case).due_warn_on) == (D(2026, 6, 17), D(2026, 6, 15))
    with commit():
        day.delete()
    assert open_deadlines(case) == {"route": D(2026, 6, 16)} and fresh(case).due_on == D(2026, 6, 16)


def test_nothing_moves_before_the_edit_commits(make_case, django_capture_on_commit_callbacks):
    case = make_case()
    with django_capture_on_commit_callbacks() as callbacks:
        CalendarDay.objects.create(date=D(2026, 6, 16), kind="holiday", name="地方性假日")
    assert open_deadlines(case) == {"route": D(2026, 6, 16)}  # still the old day inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    assert open_deadlines(case) == {"route": D(2026, 6, 17)}


def test_a_holiday_inside_a_working_day_window_lengthens_it_art23(cast, make_case, commit):
    case = make_case("pending")  # objection window 06-02…06-08
    with commit():
        CalendarDay.objects.create(date=D(2026, 6, 3), kind="holiday", name="地方性假日")
    assert open_deadlines(case) == {"accept": D(2026, 6, 16), "object": D(2026, 6, 9)}


def test_a_new_tiaoxiu_workday_ends_a_limit_on_that_saturday_art22(make_case, travel, commit):
    travel(D(2026, 7, 3))
    case = make_case(received_at=dt.datetime(2026, 7, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert open_deadlines(case) == {"route": D(2026, 7, 20)}  # 07-18 is a Saturday
    with commit():
        CalendarDay.objects.create(date=D(2026, 7, 18), kind="workday", name="调休上班")
    assert open_deadlines(case) == {"route": D(2026, 7, 18)} and fresh(case).due_on == D(2026, 7, 18)


def test_finished_deadlines_keep_their_dates(cast, make_case, commit):
    case = make_case("pending")  # the bureau's route deadline (due 06-16) was met on 06-01
    with commit():
        CalendarDay.objects.create(date=D(2026, 6, 16), kind="holiday", name="地方性假日")
    assert case.deadlines.get(rule_id="route").due_on == D(2026, 6, 16)
    assert open_deadlines(case)["accept"] == D(2026, 6, 17)


def test_an_assigners_fixed_date_is_not_moved_art22(cast, make_case, commit):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.ASSIGN, organ=cast.housing,
                               assigned_due=D(2026, 6, 30))
    case = workflow.accept_case(cast.handler, case, route="r6")
    with commit():
        CalendarDay.objects.create(date=D(2026, 6, 30), kind="holiday", name="地方性假日")
    assert open_deadlines(case) == {"assign": D(2026, 6, 30)}


def test_hearing_days_stay_uncounted_after_a_calendar_edit_art36(cast, make_case, travel, commit):
    case = make_case("reviewed")
    travel(D(2026, 6, 4))
    case = workflow.request_re_review(cast.re_reviewer, case, reason="不服")
    case = workflow.record_hearing(cast.re_reviewer, case, days=3, note="组织听证")
    assert open_deadlines(case)["re_review"] == D(2026, 7, 7)
    with commit():
        CalendarDay.objects.create(date=D(2026, 7, 7), kind="holiday", name="地方性假日")
    assert open_deadlines(case)["re_review"] == D(2026, 7, 8)


def test_entering_next_years_arrangement_fills_in_a_pending_limit(cast, make_case, travel, commit):
    """Late in 2026 a 60-day limit (Art.34) reaches into 2027. Until the administrator marks 2027
    covered, the case is accepted with that limit pending (no date guessed); marking 2027 covered
    fills it in; a date computed while 2027 was covered is kept when it is un-marked and recomputed
    when it is marked again."""
    travel(D(2026, 11, 2))
    case = make_case("pending")
    case = workflow.accept_case(cast.handler, case, route="r6")
    handle = case.deadlines.get(rule_id="handle")
    assert (handle.due_on, handle.pending_year) == (None, 2027)
    assert "待定(2027年节假日安排未录入)" in handle.pending_label
    assert fresh(case).due_on is None and fresh(case).due_pending_year == 2027

    with commit():
        year = CalendarYear.objects.create(year=2027, covered=True, source="管理员录入")
    assert open_deadlines(case) == {"handle": D(2027, 1, 1)}  # no 2027 holidays entered yet
    assert fresh(case).due_on == D(2027, 1, 1) and fresh(case).due_pending_year is None

    with commit():
        year.covered = False
        year.save()
        CalendarDay.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
    assert open_deadlines(case) == {"handle": D(2027, 1, 1)}  # not covered: kept, never guessed

    with commit():
        year.covered = True
        year.save()
    assert open_deadlines(case) == {"handle": D(2027, 1, 4)} and fresh(case).due_on == D(2027, 1, 4)


def test_switching_a_rule_to_working_days_recomputes_it(make_case, commit):
    case = make_case("pending")
    rule = Rule.objects.get(code="accept")
    rule.unit = "working"
    with commit():
        rule.save()
    # Fifteen working days from 06-01, skipping 端午 (06-19): 06-23.
    assert open_deadlines(case)["accept"] == D(2026, 6, 23) and fresh(case).due_on == D(2026, 6, 23)


def test_changing_a_warning_threshold_moves_the_warning_day(make_case, commit):
    case = make_case()
    assert fresh(case).due_warn_on == D(2026, 6, 14)
    rule = Rule.objects.get(code="route")
    rule.warn_days = 5
    with commit():
        rule.save()
    assert (fresh(case).due_on, fresh(case).due_warn_on) == (D(2026, 6, 16), D(2026, 6, 12))
    rule.warn_days = 0
    with commit():
        rule.save()
    assert fresh(case).due_warn_on is None


def test_recompute_reports_how_many_deadlines_moved(make_case):
    make_case("pending")
    make_case()
    assert workflow.recompute_open_deadlines() == 0
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2026, 6, 16), kind="holiday")])  # no signal
    assert workflow.recompute_open_deadlines() == 2  # one route limit, one acceptance limit
    assert workflow.recompute_open_deadlines() == 0
