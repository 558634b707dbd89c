"""Browser journeys: Playwright for Python driving Debian's chromium (never a downloaded browser)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser_page(live_server):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make install installs it)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.base_url = live_server.url
        yield page
        # Inside this block Playwright's event loop counts as running in this thread, and Django
        # (asgiref's Local) then keeps the thread's database connections apart from those it has
        # outside: the connections the test opened are only reachable here. Left open, they kept
        # the test database in use, and it could not be dropped at the end of the run.
        connections.close_all()
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def login(page, username: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
