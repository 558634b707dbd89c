"""Open311 GeoReport v2: discovery, services (topics), filing a request (a case registered through
the workflow) and reading it back."""
from __future__ import annotations

import pytest

from xinfang.api.models import ApiToken
from xinfang.cases.models import Case, Topic

pytestmark = pytest.mark.django_db

BASE = "/api/open311/v2"


@pytest.fixture
def topic(db):
    parent = Topic.objects.create(name="城乡建设")
    return Topic.objects.create(name="物业管理", parent=parent)


def test_discovery_and_services(client, topic):
    discovery = client.get(f"{BASE}/discovery.json").json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert discovery["endpoints"][0]["url"].endswith("/api/open311/v2/")
    services = client.get(f"{BASE}/services.json").json()
    mine = next(s for s in services if s["service_code"] == str(topic.pk))
    assert mine["service_name"] == "城乡建设 › 物业管理" and mine["group"] == "城乡建设" and mine["metadata"] is True
    definition = client.get(f"{BASE}/services/{topic.pk}.json").json()
    assert {a["code"] for a in definition["attributes"]} == {"category", "title", "id_number"}
    missing = client.get(f"{BASE}/services/99999.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_round_trip_file_then_read(cast, client, topic):
    _t, key = ApiToken.issue(cast.registrar, "civic app")
    form = {"api_key": key, "service_code": str(topic.pk), "description": "小区门口路灯损坏已一个月,夜间出行不便。",
            "last_name": "刘", "first_name": "市民", "phone": "13800138000", "address_string": "东湖区幸福里",
            "lat": "23.1", "long": "113.3", "attribute[category]": "suggestion",
            "attribute[id_number]": "110101199003074477"}
    created = client.post(f"{BASE}/requests.json", form)
    assert created.status_code == 201, created.content.decode()
    number = created.json()[0]["service_request_id"]
    assert "已登记" in created.json()[0]["service_notice"]

    case = Case.objects.get(number=number)
    assert case.topic == topic and case.category == "suggestion" and case.channel == "online"
    assert case.title == form["description"][:30]
    assert "问题地点:东湖区幸福里" in case.content and "坐标:23.1,113.3" in case.content
    petitioner = case.petitioners.get()
    assert (petitioner.name, petitioner.phone, petitioner.id_number) == ("刘市民", "13800138000", "110101199003074477")

    one = client.get(f"{BASE}/requests/{number}.json", {"api_key": key}).json()
    assert len(one) == 1 and one[0]["status"] == "open" and one[0]["service_code"] == str(topic.pk)
    assert one[0]["agency_responsible"] == "江州市信访局" and one[0]["status_notes"] == "待转送"
    assert one[0]["requested_datetime"].endswith("+08:00")

    listed = client.get(f"{BASE}/requests.json", {"api_key": key, "service_code": str(topic.pk), "status": "open"}).json()
    assert [r["service_request_id"] for r in listed] == [number]
    assert client.get(f"{BASE}/requests.json", {"api_key": key, "status": "closed"}).json() == []
    assert client.get(f"{BASE}/requests.json", {"api_key": key, "start_date": "2026-07-01T00:00:00+08:00"}).json() == []
    by_id = client.get(f"{BASE}/requests.json", {"api_key": key, "service_request_id": number}).json()
    assert len(by_id) == 1
    # A Bearer header works as well as api_key.
    assert client.get(f"{BASE}/requests/{number}.json", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_filing_needs_a_registrar_a_name_and_a_service(cast, client, topic):
    _t, registrar_key = ApiToken.issue(cast.registrar, "app")
    _t, handler_key = ApiToken.issue(cast.handler, "app2")
    base = {"service_code": str(topic.pk), "description": "路灯损坏", "last_name": "刘", "first_name": "市民"}
    assert client.post(f"{BASE}/requests.json", base).status_code == 401
    refused = client.post(f"{BASE}/requests.json", {**base, "api_key": handler_key})
    assert refused.status_code == 403 and "登记员" in refused.json()[0]["description"]
    nameless = client.post(f"{BASE}/requests.json", {**base, "api_key": registrar_key, "last_name": "", "first_name": ""})
    assert nameless.status_code == 400 and "实名" in nameless.json()[0]["description"]
    unknown = client.post(f"{BASE}/requests.json", {**base, "api_key": registrar_key, "service_code": "999"})
    assert unknown.status_code == 400
    bad_id = client.post(f"{BASE}/requests.json", {**base, "api_key": registrar_key, "attribute[id_number]": "123"})
    assert bad_id.status_code == 400 and "身份证" in bad_id.json()[0]["description"]
    assert client.get(f"{BASE}/services/².json").status_code == 404
    assert client.get(f"{BASE}/requests.json", {"api_key": registrar_key, "service_code": "1,²"}).status_code == 400
    assert client.post(f"{BASE}/requests.json", {**base, "api_key": registrar_key, "service_code": "²"}).status_code == 400
    bad_date = client.get(f"{BASE}/requests.json", {"api_key": registrar_key, "start_date": "yesterday"})
    assert bad_date.status_code == 400
    assert not Case.objects.exists()


def test_filing_honours_an_idempotency_key(cast, client, topic):
    _t, key = ApiToken.issue(cast.registrar, "app")
    form = {"api_key": key, "service_code": str(topic.pk), "description": "路灯损坏", "last_name": "刘", "first_name": "市民"}
    first = client.post(f"{BASE}/requests.json", form, headers={"Idempotency-Key": "r-1"})
    again = client.post(f"{BASE}/requests.json", form, headers={"Idempotency-Key": "r-1"})
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    changed = client.post(f"{BASE}/requests.json", {**form, "description": "另一件事"}, headers={"Idempotency-Key": "r-1"})
    assert changed.status_code == 422 and Case.objects.count() == 1


def test_requests_are_read_through_the_access_layer(cast, client, make_case, topic):
    case = make_case("pending", topic=topic)
    _t, other_key = ApiToken.issue(cast.other, "other")
    assert client.get(f"{BASE}/requests/{case.number}.json", {"api_key": other_key}).status_code == 404
    assert client.get(f"{BASE}/requests.json", {"api_key": other_key}).json() == []


FIELDS = ["service_code", "description", "first_name", "last_name", "phone", "address_string", "lat", "long",
          "media_url", "attribute[category]", "attribute[title]", "attribute[id_number]", "email", "jurisdiction_id"]
QUERY = ["service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id"]


def test_no_input_makes_a_server_error(cast, client, topic):
    """Open311 is not in the OpenAPI document, so it gets its own fuzzing: any form or query
    answers with a GeoReport error array or a result, never a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    _t, key = ApiToken.issue(cast.registrar, "fuzz")
    text = st.one_of(st.text(max_size=40), st.sampled_from([str(topic.pk), "suggestion", "2026-06-01T00:00:00",
                                                              "open,closed", "91", "x" * 300, "\x00", "²", "1,²"]))

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(form=st.dictionaries(st.sampled_from(FIELDS), text), query=st.dictionaries(st.sampled_from(QUERY), text))
    def check(form, query):
        posted = client.post(f"{BASE}/requests.json", {**form, "api_key": key})
        assert posted.status_code in (201, 400, 403, 422), posted.content
        listed = client.get(f"{BASE}/requests.json", {**query, "api_key": key})
        assert listed.status_code in (200, 400), listed.content
        assert isinstance(listed.json(), list)

    check()
