"""Sending the query code (查询码) to the citizen, through a pluggable notifier.

`settings.XINFANG_NOTIFIER` names a class (dotted path). The portal calls, after the submission
has committed:

    notifier.send_query_code(case_number=..., code=..., phone=..., email=...)

A notifier sends by SMS, e-mail or both, and must not raise for a delivery failure (log it: the
citizen has already seen the code on screen). The default `LogNotifier` writes the message to the
`xinfang.portal.notify` logger, which is what a pilot without an SMS gateway needs. To plug in a
gateway, write a class with that method (see docs/portal.md) and set XINFANG_NOTIFIER.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from xinfang.cases.validators import mask_phone

log = logging.getLogger(__name__)


def message(case_number: str, code: str) -> str:
    return _("您的信访事项编号为%(number)s,查询码为%(code)s。请妥善保管,凭编号和查询码可在网上查询办理进展、评价和申请复查。") % {
        "number": case_number, "code": code}


class LogNotifier:
    """Writes the message to the log (the default; no SMS gateway needed)."""

    def send_query_code(self, *, case_number: str, code: str, phone: str = "", email: str = "") -> None:
        log.warning("portal query code for %s to %s: %s", case_number, mask_phone(phone) or email or "-",
                    message(case_number, code))


class EmailNotifier(LogNotifier):
    """Sends the message by e-mail through Django's mail settings (EMAIL_HOST …) when the citizen
    gave an address; otherwise logs it like LogNotifier."""

    def send_query_code(self, *, case_number: str, code: str, phone: str = "", email: str = "") -> None:
        if not email:
            return super().send_query_code(case_number=case_number, code=code, phone=phone)
        try:
            send_mail(_("信访事项查询码"), message(case_number, code), None, [email])
        except Exception:  # a failed delivery must not undo the submission: the code was shown on screen
            log.exception("portal query code e-mail for %s failed", case_number)


def get_notifier():
    return import_string(settings.XINFANG_NOTIFIER)()


def send_query_code(**kwargs) -> None:
    """Hand the code to the configured notifier; a failing notifier is logged, never raised."""
    try:
        get_notifier().send_query_code(**kwargs)
    except Exception:
        log.exception("portal notifier %s failed for %s", settings.XINFANG_NOTIFIER, kwargs.get("case_number"))
