"""Bearer-token authentication: `Authorization: Bearer xf_…` acts as the token's user."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken, digest

# last_used_at is written at most this often per token, so a busy integration does not turn
# every read into a write.
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def token_for(raw: str) -> ApiToken | None:
    """The usable (not revoked, not expired, active user) token with this secret, or None."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.usable().select_related("user", "user__organ").filter(key_hash=digest(raw)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def attach(request, token: ApiToken) -> None:
    """Make the request act as the token's user (access.py sees an ordinary user)."""
    request.user = token.user
    request.api_token = token


class TokenAuth(HttpBearer):
    """Bearer tokens issued with `xinfang token create` or in the admin (接口令牌)."""

    def authenticate(self, request, token):
        found = token_for(token)
        if found is None:
            return None
        attach(request, found)
        return found
