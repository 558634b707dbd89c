"""Open API speed: the application's own cost per request (in-process test client, no network).

A bench bureau's registrar registers N cases through POST /api/v1/cases (with Idempotency-Key),
then reads them back: list pages, a filtered list, case details, timelines, and the Open311
request list. Figures are p50/p95 milliseconds per request on this machine.
"""
from __future__ import annotations

import json
import time
import uuid

from xinfang.bench import percentiles

TITLE = "开放接口 open API (requests through the full middleware stack)"
USES_DATABASE = True

BUREAU = "BENCHAPIXF"


def _world():
    from xinfang.orgs.models import Level, Organ, OrganKind, Region, Role, User

    region, _ = Region.objects.get_or_create(code="990800", defaults=dict(name="接口基准市", level=Level.CITY))
    bureau, _ = Organ.objects.get_or_create(code=BUREAU, defaults=dict(
        name="接口基准市信访局", short_name="接基信", level=Level.CITY, kind=OrganKind.BUREAU, region=region))
    user, _ = User.objects.get_or_create(username="bench_api_registrar", defaults=dict(
        organ=bureau, roles=[Role.REGISTRAR], full_name="接口基准登记员"))
    return user


def _timed(fn, n):
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        response = fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status_code >= 400:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return percentiles(samples)


def run(report, *, quick: bool) -> None:
    from django.test import Client

    from xinfang.api.models import ApiToken

    n = 200 if quick else 2_000
    reads = 50 if quick else 300
    report.section(f"{TITLE}: {n:,} cases")
    user = _world()
    _token, raw = ApiToken.issue(user, f"bench {uuid.uuid4().hex[:6]}")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    run_id = uuid.uuid4().hex[:8]
    created: list[int] = []

    def create(i):
        body = {"channel": "online", "title": f"接口基准事项{i}", "category": "claim",
                "content": f"基准内容{i}:小区电梯长期故障,物业拖延不修,请求督促维修。",
                "petitioners": [{"name": "基准市民", "phone": "13800138000"}]}
        response = client.post("/api/v1/cases", json.dumps(body), content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=f"bench-{run_id}-{i}")
        if response.status_code == 201:
            created.append(response.json()["id"])
        return response

    p50, p95 = _timed(create, n)
    report.figure("POST /api/v1/cases p50", p50, "ms")
    report.figure("POST /api/v1/cases p95", p95, "ms", "<= 300")
    p50, p95 = _timed(lambda i: client.get("/api/v1/cases", {"limit": 50, "offset": (i * 50) % max(n, 1)}), reads)
    report.figure("GET /api/v1/cases (50 per page) p95", p95, "ms", "<= 300")
    p50, p95 = _timed(lambda i: client.get("/api/v1/cases", {"q": f"事项{i}", "state": "registered"}), reads)
    report.figure("GET /api/v1/cases?q=…&state=… p95", p95, "ms")
    p50, p95 = _timed(lambda i: client.get(f"/api/v1/cases/{created[i % len(created)]}"), reads)
    report.figure("GET /api/v1/cases/{id} p95", p95, "ms", "<= 200")
    p50, p95 = _timed(lambda i: client.get(f"/api/v1/cases/{created[i % len(created)]}/events"), reads)
    report.figure("GET /api/v1/cases/{id}/events p95", p95, "ms")
    p50, p95 = _timed(lambda i: client.get("/api/open311/v2/requests.json"), max(5, reads // 10))
    report.figure("GET open311 requests.json (≤1000) p95", p95, "ms")
