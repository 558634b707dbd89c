"""The deadline engine (engine.py) and its seed (seed.py), on the official 2026 calendar.

Counting (REGULATION §4): calendar days run from the day after the event, and a last day on a rest
day or holiday moves to the next working day (民法典第201、203条); working days skip weekends and
holidays and count 调休 make-up days. A year the calendar does not cover is refused, never guessed.

The 2026 arrangement used below (国务院办公厅通知): 春节 02-15…02-23 with 调休 Saturdays 02-14 and
02-28; 端午 06-19…06-21; 中秋 09-25…09-27; 国庆 10-01…10-07 with 调休 Sunday 09-20 and Saturday 10-10.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.cases.test_workflow import open_deadlines, refuse
from tests.conftest import petition_data
from xinfang.cases import workflow
from xinfang.cases.models import RouteKind, State
from xinfang.deadlines.engine import Calendar, CalendarNotCovered, Grade, compute_due, grade
from xinfang.deadlines.models import CalendarDay, CalendarYear, Rule, Unit
from xinfang.deadlines.seed import DEFAULT_RULES, seed_calendar, seed_rules

D = dt.date
CAL, WORK = Unit.CALENDAR, Unit.WORKING


@pytest.fixture
def cal(db) -> Calendar:
    return Calendar.load()


# --------------------------------------------------------------------------- the calendar itself


@pytest.mark.parametrize("day, working", [
    (D(2026, 6, 1), True),  # an ordinary Monday
    (D(2026, 6, 6), False),  # an ordinary Saturday
    (D(2026, 6, 19), False),  # 端午 on a Friday
    (D(2026, 10, 1), False),  # 国庆 on a Thursday
    (D(2026, 10, 3), False),  # 国庆 on a Saturday (a weekend inside the holiday)
    (D(2026, 9, 20), True),  # 调休 Sunday before 国庆
    (D(2026, 10, 10), True),  # 调休 Saturday after 国庆
    (D(2026, 2, 14), True),  # 调休 Saturday before 春节
    (D(2026, 2, 23), False),  # the last day of 春节 (a Monday)
])
def test_working_days_follow_the_official_calendar(cal, day, working):
    assert cal.is_working_day(day) is working


def test_the_seed_stores_only_exceptions_to_the_week(db):
    assert CalendarDay.objects.get(date=D(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).kind == "workday"
    assert not CalendarDay.objects.filter(date=D(2026, 10, 3)).exists()  # a Saturday needs no row
    assert set(CalendarYear.objects.filter(covered=True).values_list("year", flat=True)) >= set(range(2004, 2027))
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_next_working_day(cal):
    assert cal.next_working_day(D(2026, 6, 8)) == D(2026, 6, 8)
    assert cal.next_working_day(D(2026, 6, 6)) == D(2026, 6, 8)
    assert cal.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.next_working_day(D(2026, 2, 15)) == D(2026, 2, 24)


# --------------------------------------------------------------------------- calendar-day limits (第22、23、34条)


def test_a_15_day_limit_counts_from_the_day_after_art22(cal):
    assert cal.due(D(2026, 6, 1), 15, CAL) == D(2026, 6, 16)
    assert cal.due(D(2026, 6, 1), 1, CAL) == D(2026, 6, 2)


def test_a_limit_ending_on_a_weekend_moves_to_monday_art22(cal):
    assert cal.due(D(2026, 7, 3), 15, CAL) == D(2026, 7, 20)  # 07-18 is a Saturday


def test_a_15_day_limit_ending_in_the_national_day_holiday_moves_past_it_art22(cal):
    # 09-20 + 15 = 10-05, inside 国庆 (10-01…10-07): the first working day is 10-08.
    assert cal.due(D(2026, 9, 20), 15, CAL) == D(2026, 10, 8)


def test_a_limit_ending_in_the_dragon_boat_holiday_moves_past_it_art22(cal):
    assert cal.due(D(2026, 6, 4), 15, CAL) == D(2026, 6, 22)  # 06-19 端午 (Friday) → Monday


def test_a_limit_ending_in_spring_festival_moves_past_it_art23(cal):
    assert cal.due(D(2026, 2, 5), 15, CAL) == D(2026, 2, 24)  # 02-20 is inside 春节


def test_a_60_day_handling_limit_art34(cal):
    assert cal.due(D(2026, 6, 1), 60, CAL) == D(2026, 7, 31)
    assert cal.due(D(2026, 8, 7), 60, CAL) == D(2026, 10, 8)  # 10-06 is inside 国庆


def test_a_limit_ending_on_a_tiaoxiu_workday_stays_there_art22(cal):
    # 09-05 + 15 = 09-20, a Sunday that is a 调休 working day: no roll-forward.
    assert cal.due(D(2026, 9, 5), 15, CAL) == D(2026, 9, 20)


# --------------------------------------------------------------------------- working-day limits (第23条)


def test_a_5_working_day_objection_window_spans_the_tiaoxiu_saturday_art23(cal):
    # 10-09 (Fri), 10-10 (调休 Saturday), 10-12, 10-13, 10-14.
    assert cal.due(D(2026, 10, 8), 5, WORK) == D(2026, 10, 14)


def test_a_5_working_day_window_across_the_national_day_holiday_art23(cal):
    # 09-28, 09-29, 09-30, then 国庆; 10-08, 10-09.
    assert cal.due(D(2026, 9, 25), 5, WORK) == D(2026, 10, 9)


def test_working_days_across_spring_festival_art23(cal):
    # 02-13 (Fri), 02-14 (调休 Saturday), then 春节 to 02-23; 02-24, 02-25, 02-26.
    assert cal.due(D(2026, 2, 12), 5, WORK) == D(2026, 2, 26)
    # From the eve of the holiday, the 调休 Saturday 02-28 counts too.
    assert cal.due(D(2026, 2, 14), 5, WORK) == D(2026, 2, 28)


def test_working_days_between(cal):
    assert cal.working_days_between(D(2026, 10, 8), D(2026, 10, 14)) == 5
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert cal.working_days_between(D(2026, 6, 8), D(2026, 6, 8)) == 0
    assert cal.working_days_between(D(2026, 6, 8), D(2026, 6, 1)) == 0


# --------------------------------------------------------------------------- days not counted (第36条)


def test_hearing_days_extend_the_raw_limit_before_the_roll_forward_art36(cal):
    # 06-04 + 30 = 07-04 (Saturday) → 07-06; with 3 hearing days: 06-04 + 33 = 07-07 (Tuesday).
    assert cal.due(D(2026, 6, 4), 30, CAL) == D(2026, 7, 6)
    assert cal.due(D(2026, 6, 4), 30, CAL, extra_days=3) == D(2026, 7, 7)
    # A hearing that pushes the end into a holiday still moves past it.
    assert cal.due(D(2026, 9, 1), 30, CAL, extra_days=2) == D(2026, 10, 8)


def test_uncounted_days_on_a_working_day_limit_are_calendar_days(cal):
    assert cal.due(D(2026, 10, 8), 5, WORK, extra_days=2) == D(2026, 10, 16)
    assert cal.due(D(2026, 10, 8), 5, WORK, extra_days=3) == D(2026, 10, 19)  # 10-17 is a Saturday


# --------------------------------------------------------------------------- uncovered years


def test_a_deadline_in_an_uncovered_year_is_refused_not_guessed(cal):
    with pytest.raises(CalendarNotCovered) as info:
        cal.due(D(2026, 12, 20), 15, CAL)
    assert info.value.year == 2027
    message = str(info.value)
    assert message.startswith("2027年的节假日安排尚未录入日历") and "管理员" in message
    with pytest.raises(CalendarNotCovered):
        cal.due(D(2026, 12, 28), 5, WORK)
    with pytest.raises(CalendarNotCovered):
        cal.is_working_day(D(2027, 1, 4))


def test_a_year_present_but_not_marked_covered_is_refused(db):
    CalendarYear.objects.create(year=2027, covered=False)
    with pytest.raises(CalendarNotCovered):
        Calendar.load().due(D(2026, 12, 20), 15, CAL)


def test_a_limit_ending_on_the_last_day_of_a_covered_year_is_computed(cal):
    assert cal.due(D(2026, 12, 16), 15, CAL) == D(2026, 12, 31)  # a Thursday


def test_a_limit_in_an_uncovered_year_is_pending_and_the_action_goes_on(cast, make_case, travel):
    """Accepting on 11-15 starts route ⑥'s 60 days (Art.34): 2027-01-14, a year the calendar does
    not cover. The engine gives no date (never guessed); the acceptance stands with the limit
    pending, shown as 待定 with the missing year."""
    travel(D(2026, 11, 15))
    case = make_case("pending")  # acceptance due 11-30
    case = workflow.accept_case(cast.handler, case, route="r6")
    assert case.state == State.HANDLING
    handle = case.deadlines.get(rule_id="handle", is_open=True)
    assert handle.due_on is None and handle.pending_year == 2027
    assert not handle.has_passed(D(2030, 1, 1))
    case.refresh_from_db()
    assert case.due_on is None and case.due_pending_year == 2027 and case.grade is None
    assert case.due_pending_label == "期限待定(2027年节假日安排未录入)"


def test_registration_late_in_the_year_is_kept_with_its_route_limit_pending(cast, travel):
    at = dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    travel(at + dt.timedelta(hours=1))
    case = workflow.register_case(cast.registrar, petition_data(received_at=at), [workflow.PetitionerData(name="刘市民")])
    route = case.deadlines.get(rule_id="route")
    assert (route.due_on, route.pending_year) == (None, 2027)
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
    assert case.deadlines.get(rule_id="accept", is_open=True).pending_year == 2027
    # The 5-working-day objection window is pending too, so it has not run out.
    assert workflow.object_case(cast.handler, case, reason="不属于本机关职权").state == State.RETURNED


def test_an_extension_waits_for_the_pending_date(cast, make_case, travel):
    """The 延期告知书 states the old and new dates (Art.34), so no extension while they are unknown."""
    travel(D(2026, 11, 15))
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6")
    exc = refuse(workflow.extend_deadline, cast.head, case, days=30, reason="需要现场勘验")
    assert "2027年节假日安排录入后确定" in exc.message


def test_a_pending_request_window_keeps_the_case_open(cast, make_case, travel):
    """A reply on 12-15 opens the 30-day 复查 window (Art.35) into 2027: pending, so the case may
    not be filed and the sweep leaves it, while the petitioner may still ask for 复查."""
    travel(D(2026, 11, 1))
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6")  # due 12-31
    travel(D(2026, 12, 15))
    case = workflow.reply_case(cast.handler, case, outcome="support", opinion="已处理。", facts="属实。", basis="有关规定")
    window = case.deadlines.get(rule_id="review_request", is_open=True)
    assert window.due_on is None and window.pending_year == 2027
    travel(D(2026, 12, 31))
    exc = refuse(workflow.close_case, cast.registrar, case)
    assert "待定(2027年节假日安排未录入)" in exc.message
    assert workflow.sweep_closable(D(2026, 12, 31)) == 0
    assert workflow.request_review(cast.reviewer, case, reason="对处理意见不服").state == State.REVIEW


# --------------------------------------------------------------------------- rules and compute_due


def test_the_seeded_rules_match_the_regulation(db):
    rules = {r.code: r for r in Rule.objects.all()}
    expected = {
        "route": (15, CAL, "条例第22条"), "accept": (15, CAL, "条例第23条"), "object": (5, WORK, "条例第23条"),
        "handle": (60, CAL, "条例第34条"), "extension": (30, CAL, "条例第34条"),
        "review_request": (30, CAL, "条例第35条"), "review": (30, CAL, "条例第35条"),
        "re_review_request": (30, CAL, "条例第36条"), "re_review": (30, CAL, "条例第36条"),
        "evaluate": (30, CAL, "本地设置"),
    }
    for code, (days, unit, article) in expected.items():
        assert (rules[code].days, rules[code].unit, rules[code].article) == (days, unit, article), code
    # The petitioner's windows are not duties of an organ (they never make a case overdue).
    assert {c for c, r in rules.items() if not r.is_duty} == {
        "object", "extension", "evaluate", "review_request", "re_review_request"}
    assert str(rules["object"]) == "异议退回期限(5个工作日)"


def test_compute_due_uses_the_rule_or_the_given_days(db):
    accept = Rule.objects.get(code="accept")
    assert compute_due(accept, D(2026, 9, 20)) == D(2026, 10, 8)
    assert compute_due(accept, D(2026, 6, 1), days=10) == D(2026, 6, 11)
    accept.unit = WORK
    assert compute_due(accept, D(2026, 6, 1)) == D(2026, 6, 23)  # 06-19 端午 is skipped


def test_seeding_again_keeps_an_administrators_edits(db):
    Rule.objects.filter(code="accept").update(days=10, unit=WORK)
    CalendarDay.objects.filter(date=D(2026, 10, 7)).update(kind="workday", name="本地调整")
    seed_rules(Rule)
    assert seed_calendar(CalendarYear, CalendarDay) == 0
    assert Rule.objects.filter(code="accept", days=10, unit=WORK).exists()
    assert CalendarDay.objects.get(date=D(2026, 10, 7)).name == "本地调整"
    assert Rule.objects.count() == len(DEFAULT_RULES)


# --------------------------------------------------------------------------- graded status


@pytest.mark.parametrize("today, expected", [
    (D(2026, 6, 10), Grade.NORMAL),
    (D(2026, 6, 13), Grade.NORMAL),  # three days left: not yet
    (D(2026, 6, 14), Grade.NEAR),
    (D(2026, 6, 16), Grade.NEAR),  # the due day itself is still in time
    (D(2026, 6, 17), Grade.OVERDUE),
])
def test_grade_thresholds(today, expected):
    assert grade(D(2026, 6, 16), today, 3) == expected


def test_grade_without_a_threshold_or_a_date():
    assert grade(D(2026, 6, 16), D(2026, 6, 16), 0) == Grade.NORMAL
    assert grade(D(2026, 6, 16), D(2026, 6, 17), 0) == Grade.OVERDUE
    assert grade(None, D(2026, 6, 16), 3) is None
    assert Grade.LABELS == {"normal": "正常", "near": "临期", "overdue": "超期"}


def test_case_grade_agrees_with_the_engine_day_by_day_art22(cast, make_case, travel):
    case = make_case()  # route due 06-16, warn 3 days
    assert (case.due_on, case.due_warn_on) == (D(2026, 6, 16), D(2026, 6, 14))
    labels = {}
    for day in (D(2026, 6, 13), D(2026, 6, 14), D(2026, 6, 16), D(2026, 6, 17)):
        travel(day)
        labels[day] = case.grade_label
        assert case.grade == grade(case.due_on, day, Rule.objects.get(code="route").warn_days)
    assert labels == {D(2026, 6, 13): "正常", D(2026, 6, 14): "临期", D(2026, 6, 16): "临期", D(2026, 6, 17): "超期"}


def test_a_case_with_no_running_duty_has_no_grade(cast, make_case):
    replied = make_case("replied")
    assert replied.due_on is None and replied.grade is None and replied.grade_label == ""
    closed = workflow.inform_case(cast.registrar, make_case(), channel="诉讼", reason="属于诉讼")
    assert closed.grade is None


def test_the_running_duty_follows_the_holder(cast, make_case):
    case = make_case("pending")
    assert open_deadlines(case) == {"accept": D(2026, 6, 16), "object": D(2026, 6, 8)}
    # The objection window is the organ's right, not its duty: the case is due on the acceptance day.
    assert case.due_on == D(2026, 6, 16)
    case = workflow.accept_case(cast.handler, case, route="r6")
    assert (case.due_on, case.due_warn_on) == (D(2026, 7, 31), D(2026, 7, 25))  # handle warns 7 days ahead


def test_a_hand_made_calendar_without_a_database():
    cal = Calendar(years=frozenset({2030}), holidays=frozenset({D(2030, 1, 1)}), workdays=frozenset({D(2030, 1, 5)}))
    assert cal.due(D(2029, 12, 31), 1, CAL) == D(2030, 1, 2)  # a holiday moves the end
    assert cal.due(D(2030, 1, 3), 2, WORK) == D(2030, 1, 5)  # Friday, then the make-up Saturday
    assert re.search("2031年", str(pytest.raises(CalendarNotCovered, cal.due, D(2030, 12, 30), 5, CAL).value))
