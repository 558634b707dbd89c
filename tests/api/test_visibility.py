"""Every endpoint against the one access layer: the organ handling a case sees it, another organ
gets 404 (or an empty list), an anonymous caller 401, and the accused organ of a 检举控告 case never
sees it (Art.30) — through the REST API and the Open311 adapter alike."""
from __future__ import annotations

import pytest

from xinfang.cases import workflow
from xinfang.cases.models import Category

pytestmark = pytest.mark.django_db

# Every per-case endpoint: (method, path template, body). {c} is the case id, {d} a document id.
CASE_ENDPOINTS = [
    ("get", "/api/v1/cases/{c}", None),
    ("get", "/api/v1/cases/{c}/events", None),
    ("get", "/api/v1/cases/{c}/documents", None),
    ("get", "/api/v1/cases/{c}/documents/{d}/docx", None),
    ("get", "/api/v1/cases/{c}/evaluation", None),
    ("get", "/api/v1/cases/{c}/actions", None),
    ("post", "/api/v1/cases/{c}/actions/route", {"kind": "forward", "organ_id": 1}),
    ("post", "/api/v1/cases/{c}/actions/inform", {"channel": "诉讼", "reason": "属诉讼事项"}),
    ("post", "/api/v1/cases/{c}/actions/not_accept", {"reason": "不符合受理条件"}),
    ("post", "/api/v1/cases/{c}/actions/accept", {"route": "r6"}),
    ("post", "/api/v1/cases/{c}/actions/object", {"reason": "不属于本机关职权"}),
    ("post", "/api/v1/cases/{c}/actions/decide_objection", {"agree": True}),
    ("post", "/api/v1/cases/{c}/actions/extend", {"days": 10, "reason": "情况复杂"}),
    ("post", "/api/v1/cases/{c}/actions/reply", {"outcome": "support", "opinion": "支持"}),
    ("post", "/api/v1/cases/{c}/actions/evaluate", {"organ_satisfaction": "satisfied"}),
    ("post", "/api/v1/cases/{c}/actions/request_review", {"reason": "不服"}),
    ("post", "/api/v1/cases/{c}/actions/review", {"outcome": "uphold", "opinion": "维持"}),
    ("post", "/api/v1/cases/{c}/actions/request_re_review", {"reason": "不服"}),
    ("post", "/api/v1/cases/{c}/actions/hearing", {"days": 3, "note": "听证"}),
    ("post", "/api/v1/cases/{c}/actions/re_review", {"outcome": "uphold", "opinion": "维持"}),
    ("post", "/api/v1/cases/{c}/actions/close", {}),
    ("get", "/api/open311/v2/requests/{n}.json", None),
]

LIST_ENDPOINTS = ["/api/v1/cases", "/api/v1/evaluations", "/api/open311/v2/requests.json"]
DIRECTORY_ENDPOINTS = ["/api/v1/organs", "/api/v1/organs/{o}", "/api/v1/topics", "/api/v1/topics/{t}"]


@pytest.fixture
def world(cast, make_case):
    """A replied and evaluated 申诉求决 case at 住建局, and a 检举控告 case against 城管局 there too."""
    from xinfang.cases.models import Topic

    claim = make_case("replied")
    workflow.evaluate_case(cast.handler, claim, organ_satisfaction="satisfied")
    report = make_case("handling", category=Category.REPORT, accused_organ=cast.urban, title="举报城管执法人员")
    topic = Topic.objects.create(name="城乡建设")
    return {"claim": claim, "report": report, "doc": claim.documents.first(), "topic": topic}


def _call(api, method, template, body, case, doc):
    path = template.format(c=case.pk, d=doc.pk, n=case.number)
    return api.get(path) if method == "get" else api.post(path, body)


@pytest.mark.parametrize("method,template,body", CASE_ENDPOINTS, ids=[f"{m} {t}" for m, t, _b in CASE_ENDPOINTS])
def test_case_endpoint_visibility(cast, as_user, world, method, template, body):
    claim, report, doc = world["claim"], world["report"], world["doc"]

    own = _call(as_user(cast.handler), method, template, body, claim, doc)
    assert own.status_code != 404 and own.status_code < 500, own.content.decode()
    if method == "get":
        assert own.status_code == 200, own.content.decode()

    other = _call(as_user(cast.other), method, template, body, claim, doc)
    assert other.status_code == 404, other.content.decode()

    anonymous = _call(as_user(None), method, template, body, claim, doc)
    assert anonymous.status_code == 401, anonymous.content.decode()

    # The accused organ (城管局) cannot reach the report against it, even with every role.
    accused = _call(as_user(cast.accused), method, template, body, report, doc)
    assert accused.status_code == 404, accused.content.decode()
    assert _call(as_user(cast.handler), "get", "/api/v1/cases/{c}", None, report, doc).status_code == 200


def test_refused_visibility_leaves_the_case_untouched(cast, as_user, world):
    claim = world["claim"]
    claim.refresh_from_db()
    before = (claim.state, claim.version, claim.events.count())
    as_user(cast.other).post(f"/api/v1/cases/{claim.pk}/actions/request_review", {"reason": "不服"})
    claim.refresh_from_db()
    assert (claim.state, claim.version, claim.events.count()) == before


def _numbers(response, path):
    data = response.json()
    if "open311" in path:
        return {r["service_request_id"] for r in data}
    return {item.get("number") for item in data["items"]}


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_list_endpoint_visibility(cast, as_user, world, path):
    claim, report = world["claim"], world["report"]
    own = as_user(cast.handler).get(path)
    assert own.status_code == 200
    assert claim.number in _numbers(own, path)
    if "evaluations" not in path:
        assert report.number in _numbers(own, path)

    other = as_user(cast.other).get(path)
    assert other.status_code == 200 and not _numbers(other, path) & {claim.number, report.number}

    accused = as_user(cast.accused).get(path)
    assert accused.status_code == 200 and report.number not in _numbers(accused, path)

    assert as_user(None).get(path).status_code == 401


@pytest.mark.parametrize("template", DIRECTORY_ENDPOINTS)
def test_directory_endpoints_need_a_token(cast, as_user, world, template):
    path = template.format(o=cast.housing.pk, t=world["topic"].pk)
    assert as_user(cast.other).get(path).status_code == 200
    assert as_user(None).get(path).status_code == 401
    missing = template.format(o=999999, t=999999)
    if missing != path and "{" in template:
        assert as_user(cast.other).get(missing).status_code == 404


def test_open311_services_are_public_but_requests_are_not(cast, as_user, world):
    assert as_user(None).get("/api/open311/v2/services.json").status_code == 200
    assert as_user(None).get(f"/api/open311/v2/services/{world['topic'].pk}.json").status_code == 200
    assert as_user(None).get("/api/open311/v2/requests.json").status_code == 401
    assert as_user(None).get(f"/api/open311/v2/requests/{world['claim'].number}.json").status_code == 401
    bad = as_user(None).get("/api/open311/v2/requests.json", {"api_key": "xf_not-a-token"})
    assert bad.status_code == 403 and bad.json()[0]["code"] == 403
