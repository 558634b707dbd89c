"""Transitions through the API are the workbench's service functions: a whole lifecycle works,
and every refusal names its reason in Chinese and changes nothing."""
from __future__ import annotations

import pytest

from xinfang.cases.models import Case

pytestmark = pytest.mark.django_db


def snapshot(case):
    case = Case.objects.get(pk=case.pk)
    return case.state, case.version, case.current_organ_id, case.events.count(), case.documents.count()


def act(api, case, name, body=None):
    return api.post(f"/api/v1/cases/{case.pk}/actions/{name}", body or {})


def test_a_whole_lifecycle_through_the_api(cast, as_user, make_case):
    case = make_case("registered")
    bureau, organ, head = as_user(cast.registrar), as_user(cast.handler), as_user(cast.head)
    reviewer, re_reviewer = as_user(cast.reviewer), as_user(cast.re_reviewer)

    r = act(bureau, case, "route", {"kind": "forward", "organ_id": cast.housing.pk, "note": "请依法办理"})
    assert r.status_code == 200, r.content.decode()
    assert r.json()["case"]["state"] == "pending"
    assert [d["kind"] for d in r.json()["documents"]] == ["forward"]

    r = act(organ, case, "accept", {"route": "r6"})
    assert r.json()["case"]["state"] == "handling" and r.json()["documents"][0]["kind"] == "acceptance"
    r = act(head, case, "extend", {"days": 10, "reason": "需要现场核查"})
    assert r.status_code == 200 and r.json()["case"]["extended"] is True
    r = act(organ, case, "reply", {"outcome": "support", "opinion": "责成物业维修", "facts": "故障属实", "basis": "特种设备安全法"})
    assert r.status_code == 200 and r.json()["case"]["state"] == "replied"
    r = act(organ, case, "evaluate", {"organ_satisfaction": "basic", "bureau_satisfaction": "satisfied"})
    assert r.status_code == 200
    evaluation = organ.get(f"/api/v1/cases/{case.pk}/evaluation").json()
    assert evaluation["satisfaction_organ"] == "basic" and evaluation["evaluated_at"]
    assert [e["number"] for e in organ.get("/api/v1/evaluations").json()["items"]] == [case.number]

    r = act(reviewer, case, "request_review", {"reason": "对处理意见不服"})
    assert r.status_code == 200 and r.json()["case"]["state"] == "review"
    r = act(reviewer, case, "review", {"outcome": "uphold", "opinion": "维持"})
    assert r.json()["case"]["state"] == "reviewed"
    r = act(re_reviewer, case, "request_re_review", {"reason": "仍不服"})
    assert r.json()["case"]["state"] == "re_review"
    r = act(re_reviewer, case, "hearing", {"days": 5, "note": "组织听证"})
    assert r.status_code == 200
    r = act(re_reviewer, case, "re_review", {"outcome": "uphold", "opinion": "维持复查意见"})
    assert r.json()["case"]["state"] == "closed" and r.json()["case"]["closure"] == "re_reviewed"
    actions = [e["action"] for e in organ.get(f"/api/v1/cases/{case.pk}/events").json()]
    assert actions == ["register", "route", "accept", "extend", "reply", "evaluate", "request_review", "review",
                       "request_re_review", "hearing", "re_review"]


def test_objection_inform_not_accept_and_close(cast, as_user, make_case, travel):
    import datetime as dt

    bureau, organ = as_user(cast.registrar), as_user(cast.handler)
    case = make_case("pending")
    assert act(organ, case, "object", {"reason": "不属于本机关职权"}).json()["case"]["state"] == "returned"
    assert act(bureau, case, "decide_objection", {"agree": False, "note": "属于住建职责"}).json()["case"]["state"] == "pending"
    assert act(organ, case, "not_accept", {"reason": "不符合受理条件"}).json()["case"]["closure"] == "not_accepted"

    informed = make_case("registered")
    r = act(bureau, informed, "inform", {"channel": "诉讼", "reason": "属于法院受理范围"})
    assert r.json()["case"]["closure"] == "informed"

    replied = make_case("replied")
    refused = act(organ, replied, "close")
    assert refused.status_code == 409 and "届满前不能办结归档" in refused.json()["detail"]
    travel(dt.date(2026, 8, 1))
    assert act(organ, replied, "close").json()["case"]["state"] == "closed"


def test_a_transition_the_state_does_not_allow_is_409_and_changes_nothing(cast, as_user, make_case):
    case = make_case("handling")
    before = snapshot(case)
    r = act(as_user(cast.handler), case, "accept", {"route": "r6"})
    assert r.status_code == 409
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["detail"] == "该信访事项当前状态为“办理中”,不能进行“受理”。"
    assert snapshot(case) == before


def test_a_transition_outside_the_users_role_is_403_and_changes_nothing(cast, as_user, make_case):
    case = make_case("handling")
    before = snapshot(case)
    r = act(as_user(cast.handler), case, "extend", {"days": 10, "reason": "复杂"})
    assert r.status_code == 403 and r.json()["detail"] == "“延期”须由单位负责人办理。"
    assert snapshot(case) == before


def test_a_service_refusal_is_422_on_its_field_and_changes_nothing(cast, as_user, make_case):
    case = make_case("handling")
    before = snapshot(case)
    r = act(as_user(cast.handler), case, "reply", {"outcome": "support", "opinion": "支持"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "facts", "detail": "信访处理意见书应当载明查明的事实(条例第32条)。"}]
    r = act(as_user(cast.handler), case, "reply", {"outcome": "adopted", "opinion": "采纳"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    assert snapshot(case) == before


def test_routing_a_report_to_the_accused_organ_is_refused(cast, as_user, make_case):
    case = make_case("registered", category="report", accused_organ=cast.urban)
    before = snapshot(case)
    r = act(as_user(cast.registrar), case, "route", {"kind": "forward", "organ_id": cast.urban.pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "organ_id"
    assert "第30条" in r.json()["detail"]
    assert snapshot(case) == before
    r = act(as_user(cast.registrar), case, "route", {"kind": "forward", "organ_id": 987654})
    assert r.status_code == 422 and r.json()["errors"][0] == {"field": "organ_id", "detail": "请选择去向机关。"}


def test_the_actions_list_explains_each_refusal(cast, as_user, make_case):
    case = make_case("handling")
    listed = {a["name"]: a for a in as_user(cast.handler).get(f"/api/v1/cases/{case.pk}/actions").json()}
    assert listed["reply"]["allowed"] is True
    assert listed["extend"]["allowed"] is False and "单位负责人" in listed["extend"]["refusal"]
    assert listed["accept"]["allowed"] is False and "办理中" in listed["accept"]["refusal"]
    assert "register" not in listed
