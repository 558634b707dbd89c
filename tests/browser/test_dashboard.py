"""The dashboard in a real browser: the charts render from the locally served ECharts (no CDN),
under the page's no-inline-script rule, and clicking a number opens its cases."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_charts_render(browser_page, cast, make_case):
    make_case("replied")
    make_case("handling")
    page = browser_page
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(page.base_url) else None)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, "leader", PASSWORD)  # city government: the bureau and the handling organs below it
    assert page.locator("nav.sidenav a[href='/analytics/']").count() == 1
    page.goto(page.base_url + "/analytics/?start=2026-05-01&end=2026-06-30")
    page.wait_for_selector("#dashboard[data-loaded='1']")
    trend = page.locator("[data-chart='trend'][data-rendered='1'] canvas").first
    trend.wait_for()
    box = trend.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    # The canvas has been drawn on: some pixel is not transparent.
    painted = page.evaluate("""() => {
        const c = document.querySelector("[data-chart='channel'] canvas");
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
        return false;
    }""")
    assert painted
    assert page.locator("[data-rendered='1']").count() == 8
    assert not errors and not external
    # Every number links to its cases.
    assert page.locator("#metric-received a.metric-value").inner_text() == "2"
    page.click("#metric-received a.metric-value")
    page.wait_for_url("**/analytics/cases/**")
    assert page.locator("table.cases tbody tr").count() == 2
