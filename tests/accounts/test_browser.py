"""In a real browser: the main pages raise no Content-Security-Policy violation, and the
two-step login works end to end."""
from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.utils import timezone

from tests.browser.conftest import browser_page, login  # noqa: F401  (the fixture, shared)
from tests.conftest import PASSWORD
from xinfang.accounts import totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    return violations


def test_main_pages_raise_no_csp_violation(browser_page, cast, make_case):  # noqa: F811
    page = browser_page
    case = make_case("handling")
    violations = watch_csp(page)
    login(page, "registrar", PASSWORD)
    for path in ["/", "/inbox/", "/cases/", "/cases/new/", f"/cases/{case.pk}/", "/accounts/password/", "/accounts/totp/"]:
        page.goto(page.base_url + path)
        page.wait_for_load_state("load")
    login(page, "admin", PASSWORD)
    for path in ["/admin/", "/admin/orgs/user/", f"/admin/orgs/user/{cast.handler.pk}/change/", "/admin/accounts/lockout/"]:
        page.goto(page.base_url + path)
        page.wait_for_load_state("load")
    assert violations == []


def test_an_injected_inline_script_is_blocked(browser_page, cast):  # noqa: F811
    """The policy really is enforced: a page that did carry an inline script would not run it."""
    page = browser_page
    violations = watch_csp(page)
    page.goto(page.base_url + "/accounts/login/")
    page.evaluate("""() => { const s = document.createElement('div');
        s.innerHTML = '<img src=x onerror="document.title=\\'pwned\\'">'; document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.title() != "pwned" and violations


def test_two_step_login_in_the_browser(browser_page, cast):  # noqa: F811
    page = browser_page
    device = totp.start_enrolment(cast.handler)
    assert totp.confirm(device, pyotp.TOTP(device.secret).at(timezone.now() - dt.timedelta(seconds=30)))
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", "handler")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/accounts/login/verify/")
    page.fill("input[name=code]", pyotp.TOTP(device.secret).now())
    page.click("form[action='/accounts/login/verify/'] button[type=submit]")
    page.wait_for_url(page.base_url + "/")
    assert "王承办" in page.content()
