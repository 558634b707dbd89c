"""Dashboard, JSON, XLSX and drill-down: the same values everywhere, and no leaks."""
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from xinfang.cases.models import Channel

from tests.conftest import NOW

Q = "?start=2026-05-01&end=2026-06-30"


@pytest.fixture
def data(cast, make_case, register, route):
    make_case("replied")
    make_case("handling", channel=Channel.ONLINE)
    route(register(), organ=cast.labour)
    register(category="report", accused_organ=cast.urban)
    return cast


def login(client, user):
    client.force_login(user)
    return client


def test_same_values_in_dashboard_json_and_export(client, data):
    login(client, data.admin)
    page = client.get("/analytics/" + Q)
    assert page.status_code == 200
    body = client.get("/analytics/api/metrics" + Q).json()
    tiles = {t["metric"].code: t["metric"] for t in page.context["tiles"]}
    for code, item in body["metrics"].items():
        assert (tiles[code].numerator, tiles[code].denominator) == (item["numerator"], item["denominator"])
    assert body["metrics"]["received"]["numerator"] == 4
    xlsx = client.get("/analytics/export.xlsx" + Q)
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    by_label = {row[0]: row for row in ws.iter_rows(values_only=True) if row and row[0]}
    for item in body["metrics"].values():
        assert by_label[item["label"]][1] == item["numerator"]
        assert by_label[item["label"]][2] == item["denominator"]


def test_drilldown_lists_the_numerator(client, data):
    login(client, data.admin)
    body = client.get("/analytics/api/metrics" + Q).json()
    for code, item in body["metrics"].items():
        page = client.get(item["url"])
        assert page.status_code == 200
        assert page.context["page_obj"].paginator.count == item["numerator"], code
    for row in body["breakdowns"]["channel"]:
        page = client.get(row["url"])
        assert page.context["page_obj"].paginator.count == row["received"]


def test_organ_filter_and_visibility(client, data):
    login(client, data.other)  # labour handler: own organ only
    body = client.get("/analytics/api/metrics" + Q).json()
    assert body["metrics"]["received"]["numerator"] == 1
    assert client.get(f"/analytics/api/metrics{Q}&organ={data.housing.pk}").status_code == 400  # not a choice
    page = client.get("/analytics/cases/" + Q + "&metric=received&kind=numerator")
    assert [c.current_organ_id for c in page.context["cases"]] == [data.labour.pk]
    login(client, data.accused)
    assert client.get("/analytics/api/metrics" + Q).json()["metrics"]["received"]["numerator"] == 0
    client.logout()
    assert client.get("/analytics/").status_code == 302
    login(client, data.citizen)
    assert client.get("/analytics/").status_code == 403


def test_dashboard_has_no_inline_script(client, data):
    login(client, data.admin)
    html = client.get("/analytics/" + Q).content.decode()
    assert "analytics/vendor/echarts.min.js" in html and "analytics/dashboard.js" in html
    import re

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html and "onclick" not in html


def test_refresh_on_demand(client, data):
    login(client, data.admin)
    from xinfang.analytics.models import DirtyDay

    assert DirtyDay.objects.exists()
    r = client.post("/analytics/refresh/", {"next": "/analytics/"})
    assert r.status_code == 302 and not DirtyDay.objects.exists()
