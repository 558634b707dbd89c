"""网上评 and online 复查/复核: the evaluation window (a setting, default 30 days after delivery) and
the 30-day request windows of Art.35 and Art.36, with frozen time."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from xinfang.cases import workflow
from xinfang.cases.access import Citizen
from xinfang.cases.models import Event, State

pytestmark = pytest.mark.django_db


def tracked(case, code) -> Client:
    visitor = Client()
    assert visitor.post(reverse("portal:track"), {"number": case.number, "code": code}).status_code == 302
    return visitor


def page(visitor, case) -> str:
    return visitor.get(reverse("portal:case", args=[case.pk])).content.decode()


def test_the_citizen_rates_organ_and_bureau_separately_within_the_window(cast, replied):
    case, code = replied()
    visitor = tracked(case, code)
    assert "满意度评价" in page(visitor, case) and 'name="organ_satisfaction"' in page(visitor, case)
    response = visitor.post(reverse("portal:evaluate", args=[case.pk]),
                            {"organ_satisfaction": "basic", "bureau_satisfaction": "satisfied"}, follow=True)
    assert "感谢您的评价" in response.content.decode()
    case.refresh_from_db()
    assert (case.satisfaction_organ, case.satisfaction_bureau) == ("basic", "satisfied")
    event = Event.objects.get(case=case, action="evaluate")
    assert event.actor is None and event.data["by_petitioner"] is True
    # A second evaluation is refused with the workflow's message.
    again = visitor.post(reverse("portal:evaluate", args=[case.pk]),
                         {"organ_satisfaction": "unsatisfied", "bureau_satisfaction": "unsatisfied"}, follow=True)
    assert "该事项已经评价" in again.content.decode()
    case.refresh_from_db()
    assert case.satisfaction_organ == "basic"


def test_both_ratings_are_required(cast, replied):
    case, code = replied()
    visitor = tracked(case, code)
    response = visitor.post(reverse("portal:evaluate", args=[case.pk]), {"organ_satisfaction": "satisfied"})
    assert response.status_code == 400 and "请评价信访部门" in response.content.decode()
    case.refresh_from_db()
    assert not case.satisfaction_organ


def test_after_the_window_the_case_shows_overdue_unevaluated(cast, replied, travel):
    case, code = replied()
    window = case.deadlines.get(rule_id="evaluate")
    travel(window.due_on)
    visitor = tracked(case, code)
    assert 'name="organ_satisfaction"' in page(visitor, case)  # the last day still counts
    travel(window.due_on + dt.timedelta(days=1))
    visitor = tracked(case, code)  # a day later the idle session has ended: look the case up again
    html = page(visitor, case)
    assert "超期未评价" in html and 'name="organ_satisfaction"' not in html
    response = visitor.post(reverse("portal:evaluate", args=[case.pk]),
                            {"organ_satisfaction": "satisfied", "bureau_satisfaction": "satisfied"}, follow=True)
    assert "超期未评价" in response.content.decode()
    case.refresh_from_db()
    assert not case.satisfaction_organ


def test_review_asked_online_goes_one_level_up_art35(cast, replied):
    case, code = replied()
    visitor = tracked(case, code)
    assert "申请复查" in page(visitor, case)
    response = visitor.post(reverse("portal:request", args=[case.pk, "review"]), {"reason": "维修至今未完成,请求复查。"},
                            follow=True)
    assert cast.city_gov.name in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REVIEW and case.current_organ == cast.city_gov
    assert case.deadlines.get(rule_id="review", is_open=True).organ == cast.city_gov
    assert Event.objects.get(case=case, action="request_review").data["by_petitioner"] is True
    # The organ one level up works it as any 复查; the petitioner then asks for 复核 one more level up.
    case = workflow.issue_review_opinion(cast.reviewer, case, outcome="uphold", opinion="维持原处理意见。")
    assert "申请复核" in page(visitor, case)
    visitor.post(reverse("portal:request", args=[case.pk, "re_review"]), {"reason": "对复查意见不服。"})
    case.refresh_from_db()
    assert case.state == State.RE_REVIEW and case.current_organ == cast.prov_gov


def test_outside_the_window_the_portal_explains_why_not_art35(cast, replied, travel):
    case, code = replied()
    window = case.deadlines.get(rule_id="review_request")
    travel(window.due_on + dt.timedelta(days=1))
    visitor = tracked(case, code)
    html = page(visitor, case)
    assert "申请期限已于" in html and "第35条" in html and 'name="reason"' not in html
    response = visitor.post(reverse("portal:request", args=[case.pk, "review"]), {"reason": "迟到的申请"}, follow=True)
    assert "申请期限已于" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REPLIED
    # Once the case is filed after the window, the page still names the window, not the state.
    workflow.sweep_closable()
    case.refresh_from_db()
    assert case.state == State.CLOSED
    assert "申请期限已于" in page(visitor, case)


def test_re_review_window_art36(cast, replied, travel):
    case, code = replied()
    case = workflow.request_review(cast.reviewer, case, reason="不服")
    case = workflow.issue_review_opinion(cast.reviewer, case, outcome="uphold", opinion="维持。")
    window = case.deadlines.get(rule_id="re_review_request")
    travel(window.due_on + dt.timedelta(days=1))
    visitor = tracked(case, code)
    response = visitor.post(reverse("portal:request", args=[case.pk, "re_review"]), {"reason": "不服"}, follow=True)
    assert "第36条" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REVIEWED


def test_a_reply_without_review_route_offers_no_review(cast, submit):
    case, code = submit(category="suggestion", title="建议增设公交线路")
    from xinfang.cases.models import RouteKind

    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
    case = workflow.accept_case(cast.handler, case, route="suggestion")
    case = workflow.reply_case(cast.handler, case, outcome="adopted", opinion="已采纳。")
    visitor = tracked(case, code)
    html = page(visitor, case)
    assert "申请复查" not in html and "满意度评价" in html
    refusal = workflow.next_level_refusal(Citizen(case_ids=[case.pk]), case, "request_review")
    assert refusal == "该处理意见不适用复查、复核程序。"
