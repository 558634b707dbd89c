"""The lifecycle of a petition case: the transition table and one service function per transition.

Every interface (pages, API, import, commands) changes a case only through the functions below.
Each one, in a single transaction: re-reads and locks the case, checks the transition table and
the actor's role and organ (access.py), validates its input, writes the case, an Event, the
deadlines, any document, and an audit entry. A refusal raises WorkflowError and changes nothing.
Two people acting on one case at once are serialised by the row lock: the second one sees the new
state and is refused.
"""
from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.log import append as audit
from xinfang.deadlines.engine import Calendar, CalendarNotCovered, deadline_due, place_due
from xinfang.deadlines.models import Deadline, Rule
from xinfang.documents.models import DocKind
from xinfang.documents.numbering import issue_document, zh
from xinfang.orgs.models import LEGAL_KINDS, Organ, OrganKind, Role

from .access import WorkflowError, acting_organ_id, check_transition, is_citizen
from .signals import cases_created
from .models import (
    OUTCOMES_BY_CATEGORY, REVIEW_OUTCOMES, ROUTES_BY_CATEGORY, Case, CaseCounter, CaseOrgan, Category, Channel, Closure,
    Event, HandlingRoute, Outcome, Petitioner, Recusal, RouteKind, State,
)
from .validators import validate_id_number, validate_phone

S = State


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    roles: tuple[str, ...]
    where: str  # "holder": the organ holding the case; "superior": the level above; "involved"
    article: str
    # Open to the petitioner through the portal (access.Citizen), on their own case only:
    # submitting online (Art.17), evaluating, asking for 复查 and 复核 (Art.35, 36).
    petitioner: bool = False


_T = [
    Transition("register", gettext_lazy("登记"), (), (Role.REGISTRAR,), "holder", "第17、19、21条", petitioner=True),
    Transition("route", gettext_lazy("转送/交办"), (S.REGISTERED,), (Role.REGISTRAR,), "holder", "第22条"),
    Transition("inform", gettext_lazy("告知其他法定途径"), (S.REGISTERED,), (Role.REGISTRAR,), "holder", "第22条"),
    Transition("not_accept", gettext_lazy("不予受理"), (S.REGISTERED, S.PENDING), (Role.REGISTRAR, Role.HANDLER), "holder", "第19、23、36条"),
    Transition("accept", gettext_lazy("受理"), (S.PENDING,), (Role.HANDLER,), "holder", "第23条"),
    Transition("object", gettext_lazy("提出异议并退回"), (S.PENDING,), (Role.HANDLER,), "holder", "第23条"),
    Transition("decide_objection", gettext_lazy("处理异议"), (S.RETURNED,), (Role.REGISTRAR,), "holder", "第23条"),
    Transition("extend", gettext_lazy("延期"), (S.HANDLING,), (Role.HEAD,), "holder", "第34条"),
    Transition("reply", gettext_lazy("答复"), (S.HANDLING,), (Role.HANDLER,), "holder", "第32、34条"),
    Transition("evaluate", gettext_lazy("满意度评价"), (S.REPLIED, S.REVIEWED, S.CLOSED), (Role.REGISTRAR, Role.HANDLER), "involved", "",
               petitioner=True),
    Transition("request_review", gettext_lazy("登记复查申请"), (S.REPLIED,), (Role.REGISTRAR, Role.HANDLER), "superior", "第35条",
               petitioner=True),
    Transition("review", gettext_lazy("出具复查意见"), (S.REVIEW,), (Role.HANDLER,), "holder", "第35条"),
    Transition("request_re_review", gettext_lazy("登记复核申请"), (S.REVIEWED,), (Role.REGISTRAR, Role.HANDLER), "superior", "第36条",
               petitioner=True),
    Transition("hearing", gettext_lazy("复核听证"), (S.RE_REVIEW,), (Role.HANDLER,), "holder", "第36条"),
    Transition("re_review", gettext_lazy("出具复核意见"), (S.RE_REVIEW,), (Role.HANDLER,), "holder", "第36条"),
    Transition("close", gettext_lazy("办结归档"), (S.REPLIED, S.REVIEWED), (Role.REGISTRAR, Role.HANDLER), "involved", "第35、36条"),
]
TRANSITIONS: dict[str, Transition] = {t.name: t for t in _T}


# --------------------------------------------------------------------------- helpers


def _today() -> dt.date:
    return timezone.localdate()


def _rules() -> dict[str, Rule]:
    return {r.code: r for r in Rule.objects.all()}


def _lock(case: Case) -> Case:
    """Re-read `case` under a row lock (PostgreSQL) / the write lock (SQLite, IMMEDIATE mode)."""
    # No joins in the locking query: PostgreSQL refuses FOR UPDATE on the nullable side of an
    # outer join, and when the row was changed while we waited it re-checks the new row against
    # the *old* joined rows — a case whose current_organ just changed would vanish (DoesNotExist).
    # The related organs are loaded afterwards, from the committed row.
    return Case.objects.select_for_update().get(pk=case.pk)


def _calendar_guard(fn):
    """Turn a missing calendar year into a refusal with the engine's message."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CalendarNotCovered as exc:
            raise WorkflowError(str(exc)) from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


class _Step:
    """What one transition writes: collects deadline changes and finishes the case row."""

    def __init__(self, case: Case, actor, name: str):
        self.case, self.actor, self.name = case, actor, name
        self.from_state = case.state
        self.calendar = Calendar.load()
        self.rules = _rules()
        self.now = timezone.now()
        self.today = _today()

    def open(self, rule_code: str, start: dt.date, organ: Organ | None, *, days: int | None = None,
             fixed_due: dt.date | None = None) -> Deadline:
        rule = self.rules[rule_code]
        days = rule.days if days is None else days
        deadline = Deadline(case=self.case, rule=rule, organ=organ, started_on=start, days=days, fixed_due=fixed_due)
        place_due(deadline, self.calendar)
        deadline.save()
        return deadline

    def close(self, *rule_codes: str) -> None:
        qs = self.case.deadlines.filter(is_open=True)
        if rule_codes:
            qs = qs.filter(rule_id__in=rule_codes)
        qs.update(is_open=False, met_at=self.now)

    def move_to(self, organ: Organ) -> None:
        self.case.current_organ = organ
        CaseOrgan.objects.get_or_create(case=self.case, organ=organ)

    def finish(self, to_state: str, *, note: str = "", target: Organ | None = None, **data) -> Event:
        case = self.case
        case.state = to_state
        sync_due(case, self.rules)
        case.version = F("version") + 1
        case.save()
        case.refresh_from_db(fields=["version"])
        if is_citizen(self.actor):
            # The petitioner acted online: no staff actor; the timeline records who did it.
            data = {**data, "by_petitioner": True}
        event = Event.objects.create(case=case, action=self.name, at=self.now, actor=_user_of(self.actor),
                                     organ=getattr(self.actor, "organ", None), target_organ=target,
                                     from_state=self.from_state, to_state=to_state, note=note, data=_jsonable(data))
        audit(self.actor, f"case.{self.name}", case, number=case.number, from_state=self.from_state, to_state=to_state,
              **_jsonable(data))
        return event


def _user_of(actor):
    """The User row behind an actor: staff themselves, a citizen's account (or None)."""
    return actor.user if is_citizen(actor) else actor


def _jsonable(data: dict) -> dict:
    out = {}
    for k, v in data.items():
        if isinstance(v, (dt.date, dt.datetime)):
            v = v.isoformat()
        elif isinstance(v, Organ):
            v = v.pk
        out[k] = v
    return out


def sync_due(case: Case, rules: dict[str, Rule] | None = None) -> None:
    """Set the case's running duty (due_on, due_warn_on) from its open duty deadlines."""
    rules = rules or _rules()
    if not case.pk:
        return
    open_duties = [d for d in case.deadlines.filter(is_open=True).select_related("rule") if d.rule.is_duty]
    case.due_pending_year = None
    if not open_duties or case.state not in (S.REGISTERED, S.PENDING, S.RETURNED, S.HANDLING, S.REVIEW, S.RE_REVIEW):
        case.due_on = case.due_warn_on = None
        return
    dated = [d for d in open_duties if d.due_on is not None]
    if not dated:  # the running limit is pending (its year's calendar is missing): no date, no grade
        case.due_on = case.due_warn_on = None
        case.due_pending_year = min(d.pending_year for d in open_duties)
        return
    first = min(dated, key=lambda d: d.due_on)
    case.due_on = first.due_on
    warn = first.rule.warn_days
    case.due_warn_on = first.due_on - dt.timedelta(days=warn - 1) if warn else None


def recompute_open_deadlines(calendar: Calendar | None = None, *, since: dt.date | None = None) -> int:
    """Recompute every open deadline (after the calendar or a rule changed), filling in pending ones
    whose year has now been entered. Returns how many moved. A dated deadline whose year is no
    longer covered keeps its old date (the change is reported by `calendar check`)."""
    calendar = calendar or Calendar.load()
    rules = _rules()
    moved, touched_cases = 0, set()
    qs = (Deadline.objects.filter(is_open=True).select_related("rule")
          .annotate(case_due_on=F("case__due_on"), case_warn_on=F("case__due_warn_on")))
    if since:
        qs = qs.filter(Q(due_on__gte=since) | Q(due_on__isnull=True))
    for d in qs.iterator(chunk_size=2000):
        try:
            due = deadline_due(d, calendar)
        except CalendarNotCovered as exc:
            if d.due_on is None and d.pending_year != exc.year:
                Deadline.objects.filter(pk=d.pk).update(pending_year=exc.year)
            continue
        if due != d.due_on:
            Deadline.objects.filter(pk=d.pk).update(due_on=due, pending_year=None)
            moved += 1
            touched_cases.add(d.case_id)
        elif d.rule.is_duty and due == d.case_due_on:
            # The date stands but the rule's 临期 threshold may have been edited: keep the case's
            # warning day in step with it.
            warn = d.rule.warn_days
            if (due - dt.timedelta(days=warn - 1) if warn else None) != d.case_warn_on:
                touched_cases.add(d.case_id)
    for case in Case.objects.filter(pk__in=touched_cases):
        sync_due(case, rules)
        Case.objects.filter(pk=case.pk).update(due_on=case.due_on, due_warn_on=case.due_warn_on,
                                               due_pending_year=case.due_pending_year)
    return moved


def _window(case: Case, rule_code: str) -> Deadline | None:
    return case.deadlines.filter(rule_id=rule_code).order_by("-pk").first()


def _refuse_skip_level(case: Case) -> None:
    """Under the default policy a level-skipping visit is neither routed nor accepted: the
    petitioner is guided to the competent level (Art.20; XINFANG_SKIP_LEVEL_POLICY)."""
    if case.skip_level and case.channel == Channel.VISIT and settings.XINFANG_SKIP_LEVEL_POLICY == "guide_back":
        raise WorkflowError(_("该事项为越级走访,按规定应引导信访人向有权处理的本级或上一级机关逐级提出(条例第20条),请选择“告知其他法定途径”或“不予受理”。"))


def _re_reviewed_original(case: Case) -> Case | None:
    """The re-reviewed case that settled the facts `case` raises again (Art.36 ¶3), if any. A
    petitioner may link to an earlier repeat that was itself refused as 不再受理: the chain of
    same-facts links is followed back to the 复核 decision."""
    seen: set[int] = set()
    earlier = case.related_case if case.same_facts and case.related_case_id else None
    while earlier is not None and earlier.pk not in seen:
        if earlier.closure == Closure.RE_REVIEWED:
            return earlier
        if earlier.closure != Closure.NOT_AGAIN or not (earlier.same_facts and earlier.related_case_id):
            return None
        seen.add(earlier.pk)
        earlier = earlier.related_case
    return None


def _not_again_reason(case: Case) -> str | None:
    """Art.36 ¶3 and Art.19 ¶3: when a petition on the same facts must not be accepted."""
    if not (case.same_facts and case.related_case_id):
        return None
    earlier = _re_reviewed_original(case)
    if earlier is not None:
        return _("原信访事项%(number)s已经复核终结,信访人以同一事实和理由再次提出的,不再受理(条例第36条)。") % {"number": earlier.number}
    earlier = case.related_case
    if earlier.is_open and earlier.state != S.REGISTERED:
        return _("原信访事项%(number)s已受理且正在办理期限内,以同一事实和理由再次提出的,不予受理(条例第19条)。") % {"number": earlier.number}
    return None


# --------------------------------------------------------------------------- registration


@dataclass
class PetitionerData:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    is_representative: bool = False


MAX_REPRESENTATIVES = 5  # Art.20
MAX_CONTENT = 20000


def _validate_registration(actor, data: dict, petitioners: list[PetitionerData]) -> None:
    errors: dict[str, list[str]] = {}

    def err(field, msg):
        errors.setdefault(field, []).append(str(msg))

    if data.get("channel") not in Channel.values:
        err("channel", _("请选择信访形式。"))
    if data.get("category") not in Category.values:
        err("category", _("请选择信访类别。"))
    for field, label in (("title", _("标题")), ("content", _("信访内容"))):
        if not (data.get(field) or "").strip():
            err(field, _("请填写%(label)s。") % {"label": label})
    if len(data.get("title") or "") > 200:
        err("title", _("标题不能超过200字。"))
    if len(data.get("content") or "") > MAX_CONTENT:
        err("content", _("信访内容不能超过%(n)s字,较长材料请作为附件上传。") % {"n": MAX_CONTENT})
    received = data.get("received_at")
    if isinstance(received, dt.datetime) and timezone.is_naive(received):
        # A time without a zone (an import, a CLI) is read as local time, like the forms do.
        received = data["received_at"] = timezone.make_aware(received)
    if not isinstance(received, dt.datetime):
        err("received_at", _("请填写收到时间。"))
    elif received > timezone.now() + dt.timedelta(minutes=5):
        err("received_at", _("收到时间不能晚于当前时间。"))
    if not petitioners:
        err("petitioners", _("至少登记一名信访人(条例第19条)。"))
    reps = sum(1 for p in petitioners if p.is_representative)
    if reps > MAX_REPRESENTATIVES:
        err("petitioners", _("多人采用走访形式提出同一信访事项的,推选代表不超过5人(条例第20条),当前为%(n)s人。") % {"n": reps})
    head_count = data.get("head_count") or 1
    if head_count < max(1, len(petitioners)):
        err("head_count", _("人数不能少于登记的信访人数。"))
    for i, p in enumerate(petitioners, 1):
        if not (p.name or "").strip():
            err("petitioners", _("第%(i)s名信访人未填写姓名。") % {"i": i})
        try:
            if p.id_number:
                p.id_number = validate_id_number(p.id_number)
            p.phone = validate_phone(p.phone)
        except ValidationError as exc:
            err("petitioners", _("第%(i)s名信访人:%(msg)s") % {"i": i, "msg": " ".join(exc.messages)})
    if data.get("category") == Category.REPORT and data.get("accused_organ") == getattr(actor, "organ", None) and actor.organ:
        err("accused_organ", _("本机关是被检举控告单位,应当由其他机关登记办理(条例第28、30条)。"))
    if errors:
        raise RegistrationError(errors)


class RegistrationError(WorkflowError):
    """Field-by-field problems with a registration (nothing was saved)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(";".join(m for msgs in errors.values() for m in msgs))


def provisional_number() -> tuple[int, str]:
    """A stand-in (seq, number) for a case inside the transaction that registers it (see
    register_case); it never commits. Both are unique indexes, and an insert whose key another
    open transaction holds waits for it: the stand-ins are random, far above any real
    sequence number (six digits), so concurrent registrations do not queue on them."""
    return 2**30 + secrets.randbelow(2**30), f"~{uuid.uuid4().hex}"


def next_case_number(bureau: Organ, year: int) -> tuple[int, str]:
    """Next number for `bureau` in `year`: CODE-YYYY-NNNNNN, e.g. JZXF-2026-000123."""
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(bureau=bureau, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return counter.last, f"{bureau.code.upper()}-{year}-{counter.last:06d}"


@_calendar_guard
def register_case(actor, data: dict, petitioners: list[PetitionerData], attachments=(), *, source: str = "form",
                  bureau: Organ | None = None) -> Case:
    """Register a petition received by the actor's organ (Art.17, 19, 21).

    `data` holds the Case fields (channel, received_at, title, content, category, topic, region,
    head_count, flags, accused_organ, related_case, same_facts). At a petition bureau the case waits
    to be routed within 15 days (Art.22); at any other organ it waits for the acceptance decision
    within 15 days (Art.23 ¶2). `attachments` are (name, Django File) pairs. `source` names the
    interface for `cases_created` (form, api, …), whose receivers screen the new case.

    A petitioner submitting online (an `access.Citizen`, see `submit_online`) registers at the
    petition `bureau` they chose, with no staff registrar.
    """
    if is_citizen(actor):
        if bureau is None or not bureau.is_active or not bureau.is_bureau:
            raise RegistrationError({"bureau": [_("请选择受理的信访部门。")]})
        organ, registrar = bureau, None
    elif not (getattr(actor, "organ_id", None) and actor.has_role(Role.REGISTRAR)):
        raise WorkflowError(_("只有登记员可以登记信访事项。"))
    else:
        organ, registrar = actor.organ, actor
    data = dict(data)  # validation normalises values; the caller's dict is left alone
    _validate_registration(actor, data, petitioners)
    with transaction.atomic():
        received = data["received_at"]
        year = timezone.localtime(received).year if timezone.is_aware(received) else received.year
        fields = {k: data.get(k) for k in ("channel", "received_at", "title", "content", "category", "topic", "region",
                                            "accused_organ", "related_case")}
        fields.update({k: bool(data.get(k)) for k in ("skip_level", "group_visit", "major_urgent", "law_related", "same_facts")})
        # The tracking number is gap-free, so taking it locks the bureau's counter until commit;
        # the audit chain's head is locked the same way. Both are taken last, after the
        # screening below, so concurrent registrations wait for each other only for the few
        # statements that follow them. Until then the row carries a provisional, unique number
        # that no other transaction can see.
        seq, number = provisional_number()
        case = Case.objects.create(
            number=number, bureau=organ, year=year, seq=seq, registered_by=registrar, current_organ=organ,
            head_count=max(data.get("head_count") or 1, len(petitioners)),
            state=S.REGISTERED if organ.is_bureau else S.PENDING, **fields,
        )
        CaseOrgan.objects.create(case=case, organ=organ)
        Petitioner.objects.bulk_create([
            Petitioner(case=case, order=i, name=p.name.strip(), id_number=p.id_number, phone=p.phone,
                       address=p.address.strip(), is_representative=p.is_representative)
            for i, p in enumerate(petitioners)
        ])
        for name, file in attachments:
            from .models import Attachment

            Attachment.objects.create(case=case, file=file, name=name[:200], size=file.size, uploaded_by=_user_of(actor))
        step = _Step(case, actor, "register")
        step.from_state = ""
        received_on = timezone.localdate(received)
        step.open("route" if organ.is_bureau else "accept", received_on, organ)
        cases_created.send(sender=Case, case_ids=[case.pk], source=source)
        case.seq, case.number = next_case_number(organ, year)
        step.finish(case.state, channel=case.channel)
        return case


def submit_online(citizen, bureau: Organ, data: dict, petitioners: list[PetitionerData], attachments=()) -> Case:
    """A petitioner's own online petition (网上信访, Art.17), registered at the petition `bureau`
    they chose, which routes it within 15 days (Art.22). Same checks and records as
    `register_case`; `cases_created` fires with source="portal"."""
    data = {**data, "channel": Channel.ONLINE, "received_at": timezone.now()}
    return register_case(citizen, data, petitioners, attachments, source="portal", bureau=bureau)


# --------------------------------------------------------------------------- the bureau


@_calendar_guard
def route_case(actor, case: Case, *, kind: str, organ: Organ, note: str = "", assigned_due: dt.date | None = None) -> Case:
    """Send a registered case on within the 15-day limit (Art.22): 转送, 交办 (with the assigner's
    deadline and a required 办结报告), 诉访分离 to a 政法 organ (Art.22, 28), or 检举控告 to 纪检监察.
    A case sent to another petition bureau waits there to be routed again."""
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "route")
        refusal = _not_again_reason(case)
        if refusal:
            raise WorkflowError(refusal)
        if kind not in RouteKind.values:
            raise WorkflowError(_("请选择交转方式。"), "kind")
        if organ is None or not organ.is_active:
            raise WorkflowError(_("请选择去向机关。"), "organ")
        if organ.pk == case.current_organ_id:
            raise WorkflowError(_("不能转送给本机关。"), "organ")
        _refuse_skip_level(case)
        if case.category == Category.REPORT and case.accused_organ_id and organ.pk in case.accused_organ.descendant_ids() | {case.accused_organ_id}:
            raise WorkflowError(_("检举控告材料不得转给被检举控告的单位(条例第30条)。"), "organ")
        if kind == RouteKind.LEGAL and organ.kind not in LEGAL_KINDS:
            raise WorkflowError(_("诉访分离应转送政法委、法院、检察院或公安机关。"), "organ")
        if kind == RouteKind.DISCIPLINE and organ.kind != OrganKind.DISCIPLINE:
            raise WorkflowError(_("检举控告应转送纪检监察机关。"), "organ")
        if case.law_related and kind != RouteKind.LEGAL and not organ.is_bureau:
            raise WorkflowError(_("涉法涉诉事项应当按诉访分离转政法机关依法处理(条例第22、28条)。"), "kind")
        if kind == RouteKind.ASSIGN:
            if assigned_due is None:
                raise WorkflowError(_("交办须指定办结期限。"), "assigned_due")
            if assigned_due <= _today():
                raise WorkflowError(_("交办期限应晚于今天。"), "assigned_due")
        elif assigned_due is not None:
            assigned_due = None
        step = _Step(case, actor, "route")
        sender = case.current_organ
        step.close("route")
        case.route_kind, case.routed_by, case.returned_from = kind, sender, None
        case.assigned_due, case.report_required = assigned_due, kind == RouteKind.ASSIGN
        step.move_to(organ)
        if organ.is_bureau and kind in (RouteKind.FORWARD, RouteKind.ASSIGN) and not assigned_due:
            step.open("route", step.today, organ)
            to_state = S.REGISTERED
        else:
            step.open("accept", step.today, organ)
            step.open("object", step.today, organ)
            to_state = S.PENDING
        event = step.finish(to_state, note=note, target=organ, kind=kind, assigned_due=assigned_due)
        issue_document(case, DocKind.ASSIGN if kind == RouteKind.ASSIGN else DocKind.FORWARD, sender, actor, event=event,
                       addressee=organ.name, for_petitioner=False, route=zh(RouteKind(kind).label), note=note,
                       assigned_due=assigned_due.isoformat() if assigned_due else "")
        return case


@_calendar_guard
def inform_case(actor, case: Case, *, channel: str, reason: str) -> Case:
    """Tell the petitioner the proper legal channel (诉讼, 仲裁, 行政复议 …) and close (Art.22).
    `channel` may be a translatable label; the notice records it in Chinese."""
    channel = zh(channel or "")
    if not channel.strip() or not (reason or "").strip():
        raise WorkflowError(_("请填写应当通过的法定途径和告知理由。"))
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "inform")
        step = _Step(case, actor, "inform")
        step.close()
        case.closure, case.closed_at = Closure.INFORMED, step.now
        event = step.finish(S.CLOSED, note=reason, channel=channel)
        issue_document(case, DocKind.INFORM, case.current_organ, actor, event=event, channel=channel, reason=reason)
        return case


@_calendar_guard
def not_accept_case(actor, case: Case, *, reason: str) -> Case:
    """Decide not to accept (不予受理), or — for the same facts after 复核 — 不再受理 (Art.36 ¶3),
    with a written notice to the petitioner."""
    if not (reason or "").strip():
        raise WorkflowError(_("请填写不予受理的理由和依据。"), "reason")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "not_accept")
        original = _re_reviewed_original(case)
        again = original is not None
        step = _Step(case, actor, "not_accept")
        step.close()
        case.closure, case.closed_at = (Closure.NOT_AGAIN if again else Closure.NOT_ACCEPTED), step.now
        event = step.finish(S.CLOSED, note=reason)
        issue_document(case, DocKind.NOT_AGAIN if again else DocKind.NOT_ACCEPTED, case.current_organ, actor, event=event,
                       reason=reason, related=(original or case.related_case).number if case.related_case_id else "")
        return case


@_calendar_guard
def decide_objection(actor, case: Case, *, agree: bool, note: str = "") -> Case:
    """The sender answers an organ's objection (Art.23 ¶3): agreeing takes the file back to be
    routed again within 15 days; disagreeing returns it to the organ to accept within 15 days."""
    if not agree and not (note or "").strip():
        raise WorkflowError(_("不同意退回的,请说明理由。"), "note")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "decide_objection")
        step = _Step(case, actor, "decide_objection")
        if agree:
            step.open("route", step.today, case.current_organ)
            to_state, target = S.REGISTERED, case.current_organ
        else:
            target = case.returned_from
            step.move_to(target)
            step.open("accept", step.today, target)
            to_state = S.PENDING
        step.finish(to_state, note=note, target=target, agree=agree)
        return case


# --------------------------------------------------------------------------- the organ


TRACK_NORMAL, TRACK_SIMPLE = "normal", "simple"
TRACKS = {TRACK_NORMAL: gettext_lazy("一般程序"), TRACK_SIMPLE: gettext_lazy("简易办理")}
# The rule of the simplified track's limit (seeded by the deadlines app, editable by administrators).
SIMPLE_RULE = "simple_handle"
HANDLING_RULES = ("handle", "assign", SIMPLE_RULE)


@_calendar_guard
def accept_case(actor, case: Case, *, route: str, note: str = "", track: str = TRACK_NORMAL) -> Case:
    """Accept a case and notify the petitioner in writing (受理告知书, Art.23), choosing how it will
    be handled (Art.29–31). Route ⑥ (and ⑤) must be finished within 60 days (Art.34); a 交办 case
    by the assigner's deadline (Art.22). `track="simple"` (简易办理, 简单信访马上办) runs the shorter
    limit of the `simple_handle` rule instead, whatever the route; it is refused for a 交办 case,
    whose deadline the assigner set. A simplified acceptance is marked on its event (track)."""
    if track not in TRACKS:
        raise WorkflowError(_("请选择办理程序。"), "track")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "accept")
        refusal = _not_again_reason(case)
        if refusal:
            raise WorkflowError(refusal)
        _refuse_skip_level(case)
        if route not in ROUTES_BY_CATEGORY[case.category]:
            raise WorkflowError(_("请选择与信访类别相符的办理途径。"), "route")
        if track == TRACK_SIMPLE and case.assigned_due:
            raise WorkflowError(_("交办事项按交办机关指定的期限办理(条例第22条),不能选择简易办理。"), "track")
        step = _Step(case, actor, "accept")
        step.close("accept", "object")
        case.handling_route, case.handling_organ = route, case.current_organ
        if case.assigned_due:
            step.open("assign", step.today, case.current_organ, fixed_due=max(case.assigned_due, step.today))
        elif track == TRACK_SIMPLE:
            step.open(SIMPLE_RULE, step.today, case.current_organ)
        elif route in (HandlingRoute.DUTY, HandlingRoute.OPINION):
            step.open("handle", step.today, case.current_organ)
        # Only the simplified track is named on the event: the general one is the default.
        extra = {"track": track} if track != TRACK_NORMAL else {}
        event = step.finish(S.HANDLING, note=note, route=route, **extra)
        simple = {"simple_days": step.rules[SIMPLE_RULE].days} if track == TRACK_SIMPLE else {}
        issue_document(case, DocKind.ACCEPTANCE, case.current_organ, actor, event=event,
                       route=zh(HandlingRoute(route).label), due=case.due_on.isoformat() if case.due_on else "", **simple)
        return case


@_calendar_guard
def object_case(actor, case: Case, *, reason: str) -> Case:
    """Object that a routed case is outside the organ's powers, within 5 working days of receiving
    it, and send it back to the sender for agreement (Art.23 ¶3)."""
    if not (reason or "").strip():
        raise WorkflowError(_("请说明不属于本机关职权范围的理由。"), "reason")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "object")
        if case.routed_by_id is None:
            raise WorkflowError(_("本机关直接收到的信访事项不能退回,请决定受理或不予受理。"))
        window = case.deadlines.filter(rule_id="object", is_open=True).first()
        if window is None or window.has_passed(_today()):
            raise WorkflowError(_("已超过收到后5个工作日的异议期限,应当依法受理(条例第23条)。"))
        step = _Step(case, actor, "object")
        step.close("accept", "object")
        case.returned_from = case.current_organ
        sender = case.routed_by
        step.move_to(sender)
        step.finish(S.RETURNED, note=reason, target=sender)
        return case


@_calendar_guard
def extend_deadline(actor, case: Case, *, days: int, reason: str) -> Case:
    """Extend the handling limit once, by at most 30 days, approved by the organ's head, with the
    reason told to the petitioner in a 延期告知书 (Art.34)."""
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "extend")
        limit = _rules()["extension"].days
        if case.extended:
            raise WorkflowError(_("办理期限只能延长一次(条例第34条)。"))
        if not isinstance(days, int) or not 1 <= days <= limit:
            raise WorkflowError(_("延长期限应为1至%(n)s日(条例第34条)。") % {"n": limit}, "days")
        if not (reason or "").strip():
            raise WorkflowError(_("请填写延期理由,理由将告知信访人(条例第34条)。"), "reason")
        running = case.deadlines.filter(is_open=True, rule_id__in=HANDLING_RULES).first()
        if running is None:
            raise WorkflowError(_("该事项没有法定办理期限,无需延期。"))
        if running.due_on is None:
            # The 延期告知书 must tell the petitioner both dates (Art.34): not before they are known.
            raise WorkflowError(_("现办理期限待%(year)s年节假日安排录入后确定,暂不能延期。请管理员先录入该年安排。") % {
                "year": running.pending_year})
        step = _Step(case, actor, "extend")
        old_due = running.due_on
        running.days += days
        if running.fixed_due:
            running.fixed_due = step.calendar.next_working_day(running.fixed_due + dt.timedelta(days=days))
            running.due_on = running.fixed_due
        else:
            running.due_on = step.calendar.due(running.started_on, running.days, running.rule.unit, running.extra_days)
        running.save()
        case.extended = True
        event = step.finish(S.HANDLING, note=reason, days=days, old_due=old_due, new_due=running.due_on)
        issue_document(case, DocKind.EXTENSION, case.current_organ, actor, event=event, reason=reason, days=days,
                       old_due=old_due.isoformat(), new_due=running.due_on.isoformat())
        return case


def review_allowed(case: Case) -> bool:
    """复查 applies to a 信访处理意见 on a 申诉求决 matter (Art.35)."""
    return case.category == Category.CLAIM and case.handling_route in (HandlingRoute.DUTY, HandlingRoute.OPINION)


@_calendar_guard
def reply_case(actor, case: Case, *, outcome: str, opinion: str, facts: str = "", basis: str = "",
               delivered_on: dt.date | None = None, report: str = "") -> Case:
    """Answer the petitioner: a 信访处理意见书 stating request, facts, decision and legal basis with
    the outcome 支持 / 解释说明 / 不予支持 (Art.32), or the reply to a suggestion or report. A 交办
    case also needs its 办结报告 (Art.22). The 复查 window (30 d, Art.35) and the evaluation window
    run from the day of delivery."""
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "reply")
        if outcome not in OUTCOMES_BY_CATEGORY[case.category]:
            raise WorkflowError(_("请选择与信访类别相符的处理结果。"), "outcome")
        if not (opinion or "").strip():
            raise WorkflowError(_("请填写处理意见。"), "opinion")
        if review_allowed(case):
            # A 信访处理意见书 states the request, the facts, the decision and its legal basis (Art.32).
            if not (facts or "").strip():
                raise WorkflowError(_("信访处理意见书应当载明查明的事实(条例第32条)。"), "facts")
            if not (basis or "").strip():
                raise WorkflowError(_("信访处理意见书应当载明法律政策依据(条例第32条)。"), "basis")
        if case.report_required and not (report or "").strip():
            raise WorkflowError(_("交办事项须报送办结报告(条例第22条)。"), "report")
        today = _today()
        delivered_on = delivered_on or today
        # Routes ①–④, suggestions and reports run no limit, so the acceptance date comes from the
        # timeline rather than from a handling deadline.
        accepted_at = case.events.filter(action="accept").order_by("-at", "-pk").values_list("at", flat=True).first()
        accepted_on = timezone.localdate(accepted_at) if accepted_at else None
        if delivered_on > today:
            raise WorkflowError(_("送达日期不能晚于今天。"), "delivered_on")
        if accepted_on and delivered_on < accepted_on:
            raise WorkflowError(_("送达日期不能早于受理日期。"), "delivered_on")
        step = _Step(case, actor, "reply")
        step.close(*HANDLING_RULES)
        case.outcome, case.replied_at, case.delivered_on = outcome, step.now, delivered_on
        step.open("evaluate", delivered_on, None)
        if review_allowed(case):
            step.open("review_request", delivered_on, None)
        event = step.finish(S.REPLIED, note=opinion, outcome=outcome, delivered_on=delivered_on, report=report)
        kind = DocKind.OPINION if review_allowed(case) else DocKind.REPLY
        issue_document(case, kind, case.current_organ, actor, event=event, outcome=zh(Outcome(case.outcome).label),
                       opinion=opinion, facts=facts, basis=basis, request=case.content[:2000])
        return case


@_calendar_guard
def evaluate_case(actor, case: Case, *, organ_satisfaction: str, bureau_satisfaction: str = "") -> Case:
    """Record the petitioner's evaluation (满意 / 基本满意 / 不满意) of the handling organ and of the
    bureau, within the evaluation window (a setting, default 30 days after delivery)."""
    from .models import Satisfaction

    if organ_satisfaction not in Satisfaction.values or (bureau_satisfaction and bureau_satisfaction not in Satisfaction.values):
        raise WorkflowError(_("请选择满意度。"), "organ_satisfaction")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "evaluate")
        if case.satisfaction_organ:
            raise WorkflowError(_("该事项已经评价。"))
        window = _window(case, "evaluate")
        if window is None:
            raise WorkflowError(_("该事项尚未答复,不能评价。"))
        if window.has_passed(_today()):
            raise WorkflowError(_("评价期限已于%(date)s届满(超期未评价)。") % {"date": window.due_on})
        step = _Step(case, actor, "evaluate")
        step.close("evaluate")
        case.satisfaction_organ, case.satisfaction_bureau = organ_satisfaction, bureau_satisfaction
        step.finish(case.state, organ_satisfaction=organ_satisfaction, bureau_satisfaction=bureau_satisfaction)
        return case


# --------------------------------------------------------------------------- review and re-review


def _request_next_level(actor, case: Case, name: str, window_code: str, duty_code: str, to_state: str,
                        requested_on: dt.date | None, reason: str, article: str) -> Case:
    if not (reason or "").strip():
        raise WorkflowError(_("请填写申请的请求和理由。"), "reason")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, name)
        today = _today()
        if is_citizen(actor):
            requested_on = None  # asked online: received today, never backdated
        requested_on = requested_on or today
        if requested_on > today:
            raise WorkflowError(_("申请日期不能晚于今天。"), "requested_on")
        window = case.deadlines.filter(rule_id=window_code, is_open=True).first()
        if window is None:
            raise WorkflowError(_("该处理意见不适用复查、复核程序。"))
        if window.has_passed(requested_on):
            raise WorkflowError(_("申请期限已于%(date)s届满(条例%(article)s:收到意见之日起30日内提出)。") % {"date": window.due_on, "article": article})
        if requested_on < window.started_on:
            raise WorkflowError(_("申请日期不能早于意见送达日期。"), "requested_on")
        step = _Step(case, actor, name)
        step.close(window_code)
        if is_citizen(actor):
            # Asked online: the request goes to the organ one level up, as if registered there.
            superior = Organ.objects.get(pk=min(acting_organ_id(case, TRANSITIONS[name].where)))
        else:
            superior = actor.organ
        step.move_to(superior)
        step.open(duty_code, requested_on, superior)
        step.finish(to_state, note=reason, target=superior, requested_on=requested_on)
        return case


NEXT_LEVEL_WINDOWS = {"request_review": ("review_request", "第35条"), "request_re_review": ("re_review_request", "第36条")}


def next_level_refusal(actor, case: Case, name: str) -> str | None:
    """Why `actor` may not ask today for 复查 (`name`="request_review", Art.35) or 复核
    ("request_re_review", Art.36) on `case`, in the words `request_review`/`request_re_review`
    would use, or None if they may. Writes nothing: the portal uses it to offer the request or
    explain why not. A window that has run out is named even after the case was filed."""
    window_code, article = NEXT_LEVEL_WINDOWS[name]
    window = case.deadlines.filter(rule_id=window_code).order_by("-pk").first()
    if window is not None and window.due_on is not None and _today() > window.due_on:
        return _("申请期限已于%(date)s届满(条例%(article)s:收到意见之日起30日内提出)。") % {"date": window.due_on, "article": article}
    from .access import transition_refusal

    refusal = transition_refusal(actor, case, name)
    if refusal:
        return refusal
    if window is None or not window.is_open:
        return _("该处理意见不适用复查、复核程序。")
    return None


@_calendar_guard
def request_review(actor, case: Case, *, reason: str, requested_on: dt.date | None = None) -> Case:
    """Register a 复查 request at the organ one level above the one that issued the 意见书, made
    within 30 days of delivery; the 复查意见 is due 30 days after it is received (Art.35)."""
    return _request_next_level(actor, case, "request_review", "review_request", "review", S.REVIEW, requested_on, reason, "第35条")


@_calendar_guard
def request_re_review(actor, case: Case, *, reason: str, requested_on: dt.date | None = None) -> Case:
    """Register a 复核 request one level above the 复查 organ, within 30 days of the 复查意见; the
    复核意见 is due 30 days after it is received, hearing time not counted (Art.36)."""
    return _request_next_level(actor, case, "request_re_review", "re_review_request", "re_review", S.RE_REVIEW, requested_on, reason, "第36条")


def _issue_review(actor, case: Case, name: str, outcome: str, opinion: str, to_state: str, kind: str) -> Case:
    if outcome not in REVIEW_OUTCOMES:
        raise WorkflowError(_("请选择复查/复核结果(维持、变更或撤销)。"), "outcome")
    if not (opinion or "").strip():
        raise WorkflowError(_("请填写意见。"), "opinion")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, name)
        step = _Step(case, actor, name)
        step.close("review", "re_review")
        case.review_outcome, case.delivered_on = outcome, step.today
        if to_state == S.REVIEWED:
            step.open("re_review_request", step.today, None)
        else:
            case.closure, case.closed_at = Closure.RE_REVIEWED, step.now
        event = step.finish(to_state, note=opinion, outcome=outcome)
        issue_document(case, kind, case.current_organ, actor, event=event, outcome=zh(Outcome(case.review_outcome).label),
                       opinion=opinion, request=case.content[:2000])
        return case


@_calendar_guard
def issue_review_opinion(actor, case: Case, *, outcome: str, opinion: str) -> Case:
    """Issue the 复查意见书 (Art.35); the petitioner may ask for 复核 within 30 days."""
    return _issue_review(actor, case, "review", outcome, opinion, S.REVIEWED, DocKind.REVIEW)


@_calendar_guard
def issue_re_review_opinion(actor, case: Case, *, outcome: str, opinion: str) -> Case:
    """Issue the 复核意见书 (Art.36). The matter is final: the same facts and reasons are not
    accepted again by any organ (Art.36 ¶3)."""
    return _issue_review(actor, case, "re_review", outcome, opinion, S.CLOSED, DocKind.RE_REVIEW)


@_calendar_guard
def record_hearing(actor, case: Case, *, days: int, note: str) -> Case:
    """Record a 复核 hearing (听证); its duration is not counted in the 30-day limit (Art.36)."""
    if not isinstance(days, int) or not 1 <= days <= 90:
        raise WorkflowError(_("听证天数应为1至90日。"), "days")
    if not (note or "").strip():
        raise WorkflowError(_("请填写听证情况。"), "note")
    with transaction.atomic():
        case = _lock(case)
        check_transition(actor, case, "hearing")
        step = _Step(case, actor, "hearing")
        duty = case.deadlines.get(rule_id="re_review", is_open=True)
        duty.extra_days += days
        place_due(duty, step.calendar)
        duty.save()
        step.finish(case.state, note=note, days=days, new_due=duty.due_on or duty.pending_label)
        return case


@_calendar_guard
def close_case(actor, case: Case) -> Case:
    """File a replied or reviewed case once the petitioner's window for the next step has passed
    without a request (Art.35, 36). `actor` may be None for the scheduled sweep."""
    with transaction.atomic():
        case = _lock(case)
        if actor is not None:
            check_transition(actor, case, "close")
        elif case.state not in TRANSITIONS["close"].sources:
            raise WorkflowError(_("该信访事项当前状态不能办结归档。"))
        window_code = "review_request" if case.state == S.REPLIED else "re_review_request"
        window = case.deadlines.filter(rule_id=window_code, is_open=True).first()
        if window and not window.has_passed(_today()):
            raise WorkflowError(_("信访人申请%(what)s的期限至%(date)s,届满前不能办结归档。") % {
                "what": _("复查") if window_code == "review_request" else _("复核"),
                "date": window.due_on or window.pending_label})
        step = _Step(case, actor, "close")
        step.close(window_code)
        case.closure = Closure.REPLIED if case.state == S.REPLIED else Closure.REVIEWED
        case.closed_at = step.now
        step.finish(S.CLOSED)
        return case


def sweep_closable(today: dt.date | None = None) -> int:
    """Close every replied/reviewed case whose request window has passed. Idempotent."""
    today = today or _today()
    # One subquery, so the three conditions apply to the same deadline row (an exclude() across
    # the relation would match them on different rows, e.g. a met handling limit due later).
    window_open = Deadline.objects.filter(Q(due_on__gte=today) | Q(due_on__isnull=True), case=OuterRef("pk"),
                                          is_open=True, rule_id__in=["review_request", "re_review_request"])
    ids = Case.objects.filter(state__in=[S.REPLIED, S.REVIEWED]).exclude(Exists(window_open)).values_list("pk", flat=True)
    done = 0
    for pk in list(ids):
        try:
            close_case(None, Case(pk=pk))
            done += 1
        except WorkflowError:
            continue
    return done


# --------------------------------------------------------------------------- recusal (回避)


def recuse(actor, case: Case, *, user, reason: str) -> Recusal:
    """Record that `user` steps aside from `case` (回避, Art.28 ¶3): a staff member of the organ
    holding the case declares it for themselves, or the organ's head orders it for a colleague.
    The case's state does not change; from now on `user` may take no action on it."""
    reason = (reason or "").strip()
    with transaction.atomic():
        case = _lock(case)
        if not getattr(actor, "organ_id", None) or actor.organ_id != case.current_organ_id:
            raise WorkflowError(_("只有当前办理机关的工作人员可以登记回避。"))
        if user is None or getattr(user, "organ_id", None) != case.current_organ_id:
            raise WorkflowError(_("回避人员应为当前办理机关的工作人员。"), "user")
        if user.pk != actor.pk and not actor.has_role(Role.HEAD):
            raise WorkflowError(_("为其他工作人员登记回避须由单位负责人决定(条例第28条)。"), "user")
        if not reason:
            raise WorkflowError(_("请填写回避理由。"), "reason")
        if case.recusals.filter(user=user).exists():
            raise WorkflowError(_("%(name)s已对本事项回避。") % {"name": user.full_name or user.username}, "user")
        recusal = Recusal.objects.create(case=case, user=user, reason=reason, recorded_by=actor)
        now = timezone.now()
        Event.objects.create(case=case, action="recuse", at=now, actor=actor, organ=actor.organ, from_state=case.state,
                             to_state=case.state, note=reason, data={"user": user.pk})
        audit(actor, "case.recuse", case, number=case.number, user=user.username)
        return recusal
