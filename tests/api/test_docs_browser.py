"""The Swagger UI at /api/v1/docs renders in a real browser under the site's strict
Content-Security-Policy, loads nothing from outside the server, and can call the API with a
token (Debian's chromium through Playwright)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from xinfang.api.models import ApiToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")


def test_swagger_ui_renders_offline_under_the_csp(live_server, cast):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make install installs it)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    _token, raw = ApiToken.issue(cast.registrar, "docs")
    problems, outside = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                              "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page()
            page.set_default_timeout(15000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None)
            page.goto(live_server.url + "/api/v1/docs")
            page.wait_for_selector(".opblock-summary-path")
            assert page.locator(".opblock").count() >= 20
            assert "信访工作平台开放接口" in page.content()
            # Authorise with the token and try GET /organs from the page.
            page.click("button.authorize")
            page.fill(".modal-ux input", raw)
            page.click(".modal-ux button.authorize")
            page.click(".modal-ux button.close-modal")
            page.click("#operations-机关-list_organs .opblock-summary")
            page.click("#operations-机关-list_organs button.try-out__btn")
            page.click("#operations-机关-list_organs button.execute")
            page.wait_for_selector("#operations-机关-list_organs .live-responses-table .response-col_status")
            assert "江州市信访局" in page.locator("#operations-机关-list_organs .live-responses-table").inner_text()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert not outside, outside
    assert not problems, problems  # no CSP violation, no script error
