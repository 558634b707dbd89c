"""The simplified track (简易办理): chosen at acceptance, it runs the shorter simple_handle limit."""
from __future__ import annotations

import datetime as dt

import pytest

from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import RouteKind, State
from xinfang.deadlines.models import CalendarYear, Rule
from xinfang.handling.forms import AcceptForm


def test_simple_rule_is_seeded_with_ten_days(cast):
    rule = Rule.objects.get(code=workflow.SIMPLE_RULE)
    assert (rule.days, rule.unit, rule.is_duty) == (10, "calendar", True)


def test_simple_track_runs_the_shorter_limit(cast, make_case):
    case = make_case("pending")
    case = workflow.accept_case(cast.handler, case, route="r6", track=workflow.TRACK_SIMPLE)
    # Accepted on Monday 2026-06-01: ten calendar days from the day after → 2026-06-11 (a Thursday).
    assert case.due_on == dt.date(2026, 6, 11)
    assert case.deadlines.filter(rule_id="simple_handle", is_open=True).count() == 1
    assert not case.deadlines.filter(rule_id="handle").exists()
    assert case.events.get(action="accept").data["track"] == "simple"


def test_normal_track_keeps_sixty_days(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6")
    assert case.due_on == dt.date(2026, 7, 31)
    assert "track" not in case.events.get(action="accept").data


def test_simple_limit_follows_the_rule_setting(cast, make_case):
    Rule.objects.filter(code="simple_handle").update(days=5)
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    assert case.due_on == dt.date(2026, 6, 8)  # 06-06 is a Saturday: moved to the next working day


def test_simple_case_goes_overdue_after_its_short_limit(cast, make_case, travel):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    travel(dt.date(2026, 6, 11))
    case.refresh_from_db()
    assert case.grade == "near"
    travel(dt.date(2026, 6, 12))
    assert case.grade == "overdue"


def test_reply_closes_the_simple_limit(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    case = workflow.reply_case(cast.handler, case, outcome="support", opinion="已维修。", facts="属实。", basis="《物业管理条例》")
    assert case.state == State.REPLIED
    assert not case.deadlines.filter(rule_id="simple_handle", is_open=True).exists()


def test_simple_case_can_be_extended_once(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    case = workflow.extend_deadline(cast.head, case, days=10, reason="需现场核查")
    assert case.due_on == dt.date(2026, 6, 22)  # 06-21 is a Sunday


def test_unknown_track_refused_and_nothing_changed(cast, make_case):
    case = make_case("pending")
    with pytest.raises(WorkflowError, match="请选择办理程序"):
        workflow.accept_case(cast.handler, case, route="r6", track="fast")
    case.refresh_from_db()
    assert case.state == State.PENDING


def test_assigned_case_refuses_simple_track(cast):
    from tests.conftest import petition_data

    case = workflow.register_case(cast.registrar, petition_data(), [workflow.PetitionerData(name="刘市民")])
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.ASSIGN, organ=cast.housing,
                               assigned_due=dt.date(2026, 6, 30))
    with pytest.raises(WorkflowError, match="交办事项"):
        workflow.accept_case(cast.handler, case, route="r6", track="simple")
    case.refresh_from_db()
    assert case.state == State.PENDING
    assert "track" not in AcceptForm(case=case).fields


def test_simple_limit_pending_when_calendar_missing(cast, make_case, travel):
    # Accepting on 2026-12-28 the 10-day limit ends in 2027, whose arrangement is not entered.
    CalendarYear.objects.filter(year__gte=2027).delete()
    case = make_case("pending")
    travel(dt.date(2026, 12, 28))
    case = workflow.accept_case(cast.handler, case, route="r6", track="simple")
    assert case.due_on is None and case.due_pending_year == 2027


def test_accept_form_offers_the_track_with_its_days(cast, make_case):
    case = make_case("pending")
    form = AcceptForm(data={"route": "r6", "track": "simple", "note": ""}, case=case)
    assert "10" in str(dict(form.fields["track"].choices)["simple"])
    assert form.is_valid(), form.errors
    case = form.submit(cast.handler)
    assert case.due_on == dt.date(2026, 6, 11)


def test_case_page_shows_the_track(client, cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    client.force_login(cast.handler)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "简易办理" in page and "2026-06-11" in page
