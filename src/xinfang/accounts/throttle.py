"""Login throttling and lockout.

Contract: `check(username, ip)` returns the active Lockout refusing this attempt (or None);
`record_failure(username, ip)` stores a failure and locks the username and/or address once the
failures within LOGIN_FAILURE_WINDOW_SECONDS reach the limit; `clear(username)` forgets a user's
failures after a successful login; `unlock(lockout, by)` lifts a lock. Every lock and unlock is
audited. Usernames are compared case-insensitively so "Admin" and "admin" share one count.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xinfang.audit.log import append

from .models import LoginFailure, Lockout, Scope


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def client_ip(request) -> str:
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        forwarded = request.META.get(header, "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:150]
    return (request.META.get("REMOTE_ADDR") or "")[:150]


def active_lockout(scope: str, key: str) -> Lockout | None:
    if not key:
        return None
    return (Lockout.objects.filter(scope=scope, key=key, until__gt=timezone.now(), unlocked_at__isnull=True)
            .order_by("-until").first())


def check(username: str, ip: str) -> Lockout | None:
    return active_lockout(Scope.USER, normalise(username)) or active_lockout(Scope.IP, ip)


def _count_since(scope: str, key: str, since) -> int:
    # Failures before the last lock (or unlock) of this key do not count again.
    last = Lockout.objects.filter(scope=scope, key=key).order_by("-created_at").first()
    if last is not None:
        since = max(since, last.unlocked_at or last.created_at)
    return LoginFailure.objects.filter(scope=scope, key=key, at__gt=since).count()


def record_failure(username: str, ip: str, *, reason: str = "password") -> list[Lockout]:
    """Record one failed attempt; returns the lockouts it caused (empty when none)."""
    now = timezone.now()
    since = now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    name = normalise(username)
    created = []
    with transaction.atomic():
        append(None, "accounts.login_failed", None, username=name, ip=ip, reason=reason)
        for scope, key, limit in ((Scope.USER, name, settings.LOGIN_MAX_FAILURES_PER_USER),
                                  (Scope.IP, ip, settings.LOGIN_MAX_FAILURES_PER_IP)):
            if not key:
                continue
            LoginFailure.objects.create(scope=scope, key=key, at=now)
            count = _count_since(scope, key, since)
            if count >= limit and active_lockout(scope, key) is None:
                lock = Lockout.objects.create(scope=scope, key=key, created_at=now, failures=count,
                                              until=now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS))
                append(None, "accounts.lockout", lock, scope=scope, key=key, failures=count, until=lock.until.isoformat())
                created.append(lock)
    return created


def clear(username: str) -> None:
    LoginFailure.objects.filter(scope=Scope.USER, key=normalise(username)).delete()


def unlock(lockout: Lockout, by) -> bool:
    """Lift a lock now; returns False when it was no longer active."""
    with transaction.atomic():
        updated = Lockout.objects.filter(pk=lockout.pk, unlocked_at__isnull=True, until__gt=timezone.now()).update(
            unlocked_at=timezone.now(), unlocked_by=by)
        if updated:
            LoginFailure.objects.filter(scope=lockout.scope, key=lockout.key).delete()
            append(by, "accounts.unlock", lockout, scope=lockout.scope, key=lockout.key)
    return bool(updated)


def purge(before=None) -> int:
    """Delete failure rows older than the window (they can no longer lock anyone)."""
    before = before or timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    return LoginFailure.objects.filter(at__lt=before).delete()[0]
