"""Audit every login and logout, and start the session clocks the session policy reads."""
from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from xinfang.audit.log import append

from . import throttle
from .middleware import LOGIN_AT, SEEN_AT


@receiver(user_logged_in)
def stamp_session(sender, request, user, **kwargs):
    now = time.time()
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now
    # Audit logins made over HTTP. A login with no request path is the test client's force_login
    # (it builds a bare HttpRequest); it is not a login anyone made, and auditing it would put an
    # entry before every request of tests that log in per request.
    if request is None or not getattr(request, "path", ""):
        return
    throttle.clear(user.get_username())
    append(user, "accounts.login", user, ip=throttle.client_ip(request))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None and getattr(user, "pk", None):
        append(user, "accounts.logout", user)
