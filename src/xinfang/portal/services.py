"""The portal's own logic: query codes, rate limits, who the citizen is, and what of a case a
citizen may read. Every change of a case still goes through `xinfang.cases.workflow`, every case
query through `xinfang.cases.access` (with an `access.Citizen` principal).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xinfang.cases.access import Citizen
from xinfang.cases.models import Case, Event, RouteKind, State
from xinfang.deadlines.models import Deadline
from xinfang.documents.models import Document

from .models import RateCounter, Submission

# 8 characters without look-alikes (0/O, 1/I/L): about 39 bits, and lookups are rate-limited.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
SESSION_CASES = "portal_cases"  # cases this browser proved it may see (number + code)
SESSION_SUBMITTED = "portal_submitted"  # token -> {case, code}: the success page shows the code once
MAX_SESSION_CASES = 20


# --------------------------------------------------------------------------- query codes


class QueryCodeHasher(PBKDF2PasswordHasher):
    """PBKDF2 with fewer rounds than account passwords: a query code is random (about 39 bits,
    never chosen by a person) and every lookup is rate-limited, so a fraction of the password cost
    keeps a stolen table expensive to reverse while a lookup stays fast on a phone."""

    iterations = 50_000


HASHER = QueryCodeHasher()


def new_query_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def hash_query_code(code: str) -> str:
    return HASHER.encode(normalise_code(code), HASHER.salt())


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").upper()


def find_case_by_code(number: str, code: str) -> Case | None:
    """The case with this number whose query code matches, else None. The hash comparison is
    constant-time, and an unknown number costs the same hash as a wrong code."""
    number = (number or "").strip().upper()
    submission = Submission.objects.select_related("case").filter(case__number=number).first() if number else None
    if submission is None:
        hash_query_code(code)  # same work as a real check: the timing says nothing
        return None
    return submission.case if HASHER.verify(normalise_code(code), submission.code_hash) else None


# --------------------------------------------------------------------------- rate limits


class RateLimited(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or the last address a trusted proxy put in the header
    named by settings.CLIENT_IP_HEADER (the same rule as the login lockout)."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[-1].strip()[:64]
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64]


def private_key(kind: str, value: str) -> str:
    """A rate-limit key for personal data (an ID number): a keyed hash, never the value itself."""
    return f"{kind}:{salted_hmac('xinfang.portal.rate', value).hexdigest()[:40]}"


def _window_start(period: dt.timedelta) -> dt.datetime:
    """The start of the current window: local midnight for a day (limits reset overnight, not at
    08:00 Beijing time), else a multiple of `period` since the epoch (clock hours)."""
    if period >= dt.timedelta(days=1):
        return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    seconds = int(period.total_seconds())
    now = int(timezone.now().timestamp())
    return dt.datetime.fromtimestamp(now - now % seconds, tz=dt.timezone.utc)


def rate_count(key: str, period: dt.timedelta) -> int:
    row = RateCounter.objects.filter(key=key, window_start=_window_start(period)).first()
    return row.count if row else 0


def rate_hit(key: str, period: dt.timedelta) -> int:
    """Count one attempt for `key` in the current window; returns the new count. Runs in the
    caller's transaction (an attempt that is rolled back is not counted). Safe across processes: the
    row is created under its unique constraint and incremented with one UPDATE."""
    start = _window_start(period)
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, count=1)
            except IntegrityError:  # another process created it first
                RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
            # A new window: drop the counters of windows long gone (cheap, indexed).
            RateCounter.objects.filter(window_start__lt=timezone.now() - dt.timedelta(days=3)).delete()
    return RateCounter.objects.get(key=key, window_start=start).count


DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def check_submission_limits(ip: str, id_number: str, *, counted: bool = False) -> None:
    """Refuse when this address or this ID number already submitted its share today. With
    `counted`, the current submission has been counted already (the check inside the transaction)."""
    slack = 0 if counted else 1
    if rate_count(f"submit-ip:{ip}", DAY) + slack > settings.PORTAL_SUBMITS_PER_IP_DAY:
        raise RateLimited(_("今天从您的网络提交的信访事项已达上限,请明天再提交,或到信访接待场所当面提出。"))
    if id_number and rate_count(private_key("submit-id", id_number), DAY) + slack > settings.PORTAL_SUBMITS_PER_ID_DAY:
        raise RateLimited(_("同一身份证号码今天提交的信访事项已达上限(%(n)s件),请明天再提交。如需补充材料,请凭查询码查询原事项。")
                          % {"n": settings.PORTAL_SUBMITS_PER_ID_DAY})


def count_submission(ip: str, id_number: str) -> None:
    rate_hit(f"submit-ip:{ip}", DAY)
    if id_number:
        rate_hit(private_key("submit-id", id_number), DAY)


def check_lookup_limits(ip: str, number: str) -> None:
    """Tracking by number and code: a bounded number of tries per address per hour, and of failed
    tries per case number per day (so a code cannot be guessed from many addresses either)."""
    message = _("查询尝试次数过多,请稍后再试。")
    if rate_hit(f"lookup-ip:{ip}", HOUR) > settings.PORTAL_LOOKUPS_PER_IP_HOUR:
        raise RateLimited(message)
    if rate_count(f"lookup-fail:{number}", DAY) >= settings.PORTAL_FAILURES_PER_CASE_DAY:
        raise RateLimited(message)


def count_lookup_failure(number: str) -> None:
    rate_hit(f"lookup-fail:{number}", DAY)


# --------------------------------------------------------------------------- who is asking


def remember_case(request, case: Case) -> None:
    """This browser proved it holds the case's query code: remember it for this session."""
    ids = [pk for pk in request.session.get(SESSION_CASES, []) if pk != case.pk]
    request.session[SESSION_CASES] = ([case.pk] + ids)[:MAX_SESSION_CASES]


def citizen_for(request, case: Case | None = None) -> Citizen:
    """The citizen behind this request: the cases proven with a query code in this session, and
    the cases the logged-in account submitted. Staff rights never carry over into the portal."""
    ids = set(request.session.get(SESSION_CASES, []))
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        ids |= set(Submission.objects.filter(account=user).values_list("case_id", flat=True))
    label = user.username if user is not None else (case.number if case is not None else "")
    return Citizen(case_ids=ids, user=user, label=label)


# --------------------------------------------------------------------------- what a citizen reads

# Timeline entries a petitioner is shown, with wording meant for them. Anything not listed (an
# objection between organs, its decision) stays internal; notes and staff names are never shown.
EVENT_LABELS = {
    "register": gettext_noop("登记"),
    "inform": gettext_noop("告知通过其他法定途径解决"),
    "not_accept": gettext_noop("不予受理"),
    "accept": gettext_noop("受理"),
    "extend": gettext_noop("延长办理期限"),
    "reply": gettext_noop("答复"),
    "evaluate": gettext_noop("满意度评价"),
    "review": gettext_noop("出具复查意见"),
    "hearing": gettext_noop("复核听证"),
    "re_review": gettext_noop("出具复核意见"),
    "close": gettext_noop("办结归档"),
}
# (Marked with gettext_noop, translated per request: the language may differ between requests.)


@dataclass
class TimelineEntry:
    at: dt.datetime
    label: str
    organ: str


def _event_label(e: Event) -> str | None:
    gettext = _
    if e.action == "register":
        return gettext("网上提交,已登记") if e.data.get("by_petitioner") else gettext("登记")
    if e.action == "route":
        kind = e.data.get("kind")
        if kind == RouteKind.LEGAL:
            return gettext("转政法机关依法处理")
        if kind == RouteKind.DISCIPLINE:
            return gettext("转纪检监察机关")
        return gettext("交办") if kind == RouteKind.ASSIGN else gettext("转送")
    if e.action == "request_review":
        return gettext("复查申请已受理")
    if e.action == "request_re_review":
        return gettext("复核申请已受理")
    if e.action in EVENT_LABELS:
        return gettext(EVENT_LABELS[e.action])
    return None


def timeline(case: Case) -> list[TimelineEntry]:
    """The citizen-safe timeline: date, what happened, and the organ concerned (never a person)."""
    out = []
    for e in case.events.select_related("organ", "target_organ").order_by("at", "pk"):
        label = _event_label(e)
        if label is None:
            continue
        if e.action in ("route", "request_review", "request_re_review") and e.target_organ:
            organ = e.target_organ.name
        elif e.organ:
            organ = e.organ.name
        else:
            organ = case.bureau.name if e.action == "register" else ""
        out.append(TimelineEntry(at=e.at, label=label, organ=organ))
    return out


# Limits a petitioner sees: the duties of the organs and the petitioner's own windows.
PUBLIC_RULES = ("route", "accept", "assign", "handle", "simple_handle", "review", "re_review", "evaluate",
                "review_request", "re_review_request")


def open_deadlines(case: Case) -> list[Deadline]:
    return list(case.deadlines.filter(is_open=True, rule_id__in=PUBLIC_RULES).select_related("rule", "organ")
                .order_by("due_on", "pk"))


def petitioner_documents(case: Case):
    """Documents addressed to the petitioner (never the 转送单/交办单 between organs)."""
    return Document.objects.filter(case=case, for_petitioner=True).select_related("organ").order_by("issued_at", "pk")


EVALUATION_OPEN, EVALUATED, EVALUATION_LAPSED, EVALUATION_NONE = "open", "done", "lapsed", "none"


def evaluation_status(case: Case) -> tuple[str, Deadline | None]:
    """open (may evaluate until the window's end), done, lapsed (超期未评价), or none (no reply yet)."""
    if case.satisfaction_organ:
        return EVALUATED, None
    window = case.deadlines.filter(rule_id="evaluate").select_related("rule").order_by("-pk").first()
    if window is None:
        return EVALUATION_NONE, None
    if window.due_on is not None and timezone.localdate() > window.due_on:
        return EVALUATION_LAPSED, window
    if case.state not in (State.REPLIED, State.REVIEWED, State.CLOSED):
        return EVALUATION_NONE, window
    return EVALUATION_OPEN, window
