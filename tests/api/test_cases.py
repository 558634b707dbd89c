"""Creating, listing and reading cases through the API: the workflow registers (source="api"),
filters and paging, masked petitioners unless revealed by the holding organ (audited), and
problem+json errors with Chinese messages."""
from __future__ import annotations

import datetime as dt

import pytest

from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.models import Case, Category, Topic
from xinfang.cases.signals import cases_created

from .conftest import case_payload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_a_registrar_creates_a_case_through_the_workflow(cast, as_user):
    seen = []

    def receiver(sender, case_ids, source, **kwargs):
        seen.append((case_ids, source))

    cases_created.connect(receiver)
    try:
        response = as_user(cast.registrar).post("/api/v1/cases", case_payload())
    finally:
        cases_created.disconnect(receiver)
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["number"] == case.number == "JZXF-2026-000001"
    assert case.state == "registered" and case.registered_by == cast.registrar
    assert case.events.get().action == "register"
    assert seen == [([case.pk], "api")]
    # Personal data is masked in the answer.
    assert body["petitioners"][0]["id_number"] == "1101**********4477"
    assert body["petitioners"][0]["phone"] == "138****8000"
    assert body["petitioners_revealed"] is False
    assert body["allowed_actions"] == ["route", "inform", "not_accept"]
    assert body["received_at"].endswith("+08:00")


def test_only_a_registrar_may_create(cast, as_user):
    response = as_user(cast.handler).post("/api/v1/cases", case_payload())
    assert response.status_code == 409
    assert response["Content-Type"].startswith(PROBLEM)
    assert "只有登记员可以登记信访事项" in response.json()["detail"]
    assert not Case.objects.exists()


def test_registration_errors_come_field_by_field_in_chinese(cast, as_user):
    response = as_user(cast.registrar).post("/api/v1/cases", case_payload(
        title=" ", petitioners=[{"name": "刘市民", "id_number": "110101199003074478"}]))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:xinfang:problem:validation" and problem["status"] == 422
    assert problem["title"] == "请求参数有误"
    fields = {e["field"]: e["detail"] for e in problem["errors"]}
    assert fields["title"] == "请填写标题。"
    assert "校验位不正确" in fields["petitioners"]
    assert not Case.objects.exists()


def test_schema_errors_are_chinese_problems_too(cast, as_user):
    api = as_user(cast.registrar)
    response = api.post("/api/v1/cases", {"title": 5, "category": "nonsense", "head_count": 0})
    assert response.status_code == 422 and response["Content-Type"].startswith(PROBLEM)
    fields = {e["field"]: e["detail"] for e in response.json()["errors"]}
    assert fields["title"] == "应为字符串。"
    assert fields["content"] == "必填项。"
    assert fields["category"].startswith("取值无效")
    assert fields["head_count"] == "不能小于1。"
    broken = api.client.post("/api/v1/cases", "{not json", content_type="application/json", headers=api._headers(None))
    assert broken.status_code == 400 and broken.json()["detail"] == "请求内容不是有效的JSON或格式有误。"
    nul = api.post("/api/v1/cases", case_payload(title="a\x00b"))
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "title"


def test_unknown_references_are_field_errors(cast, as_user, make_case):
    other_case = make_case("registered")
    response = as_user(cast.other).post("/api/v1/cases", case_payload(
        topic_id=999, accused_organ_id=999, related_case_id=other_case.pk, region_code="000000"))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"topic_id", "accused_organ_id", "related_case_id", "region_code"}


def test_a_report_naming_the_callers_organ_as_accused_is_refused(cast, as_user):
    response = as_user(cast.accused).post("/api/v1/cases", case_payload(category="report", accused_organ_id=cast.urban.pk))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "accused_organ_id"
    assert "第28、30条" in response.json()["detail"]


def test_list_filters_and_pages(cast, as_user, make_case, travel):
    topic = Topic.objects.create(name="城乡建设")
    a = make_case("registered", title="电梯故障", topic=topic)
    b = make_case("pending", title="工资拖欠", category=Category.SUGGESTION)
    c = make_case("handling", title="噪音扰民", channel="visit")
    api = as_user(cast.registrar)

    def numbers(**params):
        response = api.get("/api/v1/cases", params)
        assert response.status_code == 200, response.content.decode()
        return [item["number"] for item in response.json()["items"]]

    assert set(numbers()) == {a.number, b.number, c.number}
    assert numbers(state="registered") == [a.number]
    assert numbers(category="suggestion") == [b.number]
    assert numbers(channel="visit") == [c.number]
    assert numbers(topic_id=topic.pk) == [a.number]
    assert set(numbers(organ_id=cast.housing.pk)) == {b.number, c.number}
    assert numbers(q="工资") == [b.number]
    assert numbers(number=a.number) == [a.number]
    assert set(numbers(received_from="2026-06-01", received_to="2026-06-01")) == {a.number, b.number, c.number}
    assert numbers(received_to="2026-05-31") == []
    assert numbers(order="updated") == [a.number, b.number, c.number]
    travel(dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    workflow.accept_case(cast.handler, b, route="suggestion")
    assert numbers(updated_since="2026-06-02T00:00:00+08:00") == [b.number]
    assert numbers(order="updated")[-1] == b.number
    page = api.get("/api/v1/cases", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 1 and page["limit"] == 2
    bad = api.get("/api/v1/cases", {"state": "nope", "limit": 0})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"state", "limit"}
    # The list carries no personal data.
    assert "petitioners" not in api.get("/api/v1/cases").json()["items"][0]


def test_reveal_is_for_the_holding_organ_and_is_audited(cast, as_user, make_case):
    case = make_case("handling")
    holder = as_user(cast.handler)
    masked = holder.get(f"/api/v1/cases/{case.pk}").json()
    assert masked["petitioners"][0]["id_number"] == "1101**********4477"
    assert not AuditEntry.objects.filter(action="case.reveal_identity").exists()

    full = holder.get(f"/api/v1/cases/{case.pk}", {"reveal": "true"})
    assert full.status_code == 200 and full["Cache-Control"] == "no-store"
    assert full.json()["petitioners"][0]["id_number"] == "110101199003074477"
    assert full.json()["petitioners_revealed"] is True
    entry = AuditEntry.objects.get(action="case.reveal_identity")
    assert entry.actor == cast.handler and entry.data["via"] == "api" and entry.data["token"].startswith("xf_")

    # A leader of the city government oversees 住建局 and sees the case, but does not hold it.
    assert as_user(cast.leader).get(f"/api/v1/cases/{case.pk}").status_code == 200
    refused = as_user(cast.leader).get(f"/api/v1/cases/{case.pk}", {"reveal": "true"})
    assert refused.status_code == 403 and "完整个人信息" in refused.json()["detail"]
    assert AuditEntry.objects.filter(action="case.reveal_identity").count() == 1


def test_events_documents_and_download(cast, as_user, make_case):
    case = make_case("replied")
    api = as_user(cast.handler)
    events = api.get(f"/api/v1/cases/{case.pk}/events").json()
    assert [e["action"] for e in events] == ["register", "route", "accept", "reply"]
    assert events[1]["target_organ_id"] == cast.housing.pk
    docs = api.get(f"/api/v1/cases/{case.pk}/documents").json()
    assert {d["kind"] for d in docs} >= {"acceptance", "opinion"}
    opinion = next(d for d in docs if d["kind"] == "opinion")
    response = api.get(opinion["docx_url"])
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    entry = AuditEntry.objects.filter(action="document.download").get()
    assert entry.data["via"] == "api" and entry.data["format"] == "docx"
    # A document of another case is not found through this case.
    other = make_case("pending")
    other_doc = other.documents.first()
    assert api.get(f"/api/v1/cases/{case.pk}/documents/{other_doc.pk}/docx").status_code == 404


def test_not_found_and_method_not_allowed_are_problems(cast, as_user):
    api = as_user(cast.registrar)
    missing = api.get("/api/v1/cases/987654")
    assert missing.status_code == 404 and missing["Content-Type"].startswith(PROBLEM)
    assert missing.json()["title"] == "资源不存在或无权查看"
    nowhere = api.get("/api/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere["Content-Type"].startswith(PROBLEM)
    wrong = api.client.delete("/api/v1/cases", headers=api._headers(None))
    assert wrong.status_code == 405 and wrong["Content-Type"].startswith(PROBLEM)
    assert "DELETE" in wrong.json()["detail"] and "GET" in wrong["Allow"]
    huge = api.get("/api/v1/cases/99999999999999999999")
    assert huge.status_code in (404, 422)
