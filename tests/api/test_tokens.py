"""API tokens: stored hashed, bound to a user, expire, can be revoked (admin and CLI), record
their last use."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from xinfang.api.models import ApiToken, digest

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_only_the_hash_is_stored_and_use_is_recorded(cast, client):
    token, raw = ApiToken.issue(cast.handler, "住建局业务系统")
    assert raw.startswith("xf_") and len(raw) > 40
    assert token.key_hash == digest(raw) and raw not in token.key_hash and token.prefix == raw[:10]
    assert token.last_used_at is None
    assert ApiClient(client, raw).get("/api/v1/organs").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == timezone.now()


def test_revoked_expired_and_inactive_tokens_are_401(cast, client, travel):
    token, raw = ApiToken.issue(cast.handler, "x", expires_at=timezone.now() + dt.timedelta(days=1))
    api = ApiClient(client, raw)
    assert api.get("/api/v1/cases").status_code == 200
    travel(timezone.now() + dt.timedelta(days=2))
    expired = api.get("/api/v1/cases")
    assert expired.status_code == 401 and expired["WWW-Authenticate"].startswith("Bearer")
    assert "令牌" in expired.json()["detail"]

    token2, raw2 = ApiToken.issue(cast.handler, "y")
    assert token2.revoke() is True and token2.revoke() is False
    assert ApiClient(client, raw2).get("/api/v1/cases").status_code == 401

    _t3, raw3 = ApiToken.issue(cast.other, "z")
    cast.other.is_active = False
    cast.other.save()
    assert ApiClient(client, raw3).get("/api/v1/cases").status_code == 401
    assert ApiClient(client, "xf_made-up").get("/api/v1/cases").status_code == 401


def test_a_session_cookie_is_not_an_api_credential(cast, client):
    client.force_login(cast.admin)
    assert client.get("/api/v1/cases").status_code == 401


def test_cli_creates_lists_and_revokes(cast, client):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "handler", "--name", "12345热线", "--days", "30", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    assert ApiClient(client, raw).get("/api/v1/cases").status_code == 200
    token = ApiToken.objects.get()
    assert token.user == cast.handler and token.expires_at == timezone.now() + dt.timedelta(days=30)

    listing = io.StringIO()
    call_command("token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and "12345热线" in listing.getvalue()

    call_command("token", "revoke", token.prefix, stdout=io.StringIO())
    assert ApiClient(client, raw).get("/api/v1/cases").status_code == 401
    listing = io.StringIO()
    call_command("token", "list", stdout=listing)
    assert token.prefix not in listing.getvalue()
    call_command("token", "list", "--all", stdout=listing)
    assert "已吊销" in listing.getvalue()

    with pytest.raises(CommandError):
        call_command("token", "create", "nobody", "--name", "x", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("token", "revoke", "xf_unknown", stdout=io.StringIO())


def test_admin_creates_shows_once_and_revokes(cast, client):
    client.force_login(cast.admin)
    response = client.post(reverse("admin:api_apitoken_add"), {"name": "纪检系统", "user": cast.discipline_handler.pk,
                                                                "expires_at_0": "", "expires_at_1": ""})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.created_by == cast.admin and token.user == cast.discipline_handler
    raw = response.context["raw"]
    assert raw in response.content.decode() and "只显示这一次" in response.content.decode()
    assert raw not in str(list(response.wsgi_request._messages)) and raw not in str(client.cookies)
    assert digest(raw) == token.key_hash
    assert ApiClient(client, raw).get("/api/v1/organs").status_code == 200

    client.force_login(cast.admin)
    client.post(reverse("admin:api_apitoken_changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiClient(client, raw).get("/api/v1/organs").status_code == 401
    # Tokens are revoked, never deleted (the record of who had access stays).
    client.force_login(cast.admin)
    assert client.get(reverse("admin:api_apitoken_delete", args=[token.pk])).status_code == 403


def test_too_many_requests_is_429(cast, client, monkeypatch):
    from xinfang.api import v1

    for throttle in v1.api.throttle:
        monkeypatch.setattr(throttle, "num_requests", 2)
    from django.core.cache import cache

    cache.clear()
    _t, raw = ApiToken.issue(cast.handler, "busy")
    api = ApiClient(client, raw)
    assert [api.get("/api/v1/organs").status_code for _ in range(3)] == [200, 200, 429]
    limited = api.get("/api/v1/organs")
    assert limited["Content-Type"].startswith("application/problem+json") and int(limited["Retry-After"]) >= 1
    assert "请求过于频繁" in limited.json()["title"]
    cache.clear()
