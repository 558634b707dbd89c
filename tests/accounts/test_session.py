"""Session expiry: idle and absolute limits, then a prompt to log in again."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tests.conftest import NOW
from xinfang.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SESSION_IDLE_SECONDS = 1800
    settings.SESSION_COOKIE_AGE = 8 * 3600


def test_expire_at_browser_close_is_on(settings):
    from xinfang import settings as project
    assert project.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_idle_session_ends(cast, travel):
    client = Client()
    client.force_login(cast.handler)
    assert client.get("/").status_code == 200
    travel(NOW + dt.timedelta(minutes=29))
    assert client.get("/").status_code == 200  # used again: the idle clock restarts
    travel(NOW + dt.timedelta(minutes=29 + 31))
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?") and "expired=idle" in response["Location"]
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="accounts.session_expired", data__reason="idle").exists()
    page = client.get(response["Location"])
    assert "会话已过期,请重新登录。" in page.content.decode()


def test_absolute_limit_ends_a_busy_session(cast, travel):
    client = Client()
    client.force_login(cast.handler)
    for minutes in range(20, 8 * 60, 20):
        travel(NOW + dt.timedelta(minutes=minutes))
        assert client.get("/").status_code == 200
    travel(NOW + dt.timedelta(hours=8, minutes=1))
    response = client.get("/")
    assert response.status_code == 302 and "expired=absolute" in response["Location"]


def test_htmx_requests_are_told_to_navigate(cast, travel):
    client = Client()
    client.force_login(cast.handler)
    client.get("/")
    travel(NOW + dt.timedelta(hours=1))
    response = client.get("/cases/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/")
