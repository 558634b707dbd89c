"""Mediation services: one function per action (DESIGN habit 2).

Each checks who acts and on what, validates its input (WorkflowError with a Chinese message,
nothing written), then in one transaction writes its record, a timeline Event (the case's state is
left alone: mediation runs beside handling, and state changes belong to xinfang.cases.workflow),
any numbered document and an audit entry.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.log import append as audit
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Case, CaseOrgan, Category, Event, State
from xinfang.documents.models import DocKind
from xinfang.documents.numbering import issue_document
from xinfang.orgs.models import Organ, OrganKind, Role

from .models import AGREEMENTS, Mediation, Mediator, Session, Status

# A dispute can be sent to mediation at intake (registered or awaiting acceptance) or while it is
# being handled (Art.33: the organ may mediate or ask a mediation organisation to).
REFERABLE_STATES = (State.REGISTERED, State.PENDING, State.HANDLING)


def _event(case: Case, actor, action: str, *, note: str = "", target: Organ | None = None, **data) -> Event:
    return Event.objects.create(case=case, action=action, at=timezone.now(), actor=actor, organ=actor.organ,
                                target_organ=target, from_state=case.state, to_state=case.state, note=note, data=data)


def may_refer(user, case: Case) -> bool:
    return bool(getattr(user, "organ_id", None) and user.organ_id == case.current_organ_id
                and user.has_role(Role.REGISTRAR, Role.HANDLER, Role.HEAD))


def may_mediate(user, mediation: Mediation) -> bool:
    """The mediation organisation's staff, and the mediator the referral names, run the mediation."""
    if mediation.mediator_id and mediation.mediator.user_id == getattr(user, "pk", None):
        return True
    return bool(getattr(user, "organ_id", None) and user.organ_id == mediation.organ_id)


def refer(actor, case: Case, *, organ: Organ, mediator: Mediator | None = None, note: str = "") -> Mediation:
    """Send the dispute of a 申诉求决 case to a mediation organisation (Art.33). The organisation is
    linked to the case so its mediators can read it."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not may_refer(actor, case):
            raise WorkflowError(_("只有当前办理机关的登记员、承办人或负责人可以委托调解。"))
        if case.state not in REFERABLE_STATES:
            raise WorkflowError(_("该信访事项当前状态为“%(state)s”,不能委托调解。") % {"state": case.get_state_display()})
        if case.category != Category.CLAIM:
            raise WorkflowError(_("只有申诉求决类事项涉及的民事纠纷可以委托人民调解(条例第33条)。"))
        if organ is None or organ.kind != OrganKind.MEDIATION or not organ.is_active:
            raise WorkflowError(_("请选择在册的调解组织。"), "organ")
        if mediator is not None and (mediator.organ_id != organ.pk or not mediator.is_active):
            raise WorkflowError(_("所选调解员不属于该调解组织。"), "mediator")
        if case.mediations.filter(status=Status.OPEN).exists():
            raise WorkflowError(_("该事项已在调解中。"))
        stage = "intake" if case.state in (State.REGISTERED, State.PENDING) else "handling"
        mediation = Mediation.objects.create(case=case, organ=organ, mediator=mediator, referring_organ=actor.organ,
                                             referred_by=actor, stage=stage, note=(note or "").strip())
        CaseOrgan.objects.get_or_create(case=case, organ=organ)
        _event(case, actor, "mediation_refer", note=mediation.note, target=organ, mediation=mediation.pk)
        audit(actor, "mediation.refer", case, number=case.number, organ=organ.pk, mediation=mediation.pk)
        return mediation


def _open(mediation: Mediation, actor) -> Mediation:
    mediation = Mediation.objects.select_for_update().get(pk=mediation.pk)  # no joins: PostgreSQL refuses FOR UPDATE on an outer join
    if not may_mediate(actor, mediation):
        raise WorkflowError(_("只有承担调解的调解组织或调解员可以办理。"))
    if not mediation.is_open:
        raise WorkflowError(_("该调解已经结束。"))
    return mediation


def log_session(actor, mediation: Mediation, *, held_at: dt.datetime, place: str, participants: str, notes: str) -> Session:
    """Record one session of an open mediation."""
    place, participants, notes = (place or "").strip(), (participants or "").strip(), (notes or "").strip()
    if held_at is None:
        raise WorkflowError(_("请填写调解时间。"), "held_at")
    if held_at > timezone.now():
        raise WorkflowError(_("调解时间不能晚于现在。"), "held_at")
    for value, field, label in ((place, "place", _("地点")), (participants, "participants", _("参加人员")),
                                (notes, "notes", _("调解情况"))):
        if not value:
            raise WorkflowError(_("请填写%(label)s。") % {"label": label}, field)
    with transaction.atomic():
        mediation = _open(mediation, actor)
        if held_at < mediation.referred_at - dt.timedelta(days=1):
            raise WorkflowError(_("调解时间不能早于委托调解的时间。"), "held_at")
        session = Session.objects.create(mediation=mediation, held_at=held_at, place=place, participants=participants,
                                         notes=notes, recorded_by=actor)
        audit(actor, "mediation.session", mediation.case, mediation=mediation.pk, session=session.pk)
        return session


def conclude(actor, mediation: Mediation, *, outcome: str, terms: str = "", reason: str = "") -> Mediation:
    """End a mediation: an agreement through the mediator (调解协议书), the parties' own settlement
    (和解协议书), or failure (the case goes on being handled)."""
    terms, reason = (terms or "").strip(), (reason or "").strip()
    if outcome not in (Status.AGREED, Status.SETTLED, Status.FAILED):
        raise WorkflowError(_("请选择调解结果。"), "outcome")
    if outcome in AGREEMENTS and not terms:
        raise WorkflowError(_("请填写协议内容(各方的权利义务和履行方式、期限)。"), "terms")
    if outcome == Status.FAILED and not reason:
        raise WorkflowError(_("请说明调解不成的原因。"), "reason")
    with transaction.atomic():
        mediation = _open(mediation, actor)
        if outcome in AGREEMENTS and not mediation.sessions.exists():
            raise WorkflowError(_("达成协议前请先登记调解记录。"))
        case = mediation.case
        mediation.status, mediation.concluded_at, mediation.concluded_by = outcome, timezone.now(), actor
        mediation.terms, mediation.failure_reason = terms, reason
        event = _event(case, actor, "mediation_end", note=terms or reason, outcome=outcome, mediation=mediation.pk)
        if outcome in AGREEMENTS:
            kind = DocKind.MEDIATION_AGREEMENT if outcome == Status.AGREED else DocKind.SETTLEMENT_AGREEMENT
            mediation.document = issue_document(
                case, kind, mediation.organ, actor, event=event, terms=terms,
                mediator=mediation.mediator.name if mediation.mediator_id else "",
                sessions=mediation.sessions.count(), referring_organ=mediation.referring_organ.name)
        mediation.save()
        audit(actor, "mediation.conclude", case, number=case.number, mediation=mediation.pk, outcome=outcome)
        return mediation


def confirm(actor, mediation: Mediation, *, court: str, confirmed_on: dt.date, number: str) -> Mediation:
    """Record the court's judicial confirmation (司法确认) of a mediation agreement."""
    court, number = (court or "").strip(), (number or "").strip()
    with transaction.atomic():
        mediation = Mediation.objects.select_for_update().get(pk=mediation.pk)  # no joins: PostgreSQL refuses FOR UPDATE on an outer join
        if not (may_mediate(actor, mediation) or getattr(actor, "organ_id", None) == mediation.referring_organ_id):
            raise WorkflowError(_("只有调解组织或委托机关可以登记司法确认。"))
        if mediation.status != Status.AGREED:
            raise WorkflowError(_("只有人民调解协议可以申请司法确认。"))
        if mediation.confirmed_on:
            raise WorkflowError(_("该调解协议已登记司法确认。"))
        if not court:
            raise WorkflowError(_("请填写作出确认的人民法院。"), "court")
        if not number:
            raise WorkflowError(_("请填写确认裁定书文号。"), "number")
        if confirmed_on is None or confirmed_on > timezone.localdate():
            raise WorkflowError(_("确认日期不能晚于今天。"), "confirmed_on")
        if confirmed_on < timezone.localdate(mediation.concluded_at):
            raise WorkflowError(_("确认日期不能早于达成调解协议的日期。"), "confirmed_on")
        mediation.confirmed_on, mediation.confirming_court, mediation.confirmation_number = confirmed_on, court, number
        mediation.save(update_fields=["confirmed_on", "confirming_court", "confirmation_number"])
        _event(mediation.case, actor, "judicial_confirm", note=f"{court} {number}", mediation=mediation.pk)
        audit(actor, "mediation.confirm", mediation.case, mediation=mediation.pk, court=court, number=number)
        return mediation
