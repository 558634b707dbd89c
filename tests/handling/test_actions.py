"""The action pages (xinfang.handling.views.case_action): one form per workflow transition.

For every action: the right user succeeds through the page, a user of another organ gets 404, an
anonymous user is sent to log in, the wrong role or state is refused with access.py's message and
nothing changes, and a refusal by the service re-renders the form with the message (status 400).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from xinfang.cases import workflow
from xinfang.cases.access import transition_refusal
from xinfang.cases.models import Case, Category, Closure, State
from xinfang.documents.models import Document
from xinfang.handling.forms import ACTION_FORMS
from tests.conftest import petition_data

pytestmark = pytest.mark.django_db

def url(case, action):
    return reverse("case_action", args=[case.pk, action])


def snapshot(case) -> tuple:
    """What a refused action must leave untouched."""
    case = Case.objects.get(pk=case.pk)
    return (case.state, case.current_organ_id, case.version, case.due_on, case.events.count(), case.documents.count(),
            case.deadlines.count())


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@dataclass
class Scenario:
    """A case ready for `action`, the user who may take it, valid input and the expected result."""

    start: str  # make_case state, or a special setup below
    actor: str  # attribute of the cast
    data: Callable  # cast -> POST data
    to_state: str
    documents: tuple[str, ...] = ()


SCENARIOS = {
    "route": Scenario("registered", "registrar", lambda c: {"kind": "forward", "organ": c.housing.pk, "note": "请依法处理"},
                      State.PENDING, ("转送单",)),
    "inform": Scenario("registered", "registrar", lambda c: {"channel": "arbitration", "reason": "劳动合同纠纷应申请劳动人事争议仲裁"},
                       State.CLOSED, ("告知书",)),
    "not_accept": Scenario("registered", "registrar", lambda c: {"reason": "已由人民法院作出生效判决"},
                           State.CLOSED, ("不予受理告知书",)),
    "accept": Scenario("pending", "handler", lambda c: {"route": "r6", "note": ""}, State.HANDLING, ("受理告知书",)),
    "object": Scenario("pending", "handler", lambda c: {"reason": "该事项属于人社部门职责"}, State.RETURNED),
    "decide_objection": Scenario("returned", "registrar", lambda c: {"agree": "yes", "note": ""}, State.REGISTERED),
    "extend": Scenario("handling", "head", lambda c: {"days": "15", "reason": "需委托第三方检测电梯安全状况"},
                       State.HANDLING, ("延期告知书",)),
    "reply": Scenario("handling", "handler", lambda c: {"outcome": "support", "opinion": "责成物业十日内修复电梯",
                                                        "facts": "经现场核查,电梯确有故障", "basis": "《物业管理条例》",
                                                        "delivered_on": "2026-06-01"},
                      State.REPLIED, ("信访处理意见书",)),
    "evaluate": Scenario("replied", "handler", lambda c: {"organ_satisfaction": "satisfied", "bureau_satisfaction": "basic"},
                         State.REPLIED),
    "request_review": Scenario("replied", "reviewer", lambda c: {"reason": "对处理意见不服", "requested_on": "2026-06-01"},
                               State.REVIEW),
    "review": Scenario("review", "reviewer", lambda c: {"outcome": "uphold", "opinion": "原处理意见事实清楚,予以维持"},
                       State.REVIEWED, ("复查意见书",)),
    "request_re_review": Scenario("reviewed", "re_reviewer", lambda c: {"reason": "对复查意见不服", "requested_on": "2026-06-01"},
                                  State.RE_REVIEW),
    "hearing": Scenario("re_review", "re_reviewer", lambda c: {"days": "5", "note": "组织听证,双方到场陈述"}, State.RE_REVIEW),
    "re_review": Scenario("re_review", "re_reviewer", lambda c: {"outcome": "uphold", "opinion": "复查意见正确,予以维持"},
                          State.CLOSED, ("复核意见书",)),
    "close": Scenario("closable", "handler", lambda c: {}, State.CLOSED),
}


@pytest.fixture
def ready(cast, make_case, travel):
    """ready(action) → a case in which the scenario's actor may take `action` now."""
    def make(action):
        start = SCENARIOS[action].start
        if start == "returned":
            return workflow.object_case(cast.handler, make_case("pending"), reason="该事项属于人社部门职责")
        if start == "closable":
            case = make_case("replied")
            travel(dt.date(2026, 7, 15))  # the 30-day 复查 window (Art.35) has passed
            return case
        return make_case(start)
    return make


def test_every_transition_but_register_has_a_form_and_a_scenario():
    assert set(ACTION_FORMS) == set(workflow.TRANSITIONS) - {"register"}
    assert set(SCENARIOS) == set(ACTION_FORMS)


@pytest.mark.parametrize("action", list(SCENARIOS))
def test_right_user_gets_the_form_and_succeeds(action, cast, ready, as_user):
    scenario = SCENARIOS[action]
    case = ready(action)
    client = as_user(getattr(cast, scenario.actor))
    page = client.get(url(case, action))
    assert page.status_code == 200
    assert str(workflow.TRANSITIONS[action].label) in page.content.decode()
    docs_before = case.documents.count()

    response = client.post(url(case, action), scenario.data(cast))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    case.refresh_from_db()
    assert case.state == scenario.to_state
    assert case.events.order_by("-pk").first().action == action
    new_docs = list(case.documents.order_by("pk")[docs_before:])
    assert [d.title for d in new_docs] == list(scenario.documents)
    message = " ".join(flash(response))
    assert str(workflow.TRANSITIONS[action].label) in message
    for doc in new_docs:
        assert doc.number in message and doc.title in message


@pytest.mark.parametrize("action", SCENARIOS)
def test_another_organ_gets_404_and_anonymous_is_sent_to_log_in(action, cast, ready, as_user, client):
    case = ready(action)
    before = snapshot(case)
    other = as_user(cast.other)  # 人社局: every role, but never involved in the case
    assert other.get(url(case, action)).status_code == 404
    assert other.post(url(case, action), SCENARIOS[action].data(cast)).status_code == 404
    for method in (client.get, client.post):
        response = method(url(case, action))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert snapshot(case) == before


@pytest.mark.parametrize("action", SCENARIOS)
def test_wrong_role_is_refused_with_the_reason_and_nothing_changes(action, cast, ready, as_user):
    """The bureau's supervisor sees every case registered there but takes no transition."""
    case = ready(action)
    before = snapshot(case)
    client = as_user(cast.supervisor)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    reason = transition_refusal(cast.supervisor, case, action)
    assert reason and "须由" in reason
    page = client.get(url(case, action))
    assert page.status_code == 403 and reason in page.content.decode()
    refused = client.post(url(case, action), SCENARIOS[action].data(cast))
    assert refused.status_code == 403 and reason in refused.content.decode()
    assert snapshot(case) == before


@pytest.mark.parametrize("action", SCENARIOS)
def test_wrong_state_is_refused_with_the_reason_and_nothing_changes(action, cast, make_case, as_user):
    user = getattr(cast, SCENARIOS[action].actor)
    case = make_case("closed")  # every organ of the cast's actors has had this case; only evaluate starts here
    if action == "evaluate":
        case, user = make_case("registered"), cast.registrar
    client = as_user(user)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    before = snapshot(case)
    reason = transition_refusal(user, case, action)
    assert reason and "不能进行" in reason
    page = client.get(url(case, action))
    assert page.status_code == 403 and reason in page.content.decode()
    assert client.post(url(case, action), SCENARIOS[action].data(cast)).status_code == 403
    assert snapshot(case) == before


def test_unknown_or_register_action_is_404(cast, make_case, as_user):
    case = make_case("registered")
    client = as_user(cast.registrar)
    assert client.get(url(case, "register")).status_code == 404
    assert client.get(url(case, "explode")).status_code == 404


def test_action_form_inline_with_htmx_is_a_fragment(cast, make_case, as_user):
    case = make_case("pending")
    response = as_user(cast.handler).get(url(case, "accept"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'action="{url(case, "accept")}"' in html and "csrfmiddlewaretoken" in html
    assert "HX-Request" in response["Vary"]


# --------------------------------------------------------------------------- service refusals (400)


def test_refused_post_shows_the_message_on_the_field_and_saves_nothing(cast, make_case, as_user):
    """交办 needs the assigner's deadline (Art.22): the service's message lands on that field."""
    case = make_case("registered")
    before = snapshot(case)
    response = as_user(cast.registrar).post(url(case, "route"), {"kind": "assign", "organ": cast.housing.pk})
    assert response.status_code == 400
    assert response.context["form"].errors["assigned_due"] == ["交办须指定办结期限。"]
    assert "交办须指定办结期限。" in response.content.decode()
    assert snapshot(case) == before


def test_route_offers_active_organs_other_than_the_current_one(cast, make_case, as_user):
    cast.labour.is_active = False
    cast.labour.save()
    case = make_case("registered")
    form = as_user(cast.registrar).get(url(case, "route")).context["form"]
    organs = set(form.fields["organ"].queryset)
    assert cast.housing in organs and cast.bureau not in organs and cast.labour not in organs
    response = as_user(cast.registrar).post(url(case, "route"), {"kind": "forward", "organ": cast.labour.pk})
    assert response.status_code == 400 and "organ" in response.context["form"].errors
    assert Case.objects.get(pk=case.pk).state == State.REGISTERED


def test_report_is_never_routed_to_the_accused_organ(cast, as_user):
    """Art.30 ¶3."""
    case = workflow.register_case(cast.registrar, petition_data(category=Category.REPORT, accused_organ=cast.urban),
                                  [workflow.PetitionerData(name="检举人")])
    before = snapshot(case)
    response = as_user(cast.registrar).post(url(case, "route"), {"kind": "forward", "organ": cast.urban.pk})
    assert response.status_code == 400
    assert "检举控告材料不得转给被检举控告的单位" in " ".join(response.context["form"].errors["organ"])
    assert snapshot(case) == before


def test_accept_offers_only_the_routes_of_the_category(cast, make_case, as_user):
    """Art.29–31: a suggestion is studied, a claim takes one of the six routes."""
    suggestion = make_case("pending", category=Category.SUGGESTION)
    client = as_user(cast.handler)
    choices = [v for v, _l in client.get(url(suggestion, "accept")).context["form"].fields["route"].choices]
    assert choices == ["suggestion"]
    response = client.post(url(suggestion, "accept"), {"route": "r6"})
    assert response.status_code == 400 and "route" in response.context["form"].errors
    assert Case.objects.get(pk=suggestion.pk).state == State.PENDING
    claim = make_case("pending")
    claim_choices = [v for v, _l in client.get(url(claim, "accept")).context["form"].fields["route"].choices]
    assert claim_choices == ["r1", "r2", "r3", "r4", "r5", "r6"]


def test_extend_is_refused_beyond_30_days_and_a_second_time(cast, make_case, as_user):
    """Art.34: once, at most 30 days, approved by the head."""
    case = make_case("handling")
    client = as_user(cast.head)
    before = snapshot(case)
    response = client.post(url(case, "extend"), {"days": "31", "reason": "材料复杂"})
    assert response.status_code == 400 and "days" in response.context["form"].errors
    assert snapshot(case) == before

    assert client.post(url(case, "extend"), {"days": "30", "reason": "材料复杂"}).status_code == 302
    case.refresh_from_db()
    assert case.extended and case.due_on == dt.date(2026, 8, 31)  # 90 days from 2026-06-01, Monday
    before = snapshot(case)
    response = client.post(url(case, "extend"), {"days": "5", "reason": "再延一次"})
    assert response.status_code == 400
    assert "办理期限只能延长一次(条例第34条)。" in response.content.decode()
    assert snapshot(case) == before


def test_handler_without_head_role_may_not_extend(cast, make_case, as_user):
    case = make_case("handling")
    response = as_user(cast.handler).get(url(case, "extend"))
    assert response.status_code == 403 and "单位负责人" in response.content.decode()


def test_assigned_case_reply_requires_the_completion_report(cast, as_user):
    """Art.22: a 交办 case is answered with a 办结报告 to the assigner."""
    case = workflow.register_case(cast.registrar, petition_data(), [workflow.PetitionerData(name="刘市民")])
    registrar, handler = as_user(cast.registrar), as_user(cast.handler)
    response = registrar.post(url(case, "route"), {"kind": "assign", "organ": cast.housing.pk, "assigned_due": "2026-06-20"})
    assert response.status_code == 302
    assert "交办单" in " ".join(flash(response))
    assert handler.post(url(case, "accept"), {"route": "r6"}).status_code == 302
    case.refresh_from_db()
    assert case.report_required and case.due_on == dt.date(2026, 6, 20)  # the assigner's date (Art.22)
    form = handler.get(url(case, "reply")).context["form"]
    assert form.fields["report"].required
    data = {"outcome": "support", "opinion": "已修复", "facts": "电梯故障属实", "basis": "《特种设备安全法》"}
    response = handler.post(url(case, "reply"), data)
    assert response.status_code == 400 and "report" in response.context["form"].errors
    assert Case.objects.get(pk=case.pk).state == State.HANDLING
    assert handler.post(url(case, "reply"), {**data, "report": "电梯已于6月5日修复,经检测合格。"}).status_code == 302
    assert Case.objects.get(pk=case.pk).state == State.REPLIED


def test_reply_outcomes_follow_the_category(cast, make_case, as_user):
    case = make_case("handling", category=Category.SUGGESTION)
    form = as_user(cast.handler).get(url(case, "reply")).context["form"]
    assert [v for v, _l in form.fields["outcome"].choices] == ["adopted", "partly", "not_adopted"]
    assert "report" not in form.fields  # not a 交办 case


def test_reply_delivery_date_in_the_future_is_refused(cast, make_case, as_user):
    case = make_case("handling")
    before = snapshot(case)
    response = as_user(cast.handler).post(url(case, "reply"), {"outcome": "support", "opinion": "同意", "facts": "属实", "basis": "依据",
                                                               "delivered_on": "2026-06-02"})
    assert response.status_code == 400
    assert response.context["form"].errors["delivered_on"] == ["送达日期不能晚于今天。"]
    assert snapshot(case) == before


def test_review_request_after_the_window_is_refused(cast, make_case, as_user, travel):
    """Art.35: 复查 must be asked within 30 days of delivery."""
    case = make_case("replied")
    travel(dt.date(2026, 7, 10))
    before = snapshot(case)
    response = as_user(cast.reviewer).post(url(case, "request_review"), {"reason": "不服", "requested_on": "2026-07-10"})
    assert response.status_code == 400
    assert "申请期限已于2026-07-01届满" in response.content.decode()
    assert snapshot(case) == before


def test_close_before_the_window_ends_is_refused(cast, make_case, as_user):
    case = make_case("replied")
    before = snapshot(case)
    response = as_user(cast.handler).post(url(case, "close"))
    assert response.status_code == 400
    assert "届满前不能办结归档" in response.content.decode()
    assert snapshot(case) == before


def test_objection_disagreement_needs_a_reason(cast, ready, as_user):
    """Art.23 ¶3: the sender either takes the file back or sends it back with reasons."""
    case = ready("decide_objection")
    client = as_user(cast.registrar)
    response = client.post(url(case, "decide_objection"), {"agree": "no", "note": ""})
    assert response.status_code == 400 and "note" in response.context["form"].errors
    assert Case.objects.get(pk=case.pk).state == State.RETURNED
    assert client.post(url(case, "decide_objection"), {"agree": "no", "note": "属于住建部门职责"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.PENDING and case.current_organ == cast.housing


def test_inform_prints_the_channel_name(cast, make_case, as_user):
    case = make_case("registered")
    as_user(cast.registrar).post(url(case, "inform"), {"channel": "admin_review", "reason": "属行政复议范围"})
    case.refresh_from_db()
    assert case.closure == Closure.INFORMED
    assert Document.objects.get(case=case).fields["channel"] == "行政复议"


def test_two_people_posting_the_same_action_one_succeeds(cast, make_case, as_user):
    """The second accept sees the new state and is refused; nothing is written twice."""
    case = make_case("pending")
    first, second = as_user(cast.handler), as_user(cast.head)
    first.get(url(case, "accept"))
    second.get(url(case, "accept"))
    assert first.post(url(case, "accept"), {"route": "r6"}).status_code == 302
    assert second.post(url(case, "accept"), {"route": "r5"}).status_code == 403
    case.refresh_from_db()
    assert case.handling_route == "r6" and case.events.filter(action="accept").count() == 1


# --------------------------------------------------------------------------- the whole life through pages


def test_full_lifecycle_through_the_pages(cast, as_user, travel):
    case = workflow.register_case(cast.registrar, petition_data(), [workflow.PetitionerData(name="刘市民")])
    registrar, handler, head = as_user(cast.registrar), as_user(cast.handler), as_user(cast.head)
    reviewer, re_reviewer = as_user(cast.reviewer), as_user(cast.re_reviewer)

    def do(client, action, data, state):
        response = client.post(url(case, action), data)
        assert response.status_code == 302, (action, response.content.decode()[:3000])
        case.refresh_from_db()
        assert case.state == state, action

    do(registrar, "route", {"kind": "forward", "organ": cast.housing.pk}, State.PENDING)
    travel(dt.date(2026, 6, 3))
    do(handler, "accept", {"route": "r6"}, State.HANDLING)
    do(head, "extend", {"days": "20", "reason": "需补充调查"}, State.HANDLING)
    travel(dt.date(2026, 7, 1))
    do(handler, "reply", {"outcome": "reject", "opinion": "诉求缺乏依据", "facts": "经核查,物业已按合同维修",
                             "basis": "《物业管理条例》第三十五条", "delivered_on": "2026-07-01"}, State.REPLIED)
    do(handler, "evaluate", {"organ_satisfaction": "unsatisfied"}, State.REPLIED)
    travel(dt.date(2026, 7, 10))
    do(reviewer, "request_review", {"reason": "不服处理意见", "requested_on": "2026-07-10"}, State.REVIEW)
    do(reviewer, "review", {"outcome": "uphold", "opinion": "维持"}, State.REVIEWED)
    travel(dt.date(2026, 7, 20))
    do(re_reviewer, "request_re_review", {"reason": "不服复查意见"}, State.RE_REVIEW)
    do(re_reviewer, "hearing", {"days": "3", "note": "举行听证"}, State.RE_REVIEW)
    do(re_reviewer, "re_review", {"outcome": "uphold", "opinion": "维持,复核终结"}, State.CLOSED)

    assert case.closure == Closure.RE_REVIEWED
    assert [e.action for e in case.events.all()] == [
        "register", "route", "accept", "extend", "reply", "evaluate", "request_review", "review",
        "request_re_review", "hearing", "re_review"]
    assert sorted(d.title for d in case.documents.all()) == sorted(
        ["转送单", "受理告知书", "延期告知书", "信访处理意见书", "复查意见书", "复核意见书"])
    page = handler.get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200 and "已办结(复核终结)" in page.content.decode()
    # nothing moves a 复核终结 case on; only evaluate stays listed (access.py offers it on 已办结 cases)
    assert {name for name, _label in page.context["actions"]} <= {"evaluate"}
