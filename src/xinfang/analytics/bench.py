"""Dashboards over 1,000,000 cases: opening one takes ≤ 1 s (issue 5, item 11).

Bench cases (organ tree JZBENCH*, numbers BENCHAN-…) are written straight into the case table in
bulk — minimal rows spread over the last 365 days, 20 responsible organs, 5 channels, 3
categories, 15 topics, 10 regions, about half of them replied and evaluated — because the
dashboard reads the daily aggregates, not the cases. The aggregates are then rebuilt in full (timed),
and the dashboard page and its JSON endpoint are requested through the Django test client for a
superuser and for an analyst of the root organ (p50/p95 over repeated requests). A re-run reuses
the cases when they are all there. XINFANG_BENCH_ANALYTICS_CASES sets another number of cases
(e.g. 100000 for a quicker run on a slow machine).
"""
from __future__ import annotations

import datetime as dt
import os
import random

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from xinfang.bench import Timer, percentiles

TITLE = "统计看板 dashboards"
USES_DATABASE = True
PREFIX = "BENCHAN"
ROOT_CODE = "JZBENCH"


def _org_tree():
    from xinfang.cases.models import Topic
    from xinfang.orgs.models import Level, Organ, OrganKind, Region, Role, User

    city, _c = Region.objects.get_or_create(code="BENCH00", defaults={"name": "基准市", "level": Level.CITY})
    regions = [Region.objects.get_or_create(code=f"BENCH{i:02d}", defaults={"name": f"基准区{i}", "level": Level.COUNTY,
                                                                             "parent": city})[0] for i in range(1, 11)]
    root, _c = Organ.objects.get_or_create(code=ROOT_CODE, defaults=dict(
        name="基准市人民政府", short_name="基政", level=Level.CITY, kind=OrganKind.GOVERNMENT, region=city))
    bureau, _c = Organ.objects.get_or_create(code=ROOT_CODE + "XF", defaults=dict(
        name="看板基准市信访局", short_name="看板基信", level=Level.CITY, kind=OrganKind.BUREAU, region=city, parent=root))
    organs = [bureau] + [Organ.objects.get_or_create(code=f"{ROOT_CODE}{i:02d}", defaults=dict(
        name=f"基准市职能部门{i:02d}", short_name=f"基{i:02d}", level=Level.CITY, kind=OrganKind.FUNCTIONAL, region=city,
        parent=root))[0] for i in range(1, 20)]
    parent, _c = Topic.objects.get_or_create(name="基准分类", parent=None)
    topics = [Topic.objects.get_or_create(name=f"基准问题{i:02d}", parent=parent)[0] for i in range(15)]
    admin = User.objects.filter(username="bench-analytics-admin").first() or User.objects.create_superuser(
        "bench-analytics-admin", password=None, full_name="基准管理员")
    analyst = User.objects.filter(username="bench-analytics-analyst").first() or User.objects.create_user(
        "bench-analytics-analyst", password=None, organ=root, roles=[Role.ANALYST], full_name="基准分析员")
    return bureau, organs, topics, regions, admin, analyst


def _populate(n: int, bureau, organs, topics, regions, report) -> None:
    """Insert `n` bench cases with one multi-row INSERT per batch (no signals, no per-row ORM)."""
    from xinfang.cases.models import Case

    existing = Case.objects.filter(number__startswith=PREFIX + "-").count()
    if existing == n:
        report.note(f"reusing {n:,} bench cases")
        return
    if existing:
        with Timer() as t:
            Case.objects.filter(number__startswith=PREFIX + "-")._raw_delete(Case.objects.db)
        report.note(f"removed {existing:,} old bench cases in {t.seconds:.1f} s")
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    rng = random.Random(5)
    now = timezone.now()
    channels = ["online", "online", "letter", "call", "visit", "fax"]
    categories = ["claim", "claim", "claim", "suggestion", "report"]
    base = {f.attname: f.get_default() for f in fields}
    base.update(bureau_id=bureau.pk, registered_by_id=None, content="基准信访内容", title="基准信访事项")
    batch = 500 if connection.vendor == "sqlite" else 2000  # SQLite caps bound parameters per statement
    sql_head = f"INSERT INTO {connection.ops.quote_name(Case._meta.db_table)} ({', '.join(connection.ops.quote_name(c) for c in columns)}) VALUES "
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with Timer() as t:
        for start in range(0, n, batch):
            params = []
            rows = 0
            for i in range(start, min(n, start + batch)):
                received = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
                organ = organs[rng.randrange(len(organs))]
                replied = rng.random() < 0.55
                sat = rng.choice(["satisfied", "satisfied", "basic", "unsatisfied", ""]) if replied else ""
                v = dict(base)
                v.update(number=f"{PREFIX}-{i:07d}", year=received.year, seq=i + 1, channel=rng.choice(channels),
                         received_at=received, registered_at=received, category=rng.choice(categories),
                         topic_id=topics[rng.randrange(len(topics))].pk, region_id=regions[rng.randrange(len(regions))].pk,
                         skip_level=rng.random() < 0.05, state="closed" if replied else "handling",
                         closure="replied" if replied else "", current_organ_id=organ.pk, handling_organ_id=organ.pk,
                         handling_route="r6", replied_at=received + dt.timedelta(days=20) if replied else None,
                         satisfaction_organ=sat, satisfaction_bureau=sat, closed_at=received + dt.timedelta(days=50) if replied else None,
                         route_kind="assign" if rng.random() < 0.1 else "forward", updated_at=now)
                params.extend(f.get_db_prep_save(v[f.attname], connection) for f in fields)
                rows += 1
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql_head + ", ".join([row_sql] * rows), params)
    report.figure("bulk insert of bench cases", n / t.seconds, "cases/s")


def run(report, *, quick: bool) -> None:
    from . import aggregates
    from .models import DailyStat

    n = int(os.environ.get("XINFANG_BENCH_ANALYTICS_CASES") or (20_000 if quick else 1_000_000))
    bureau, organs, topics, regions, admin, analyst = _org_tree()
    _populate(n, bureau, organs, topics, regions, report)
    with Timer() as t:
        rows = aggregates.refresh(full=True)
    report.figure(f"full aggregate rebuild ({n:,} cases)", t.seconds, "s")
    report.note(f"{rows:,} daily rows, {DailyStat.objects.filter(grain='m').count():,} monthly rows")
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=365), today
    query = f"?start={start.isoformat()}&end={end.isoformat()}"
    client = Client()
    for label, user in (("superuser", admin), ("analyst", analyst)):
        client.force_login(user)
        first = client.get("/analytics/api/metrics" + query).json()
        report.note(f"{label}: {first['metrics']['received']['numerator']:,} cases in the period")
        for name, url in (("dashboard page", "/analytics/" + query), ("metrics JSON", "/analytics/api/metrics" + query),
                          ("dashboard page, one month", f"/analytics/?start={(today - dt.timedelta(days=30)).isoformat()}"
                                                        f"&end={today.isoformat()}")):
            client.get(url)  # warm-up: template compilation and the first connection are not the page
            samples = []
            for _i in range(5 if quick else 20):
                with Timer() as t:
                    response = client.get(url)
                assert response.status_code == 200, response.status_code
                samples.append(t.seconds * 1000)
            p50, p95 = percentiles(samples)
            report.figure(f"{name} ({label}) p50", p50, "ms", "≤ 1000")
            report.figure(f"{name} ({label}) p95", p95, "ms", "≤ 1000")
    # Opening the page and loading its charts is one page request plus one JSON request.
    client.force_login(admin)
    samples = []
    for _i in range(5 if quick else 20):
        with Timer() as t:
            client.get("/analytics/" + query)
            client.get("/analytics/api/metrics" + query)
        samples.append(t.seconds * 1000)
    p50, p95 = percentiles(samples)
    report.figure("open dashboard: page + chart data p50", p50, "ms", "≤ 1000")
    report.figure("open dashboard: page + chart data p95", p95, "ms", "≤ 1000")
