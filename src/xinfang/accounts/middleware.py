"""Security middleware: response headers (CSP and friends) and the session policy (idle and
absolute timeouts, compulsory two-step login for the roles that need it)."""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

# Session keys written at login (see signals.stamp_session).
LOGIN_AT = "xf_login_at"
SEEN_AT = "xf_seen_at"
# Re-stamp the idle clock at most this often, so a busy page does not rewrite the session each request.
SEEN_RESOLUTION = 60


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response. (X-Frame-Options,
    X-Content-Type-Options, Referrer-Policy and Cross-Origin-Opener-Policy come from Django's own
    middleware, configured in settings.) A view that sets its own policy keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def _login_redirect(request, reason: str):
    url = reverse("login") + "?" + urlencode({"next": request.get_full_path(), "expired": reason})
    if request.headers.get("HX-Request") == "true":
        # An htmx request would swap the login page into a fragment; make the browser navigate.
        response = HttpResponseRedirect(url)
        response.status_code = 200
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionPolicyMiddleware:
    """Ends a session that is older than SESSION_COOKIE_AGE (absolute) or unused for longer than
    SESSION_IDLE_SECONDS (idle), and sends the user to log in again with a message saying why.
    Users whose role requires TOTP (settings.TOTP_REQUIRED_ROLES) and who have not enrolled are
    kept on the enrolment page until they do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            login_at = session.get(LOGIN_AT)
            seen_at = session.get(SEEN_AT)
            if login_at is None or seen_at is None:
                # A session made before this policy existed: start its clocks now.
                session[LOGIN_AT] = login_at = now
                session[SEEN_AT] = seen_at = now
            if now - login_at > settings.SESSION_COOKIE_AGE:
                return self._expire(request, "absolute")
            if now - seen_at > settings.SESSION_IDLE_SECONDS:
                return self._expire(request, "idle")
            if now - seen_at >= SEEN_RESOLUTION:
                session[SEEN_AT] = now
            redirect = self._totp_required(request, user)
            if redirect is not None:
                return redirect
        return self.get_response(request)

    def _expire(self, request, reason: str):
        from xinfang.audit.log import append

        user = request.user
        append(user, "accounts.session_expired", user, reason=reason)
        logout(request)
        # The login page says why (its `expired` parameter), so the prompt survives the redirect.
        return _login_redirect(request, reason)

    def _totp_required(self, request, user):
        from .totp import totp_required_for, has_totp

        if not totp_required_for(user) or has_totp(user):
            return None
        allowed = (reverse("totp_setup"), reverse("logout"), settings.STATIC_URL, "/i18n/")
        if request.path.startswith(allowed):
            return None
        url = reverse("totp_setup")
        if request.headers.get("HX-Request") == "true":
            response = HttpResponseRedirect(url)
            response.status_code = 200
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
