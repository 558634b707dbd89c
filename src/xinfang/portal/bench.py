"""Portal figures for `xinfang bench portal`: how heavy the citizen's pages are (what a phone
downloads) and how long a submission and a lookup take through the whole Django stack (test client,
no network), on the configured database.

Creates one bureau and a handful of online cases in the benchmark database."""
from __future__ import annotations

import gzip
import secrets

from xinfang.bench import Report, Timer, percentiles

TITLE = "网上信访:页面大小与提交、查询耗时"
USES_DATABASE = True



def _id_number(i: int) -> str:
    from xinfang.cases.validators import id_check_digit

    first17 = f"11010119900307{i % 1000:03d}"
    return first17 + id_check_digit(first17)


def _bureau():
    from xinfang.orgs.models import Level, Organ, OrganKind, Region

    region, _ = Region.objects.get_or_create(code="990000", defaults={"name": "基准市", "level": Level.CITY})
    organ, _ = Organ.objects.get_or_create(code="BENCHXF", defaults={
        "name": "门户基准市信访局", "short_name": "门户基信", "level": Level.CITY, "kind": OrganKind.BUREAU, "region": region})
    return organ


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def run(report: Report, *, quick: bool) -> None:
    from django.contrib.staticfiles import finders
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    import logging

    report.section(TITLE)
    logging.getLogger("xinfang.portal.notify").setLevel(logging.ERROR)  # the default notifier logs every code
    setup_test_environment()  # lets the test client run against the configured database
    bureau = _bureau()
    client = Client()

    html = client.get(reverse("portal:submit")).content
    css = open(finders.find("portal/portal.css"), "rb").read()
    js = open(finders.find("portal/portal.js"), "rb").read()
    report.figure("submit page HTML (gzip)", _gz(html), "bytes", "<= 8,000")
    report.figure("portal CSS + JS (gzip)", _gz(css) + _gz(js), "bytes", "<= 6,000")
    report.figure("requests to show the submit page", 3, "", "HTML + CSS + JS, nothing external")

    n = 10 if quick else 50
    submit_ms, track_ms, cases = [], [], []
    for i in range(n):
        data = {"token": secrets.token_urlsafe(32), "name": "基准", "id_number": _id_number(i), "phone": "13800138000",
                "address": "基准路1号", "bureau": str(bureau.pk), "category": "claim", "title": f"基准事项{i}",
                "content": "基准测试内容。" * 20, "privacy": "on"}
        # The daily limits per address and per ID number are part of the measured path: each
        # submission comes from its own address and person, so none is refused.
        with Timer() as t:
            response = client.post(reverse("portal:submit"), data, REMOTE_ADDR=f"10.77.{i // 250}.{i % 250}")
        submit_ms.append(t.seconds * 1000)
        if response.status_code != 302:
            report.note(f"submission {i} answered {response.status_code}; stopping")
            break
        page = client.get(response["Location"]).content.decode()
        cases.append(page)
    p50, p95 = percentiles(submit_ms)
    report.figure("online submission p50", round(p50, 1), "ms", "<= 300")
    report.figure("online submission p95", round(p95, 1), "ms", "<= 600")
    import re

    for i, page in enumerate(cases):
        number = re.search(r'id="case-number">([A-Z0-9-]+)<', page).group(1)
        code = re.search(r'id="query-code">([A-Z0-9]+)<', page).group(1)
        with Timer() as t:
            response = Client().post(reverse("portal:track"), {"number": number, "code": code}, REMOTE_ADDR=f"10.78.0.{i % 250}")
        track_ms.append(t.seconds * 1000)
    if track_ms:
        p50, p95 = percentiles(track_ms)
        report.figure("lookup by number + code p50", round(p50, 1), "ms", "<= 300")
        report.figure("lookup by number + code p95", round(p95, 1), "ms", "<= 600")
    from xinfang.portal.services import HASHER

    report.note(f"query codes: PBKDF2-SHA256, {HASHER.iterations:,} rounds (a lookup costs one hash on purpose)")
