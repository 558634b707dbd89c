"""回避 (Art.28 ¶3): staff with a direct interest in a case step aside and can no longer act on it."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cases.test_workflow import refuse
from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.access import allowed_transitions, transition_refusal
from xinfang.cases.models import Recusal, State


def test_a_handler_who_steps_aside_can_no_longer_act_art28(cast, make_case):
    case = make_case("pending")
    assert "accept" in allowed_transitions(cast.handler, case)
    workflow.recuse(cast.handler, case, user=cast.handler, reason="信访人系本人亲属")
    case.refresh_from_db()
    assert "accept" not in allowed_transitions(cast.handler, case)
    assert "第28条" in transition_refusal(cast.handler, case, "accept")
    refuse(workflow.accept_case, cast.handler, case, route="r6", match="回避")
    # A colleague of the same organ takes over.
    assert workflow.accept_case(cast.head, case, route="r6").state == State.HANDLING
    event = case.events.get(action="recuse")
    assert event.label == "回避" and event.from_state == event.to_state == State.PENDING
    assert AuditEntry.objects.filter(action="case.recuse", object_id=str(case.pk)).exists()


def test_only_the_head_records_a_recusal_for_a_colleague_art28(cast, make_case):
    case = make_case("pending")
    refuse(workflow.recuse, cast.handler, case, user=cast.head, reason="利害关系", match="单位负责人")
    workflow.recuse(cast.head, case, user=cast.handler, reason="与被反映人有利害关系")
    assert Recusal.objects.get(case=case).recorded_by == cast.head


@pytest.mark.parametrize(("who", "whom", "reason", "message"), [
    ("other", "other", "x", "只有当前办理机关的工作人员"),
    ("handler", "other", "x", "回避人员应为当前办理机关的工作人员"),
    ("handler", "handler", "  ", "请填写回避理由"),
])
def test_recusal_refusals_change_nothing(cast, make_case, who, whom, reason, message):
    case = make_case("pending")
    refuse(workflow.recuse, getattr(cast, who), case, user=getattr(cast, whom), reason=reason, match=message)


def test_a_second_recusal_of_the_same_person_is_refused(cast, make_case):
    case = make_case("pending")
    workflow.recuse(cast.handler, case, user=cast.handler, reason="亲属")
    refuse(workflow.recuse, cast.head, case, user=cast.handler, reason="亲属", match="已对本事项回避")


def test_the_recusal_page(client, cast, make_case):
    case = make_case("pending")
    url = reverse("case_recuse", args=[case.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(cast.other)
    assert client.get(url).status_code == 404  # another organ does not see the case
    client.force_login(cast.handler)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert url in page
    response = client.post(url, {"user": cast.handler.pk, "reason": ""})
    assert response.status_code == 400 and "请填写回避理由" in response.content.decode()
    assert not Recusal.objects.exists()
    response = client.post(url, {"user": cast.handler.pk, "reason": "信访人系本人亲属"}, follow=True)
    assert "已登记王承办回避" in response.content.decode()
    assert Recusal.objects.filter(case=case, user=cast.handler).exists()
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("case_action", args=[case.pk, "accept"]) not in page
