"""Supervision and leadership services: one function per action (DESIGN habit 2).

Each function checks who acts (roles and organs: `Refused`, shown as 403), validates its input
(`WorkflowError`, shown as 400), and then, in one transaction, writes its record, an `Event` on the
case's timeline (the case's state is left as it is: state changes belong to
`xinfang.cases.workflow`), any numbered document, and an audit entry. A refusal changes nothing.

Cases are reached only through `xinfang.cases.access.cases_visible_to`: a supervisor acts on the
cases of the organ subtree they oversee, a leader on the cases they can see.
"""
from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.log import append as audit
from xinfang.cases.access import WorkflowError, cases_visible_to
from xinfang.cases.models import OPEN_STATES, Case, Category, Event, State
from xinfang.documents.numbering import issue_document, zh
from xinfang.orgs.models import LEVEL_ORDER, Organ, OrganKind, Role, User

from . import conf
from .models import (
    ADOPTION_CHOICES, PROPOSAL_KINDS, CaseListing, ChecklistItem, Escalation, Instruction, LeaderAssignment, LetterKind,
    LetterStatus, SpotCheck, SpotCheckItem, SupervisionLetter,
)


class Refused(WorkflowError):
    """The actor may not take this action at all (wrong role or organ): a 403 with the reason."""


# Event actions written on the case timeline, with their labels (they never change the state).
EVENT_LABELS = {
    "supervision.letter": gettext_lazy("督办发函"),
    "supervision.answer": gettext_lazy("督办函件答复"),
    "supervision.close": gettext_lazy("督办函件办结"),
    "supervision.return": gettext_lazy("督办答复退回"),
    "supervision.list": gettext_lazy("挂牌督办"),
    "supervision.unlist": gettext_lazy("摘牌"),
    "supervision.leader": gettext_lazy("领导包案"),
    "supervision.leader_end": gettext_lazy("结束包案"),
    "supervision.instruct": gettext_lazy("领导批示"),
    "supervision.escalate": gettext_lazy("提级调度"),
    "supervision.escalate_result": gettext_lazy("提级调度结果"),
}


def event_label(action: str) -> str | None:
    label = EVENT_LABELS.get(action)
    return str(label) if label is not None else None


# --------------------------------------------------------------------------- who may act


def is_supervisor(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "organ_id", None)
                and user.has_role(Role.SUPERVISOR))


def is_leader(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "organ_id", None)
                and user.has_role(Role.LEADER))


def _need_supervisor(user) -> None:
    if not is_supervisor(user):
        raise Refused(_("该操作须由督查员办理。"))


def _need_visible(user, case: Case) -> None:
    """The acting user must see the case (cases_visible_to: the oversight subtree); like a missing
    case, an invisible one is refused without saying more."""
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise Refused(_("信访事项不存在或无权查看"))


def _text(value, label, field=None) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(_("请填写%(label)s。") % {"label": label}, field)
    return value


def _event(case: Case, actor, action: str, *, note: str = "", target: Organ | None = None, **data) -> Event:
    """A timeline entry that records a supervision act without changing the case's state."""
    return Event.objects.create(case=case, action=action, at=timezone.now(), actor=actor, organ=actor.organ,
                                target_organ=target, from_state=case.state, to_state=case.state, note=note, data=data)


def _today() -> dt.date:
    return timezone.localdate()


# --------------------------------------------------------------------------- letters


def default_addressee(case: Case, kind: str, issuer: Organ) -> Organ | None:
    """Who a letter of `kind` goes to unless the supervisor chooses otherwise (Art.14, Art.40):
    the organ handling the case; for 完善政策建议 the people's government at the issuer's level;
    for 追究责任建议 the body above the handling organ, which has authority over its staff."""
    handling = case.current_organ if not case.current_organ.is_bureau else (case.handling_organ or case.current_organ)
    if kind == LetterKind.POLICY:
        node = issuer
        while node is not None:
            if node.kind == OrganKind.GOVERNMENT and node.level == issuer.level:
                return node
            node = node.parent
        return issuer.parent
    if kind == LetterKind.ACCOUNTABILITY:
        return handling.parent or handling
    return handling


def _accused_side(case: Case, organ: Organ) -> bool:
    """Whether `organ` is the accused organ of a 检举控告 case or below it (Art.30 ¶3)."""
    if case.category != Category.REPORT or not case.accused_organ_id:
        return False
    return organ.pk in case.accused_organ.descendant_ids()


def issue_letter(actor, case: Case, *, kind: str, organ: Organ | None, reason: str, requirement: str = "",
                 answer_due: dt.date | None = None) -> SupervisionLetter:
    """Issue a numbered 督办函, 工作提醒函, 风险提醒函 or one of the 三项建议 to `organ` about `case`
    (Art.14, 39, 40). The organ must answer in writing by `answer_due` (default: today plus
    SUPERVISION_ANSWER_DAYS)."""
    _need_supervisor(actor)
    _need_visible(actor, case)
    if kind not in LetterKind.values:
        raise WorkflowError(_("请选择函件类型。"), "kind")
    if organ is None or not organ.is_active:
        raise WorkflowError(_("请选择主送机关。"), "organ")
    if organ.pk == actor.organ_id:
        raise WorkflowError(_("不能向本机关发函。"), "organ")
    if _accused_side(case, organ):
        raise WorkflowError(_("检举控告材料不得转给被检举控告的单位(条例第30条),请选择其他主送机关。"), "organ")
    reason = _text(reason, _("督办事由"), "reason")
    requirement = (requirement or "").strip()
    today = _today()
    answer_due = answer_due or today + dt.timedelta(days=conf.answer_days())
    if answer_due <= today:
        raise WorkflowError(_("答复期限应晚于今天。"), "answer_due")
    with transaction.atomic():
        case = Case.objects.select_related("current_organ").get(pk=case.pk)
        listed = CaseListing.objects.filter(case=case, cleared_at__isnull=True).exists()
        label = zh(LetterKind(kind).label)
        event = _event(case, actor, "supervision.letter", note=reason, target=organ, kind=kind)
        overdue_days = (today - case.due_on).days if case.due_on and case.is_open and case.due_on < today else 0
        document = issue_document(
            case, kind, actor.organ, actor, event=event, addressee=organ.name, for_petitioner=False,
            reason=reason, requirement=requirement, answer_due=answer_due.isoformat(),
            current_organ=case.current_organ.name, state=zh(case.state_label),
            due_on=case.due_on.isoformat() if case.due_on and case.is_open else "", overdue_days=overdue_days,
            listed=listed,
        )
        letter = SupervisionLetter.objects.create(
            case=case, kind=kind, document=document, issuer=actor.organ, organ=organ, issued_by=actor,
            reason=reason, requirement=requirement, answer_due=answer_due,
        )
        event.data = {**event.data, "letter": letter.pk, "number": document.number}
        event.save(update_fields=["data"])
        audit(actor, "supervision.letter", letter, case=case.number, kind=kind, label=label, number=document.number,
              organ=organ.pk, answer_due=answer_due.isoformat())
        return letter


def letters_for(user):
    """Letters the user may see: issued by an organ in a supervisor's subtree, or addressed to
    the user's organ."""
    qs = SupervisionLetter.objects.select_related("case", "document", "organ", "issuer")
    if not getattr(user, "is_authenticated", False) or not getattr(user, "organ_id", None):
        return qs.none()
    q = Q(organ_id=user.organ_id)
    if user.has_role(Role.SUPERVISOR, Role.LEADER):
        q |= Q(issuer_id__in=user.organ.descendant_ids())
    return qs.filter(q)


def may_answer(user, letter: SupervisionLetter) -> bool:
    return bool(getattr(user, "organ_id", None) == letter.organ_id and user.has_role(Role.HANDLER, Role.HEAD))


def may_close(user, letter: SupervisionLetter) -> bool:
    return is_supervisor(user) and letter.issuer_id in user.organ.descendant_ids()


def answer_letter(actor, letter: SupervisionLetter, *, answer: str, adoption: str = "") -> SupervisionLetter:
    """The receiving organ's written answer: what it did, and for the 三项建议 whether it adopted
    the proposal (Art.40)."""
    if not may_answer(actor, letter):
        raise Refused(_("只有主送机关的承办人或负责人可以答复该函件。"))
    answer = _text(answer, _("书面答复"), "answer")
    if letter.kind in PROPOSAL_KINDS:
        if adoption not in dict(ADOPTION_CHOICES):
            raise WorkflowError(_("请说明是否采纳建议。"), "adoption")
    else:
        adoption = ""
    with transaction.atomic():
        letter = SupervisionLetter.objects.select_for_update().get(pk=letter.pk)
        if letter.status != LetterStatus.OPEN:
            raise WorkflowError(_("该函件已经答复,等待发函机关审核。") if letter.status == LetterStatus.ANSWERED
                                else _("该函件已办结。"))
        letter.answer, letter.adoption = answer, adoption
        letter.answered_by, letter.answered_at, letter.status = actor, timezone.now(), LetterStatus.ANSWERED
        letter.save()
        _event(letter.case, actor, "supervision.answer", note=answer, target=letter.issuer, letter=letter.pk,
               adoption=adoption)
        audit(actor, "supervision.answer", letter, case=letter.case.number, adoption=adoption,
              late=timezone.localdate() > letter.answer_due)
        return letter


def review_answer(actor, letter: SupervisionLetter, *, accept: bool, note: str = "") -> SupervisionLetter:
    """The issuing supervisor closes the letter on an answer (办结), or returns the answer to be done
    again (退回, with the reason), reopening it."""
    if not may_close(actor, letter):
        raise Refused(_("只有发函机关的督查员可以审核答复。"))
    note = (note or "").strip()
    if not accept and not note:
        raise WorkflowError(_("退回重新答复须说明理由。"), "note")
    with transaction.atomic():
        letter = SupervisionLetter.objects.select_for_update().get(pk=letter.pk)
        if letter.status != LetterStatus.ANSWERED:
            raise WorkflowError(_("该函件尚未答复,不能办结。") if letter.status == LetterStatus.OPEN else _("该函件已办结。"))
        if accept:
            letter.status, letter.closed_by, letter.closed_at = LetterStatus.CLOSED, actor, timezone.now()
            action = "supervision.close"
        else:
            letter.status = LetterStatus.OPEN
            action = "supervision.return"
        letter.close_note = note
        letter.save()
        _event(letter.case, actor, action, note=note, target=letter.organ, letter=letter.pk)
        audit(actor, action, letter, case=letter.case.number, note=note)
        return letter


# --------------------------------------------------------------------------- 挂牌督办


def active_listing(case: Case) -> CaseListing | None:
    return CaseListing.objects.filter(case=case, cleared_at__isnull=True).first()


def listed_ids(case_ids) -> set[int]:
    """Ids among `case_ids` that are 挂牌督办 now (one query)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(CaseListing.objects.filter(case_id__in=ids, cleared_at__isnull=True).values_list("case_id", flat=True))


def list_case(actor, case: Case, *, reason: str) -> CaseListing:
    """Put a case on 挂牌督办 (Art.39) with the reason."""
    _need_supervisor(actor)
    _need_visible(actor, case)
    reason = _text(reason, _("挂牌理由"), "reason")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # serialise two supervisors
        if active_listing(case):
            raise WorkflowError(_("该事项已挂牌督办。"))
        listing = CaseListing.objects.create(case=case, organ=actor.organ, reason=reason, listed_by=actor)
        _event(case, actor, "supervision.list", note=reason, listing=listing.pk)
        audit(actor, "supervision.list", case, number=case.number, reason=reason)
        return listing


def unlist_case(actor, case: Case, *, reason: str) -> CaseListing:
    """Clear the 挂牌督办 of a case (摘牌), with the reason."""
    _need_supervisor(actor)
    _need_visible(actor, case)
    reason = _text(reason, _("摘牌理由"), "reason")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        listing = active_listing(case)
        if listing is None:
            raise WorkflowError(_("该事项未挂牌督办。"))
        listing.cleared_by, listing.cleared_at, listing.clear_reason = actor, timezone.now(), reason
        listing.save()
        _event(case, actor, "supervision.unlist", note=reason, listing=listing.pk)
        audit(actor, "supervision.unlist", case, number=case.number, reason=reason)
        return listing


# --------------------------------------------------------------------------- 领导包案 and 批示


def leaders_for(case: Case):
    """Leaders who may take charge of `case`: users with the leader role who can see it."""
    # The text match narrows the rows in the database (roles is a JSON list); has_role decides.
    leaders = [u for u in User.objects.filter(is_active=True, organ__isnull=False, roles__icontains=Role.LEADER.value)
               .select_related("organ") if u.has_role(Role.LEADER)]
    return [u for u in leaders if cases_visible_to(u).filter(pk=case.pk).exists()]


def assign_leader(actor, case: Case, *, leader: User | None, assigned_on: dt.date | None, note: str = "") -> LeaderAssignment:
    """领导包案: a supervisor assigns a leader to the case from a date, or a leader takes it on."""
    if not (is_supervisor(actor) or (is_leader(actor) and leader is not None and leader.pk == actor.pk)):
        raise Refused(_("领导包案须由督查员安排,或由领导本人认领。"))
    _need_visible(actor, case)
    if leader is None or not leader.has_role(Role.LEADER) or not leader.is_active:
        raise WorkflowError(_("请选择包案领导。"), "leader")
    if not cases_visible_to(leader).filter(pk=case.pk).exists():
        raise WorkflowError(_("%(name)s所在机关不分管该事项,不能包案。") % {"name": leader}, "leader")
    if assigned_on is None:
        raise WorkflowError(_("请填写包案日期。"), "assigned_on")
    if assigned_on > _today():
        raise WorkflowError(_("包案日期不能晚于今天。"), "assigned_on")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        if LeaderAssignment.objects.filter(case=case, leader=leader, is_active=True).exists():
            raise WorkflowError(_("%(name)s已包案该事项。") % {"name": leader}, "leader")
        assignment = LeaderAssignment.objects.create(case=case, leader=leader, assigned_on=assigned_on,
                                                     assigned_by=actor, note=(note or "").strip())
        _event(case, actor, "supervision.leader", note=_("包案领导:%(name)s") % {"name": leader}, leader=leader.pk,
               assigned_on=assigned_on.isoformat())
        audit(actor, "supervision.leader", case, number=case.number, leader=leader.pk, assigned_on=assigned_on.isoformat())
        return assignment


def end_assignment(actor, assignment: LeaderAssignment, *, note: str = "") -> LeaderAssignment:
    """End a leader's charge of a case (the leader or a supervisor who can see the case)."""
    if not (actor.pk == assignment.leader_id or is_supervisor(actor)):
        raise Refused(_("只有包案领导本人或督查员可以结束包案。"))
    _need_visible(actor, assignment.case)
    with transaction.atomic():
        assignment = LeaderAssignment.objects.select_for_update().get(pk=assignment.pk)
        if not assignment.is_active:
            raise WorkflowError(_("该包案已经结束。"))
        assignment.is_active = False
        assignment.save(update_fields=["is_active"])
        _event(assignment.case, actor, "supervision.leader_end", note=(note or "").strip(), leader=assignment.leader_id)
        audit(actor, "supervision.leader_end", assignment.case, number=assignment.case.number, leader=assignment.leader_id)
        return assignment


def instruct(actor, case: Case, *, text: str) -> Instruction:
    """A leader's 批示 on a case, sent to the organ that holds the case now."""
    if not is_leader(actor):
        raise Refused(_("批示须由领导作出。"))
    _need_visible(actor, case)
    text = _text(text, _("批示内容"), "text")
    with transaction.atomic():
        case = Case.objects.select_related("current_organ").get(pk=case.pk)
        instruction = Instruction.objects.create(case=case, leader=actor, organ=case.current_organ, text=text)
        _event(case, actor, "supervision.instruct", note=text, target=case.current_organ, instruction=instruction.pk)
        audit(actor, "supervision.instruct", case, number=case.number, instruction=instruction.pk)
        return instruction


def acknowledge(actor, instruction: Instruction) -> Instruction:
    """The organ that received a 批示 signs for it (签收), which takes it off the inbox."""
    if getattr(actor, "organ_id", None) != instruction.organ_id:
        raise Refused(_("只有承办机关可以签收该批示。"))
    with transaction.atomic():
        updated = Instruction.objects.filter(pk=instruction.pk, read_at__isnull=True).update(
            read_by=actor, read_at=timezone.now())
        if not updated:
            raise WorkflowError(_("该批示已签收。"))
        audit(actor, "supervision.instruction_read", instruction, case=instruction.case.number)
        instruction.refresh_from_db()
        return instruction


def unread_instructions(user):
    """批示 on cases now at the user's organ that it has not signed for yet."""
    if not getattr(user, "organ_id", None):
        return Instruction.objects.none()
    return (Instruction.objects.filter(organ_id=user.organ_id, read_at__isnull=True, case__current_organ_id=user.organ_id)
            .select_related("case", "leader"))


# --------------------------------------------------------------------------- 提级


def _level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)


def escalate(actor, case: Case, *, conference: str, decided_on: dt.date | None, to_organ: Organ | None,
             reason: str) -> Escalation:
    """Record the joint conference's decision to raise a case a level (提级调度, REGULATION §5,
    Art.24): who recorded it, when it was decided, the level and organ it goes to, and why."""
    if not (is_supervisor(actor) or is_leader(actor)):
        raise Refused(_("提级调度须由督查员或领导记录联席会议的决定。"))
    _need_visible(actor, case)
    conference = _text(conference, _("联席会议"), "conference")
    reason = _text(reason, _("提级理由"), "reason")
    if decided_on is None:
        raise WorkflowError(_("请填写决定日期。"), "decided_on")
    if decided_on > _today():
        raise WorkflowError(_("决定日期不能晚于今天。"), "decided_on")
    if to_organ is None or not to_organ.is_active:
        raise WorkflowError(_("请选择提级后的机关。"), "to_organ")
    case = Case.objects.select_related("current_organ").get(pk=case.pk)
    current = case.current_organ
    above = to_organ.pk in _ancestor_ids(current) or _level_rank(to_organ.level) < _level_rank(current.level)
    if to_organ.pk == current.pk or not above:
        raise WorkflowError(_("提级应当提至比当前机关(%(organ)s,%(level)s)更高一级的机关。") % {
            "organ": current.name, "level": current.get_level_display()}, "to_organ")
    if _accused_side(case, to_organ):
        raise WorkflowError(_("检举控告材料不得转给被检举控告的单位(条例第30条)。"), "to_organ")
    with transaction.atomic():
        escalation = Escalation.objects.create(
            case=case, conference=conference, decided_on=decided_on, from_organ=current, to_level=to_organ.level,
            to_organ=to_organ, reason=reason, recorded_by=actor)
        _event(case, actor, "supervision.escalate", note=reason, target=to_organ, escalation=escalation.pk,
               conference=conference, decided_on=decided_on.isoformat(), to_level=to_organ.level)
        audit(actor, "supervision.escalate", case, number=case.number, to_organ=to_organ.pk, to_level=to_organ.level,
              conference=conference, decided_on=decided_on.isoformat())
        return escalation


def _ancestor_ids(organ: Organ) -> set[int]:
    found, node = set(), organ.parent
    while node is not None and node.pk not in found:
        found.add(node.pk)
        node = node.parent
    return found


def record_escalation_result(actor, escalation: Escalation, *, result: str) -> Escalation:
    """The result of a 提级调度, recorded once it is known."""
    if not (is_supervisor(actor) or is_leader(actor)):
        raise Refused(_("提级调度结果须由督查员或领导记录。"))
    _need_visible(actor, escalation.case)
    result = _text(result, _("调度结果"), "result")
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        escalation.result, escalation.result_at = result, timezone.now()
        escalation.save(update_fields=["result", "result_at"])
        _event(escalation.case, actor, "supervision.escalate_result", note=result, escalation=escalation.pk)
        audit(actor, "supervision.escalate_result", escalation.case, number=escalation.case.number, escalation=escalation.pk)
        return escalation


# --------------------------------------------------------------------------- the desk


def desk_cases(user):
    """Open cases with a dated running limit that is near or past due, in the user's oversight.
    A limit pending for a missing calendar year (due_on NULL) is neither."""
    today = _today()
    return (cases_visible_to(user).filter(state__in=OPEN_STATES, due_on__isnull=False)
            .filter(Q(due_on__lt=today) | Q(due_warn_on__lte=today)))


def desk_summary(user) -> list[dict]:
    """Counts of overdue and near-due cases by organ and stage (state), worst first."""
    today = _today()
    rows = (desk_cases(user).values("current_organ_id", "current_organ__name", "state")
            .annotate(overdue=Count("pk", filter=Q(due_on__lt=today)), near=Count("pk", filter=Q(due_on__gte=today)))
            .order_by("-overdue", "-near", "current_organ__name", "state"))
    labels = dict(State.choices)
    return [{**r, "state_label": labels.get(r["state"], r["state"])} for r in rows]


# --------------------------------------------------------------------------- 网上抽查


def draw_sample(population: dict[int, list[int]], per_organ: int, seed: str) -> dict[int, list[int]]:
    """The cases drawn per organ: for each organ, `per_organ` ids (or all, if fewer) chosen by a
    generator seeded with (seed, organ). Same seed and population, same sample, on any machine."""
    out = {}
    for organ_id in sorted(population):
        ids = sorted(population[organ_id])
        rng = random.Random(f"{seed}:{organ_id}")
        out[organ_id] = sorted(rng.sample(ids, min(per_organ, len(ids))))
    return out


def spot_population(user, start: dt.date, end: dt.date, organ_ids=None) -> dict[int, list[int]]:
    """Closed cases visible to `user`, closed within [start, end], grouped by the organ that
    handled them (the current organ when no handling organ was recorded)."""
    qs = (cases_visible_to(user).filter(state=State.CLOSED, closed_at__isnull=False)
          .filter(closed_at__date__gte=start, closed_at__date__lte=end)
          .annotate(resp=Coalesce("handling_organ_id", "current_organ_id")))
    if organ_ids:
        qs = qs.filter(resp__in=list(organ_ids))
    out: dict[int, list[int]] = {}
    for pk, organ_id in qs.values_list("pk", "resp"):
        out.setdefault(organ_id, []).append(pk)
    return out


def draw_spot_check(actor, *, start: dt.date | None, end: dt.date | None, per_organ: int | None, seed: str = "",
                    organs=None, pass_score: int | None = None) -> SpotCheck:
    """网上抽查: draw `per_organ` closed cases of each organ (closed in the period) for scoring
    against the checklist in force. The seed is recorded (a random one when none is given)."""
    _need_supervisor(actor)
    if start is None or end is None:
        raise WorkflowError(_("请填写抽查期间。"), "start")
    if start > end:
        raise WorkflowError(_("起始日不能晚于截止日。"), "start")
    if not per_organ or not 1 <= per_organ <= 200:
        raise WorkflowError(_("每单位抽取件数应在1到200之间。"), "per_organ")
    items = list(ChecklistItem.objects.filter(is_active=True, weight__gt=0))
    if not items:
        raise WorkflowError(_("尚未设置抽查检查项,请先在系统管理中添加。"))
    seed = (seed or "").strip() or secrets.token_hex(8)
    pass_score = pass_score or conf.spot_pass_score()
    organ_ids = [o.pk for o in organs] if organs else None
    sample = draw_sample(spot_population(actor, start, end, organ_ids), per_organ, seed)
    if not any(sample.values()):
        raise WorkflowError(_("该期间内没有可抽查的已办结信访事项。"))
    with transaction.atomic():
        check = SpotCheck.objects.create(
            organ=actor.organ, period_start=start, period_end=end, per_organ=per_organ, seed=seed,
            pass_score=pass_score, drawn_by=actor,
            checklist=[{"id": i.pk, "text": i.text, "weight": i.weight} for i in items])
        SpotCheckItem.objects.bulk_create([SpotCheckItem(check_run=check, case_id=case_id, organ_id=organ_id)
                                           for organ_id, ids in sample.items() for case_id in ids])
        audit(actor, "supervision.spot_check", check, seed=seed, start=start.isoformat(), end=end.isoformat(),
              per_organ=per_organ, cases=sum(len(v) for v in sample.values()))
        return check


def spot_checks_for(user):
    """Spot checks drawn in the user's oversight subtree (supervisors), else none."""
    if not is_supervisor(user):
        return SpotCheck.objects.none()
    return SpotCheck.objects.filter(organ_id__in=user.organ.descendant_ids())


def score_item(actor, item: SpotCheckItem, *, met, note: str = "") -> SpotCheckItem:
    """Score one sampled case: the weights of the checklist points it meets, out of 100."""
    check = item.check_run
    if not spot_checks_for(actor).filter(pk=check.pk).exists():
        raise Refused(_("只有抽查机关的督查员可以评分。"))
    if check.published_at:
        raise WorkflowError(_("抽查结果已经公布,不能再修改评分。"))
    weights = {int(p["id"]): int(p["weight"]) for p in check.checklist}
    try:
        met_ids = sorted({int(m) for m in met})
    except (TypeError, ValueError):
        raise WorkflowError(_("检查项无效。")) from None
    if not set(met_ids) <= set(weights):
        raise WorkflowError(_("检查项无效。"))
    total = sum(weights.values())
    score = (Decimal(100 * sum(weights[m] for m in met_ids)) / Decimal(total)).quantize(Decimal("0.1"))
    with transaction.atomic():
        item.met, item.score, item.passed = met_ids, score, score >= check.pass_score
        item.note, item.scored_by, item.scored_at = (note or "").strip(), actor, timezone.now()
        item.save()
        audit(actor, "supervision.spot_score", item, check=check.pk, case=item.case_id, score=str(score))
        return item


def publish_spot_check(actor, check: SpotCheck) -> SpotCheck:
    """Publish the pass rates of a fully scored check."""
    if not spot_checks_for(actor).filter(pk=check.pk).exists():
        raise Refused(_("只有抽查机关的督查员可以公布结果。"))
    if check.items.filter(score__isnull=True).exists():
        raise WorkflowError(_("还有抽查事项未评分,不能公布。"))
    with transaction.atomic():
        if SpotCheck.objects.filter(pk=check.pk, published_at__isnull=True).update(published_at=timezone.now()) == 0:
            raise WorkflowError(_("抽查结果已经公布。"))
        check.refresh_from_db()
        audit(actor, "supervision.spot_publish", check)
        return check


@dataclass
class PassRate:
    organ: Organ
    sampled: int
    scored: int
    passed: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None


def pass_rates(check: SpotCheck) -> list[PassRate]:
    """Pass rate per organ = passed ÷ scored sampled cases, best first."""
    rows = (check.items.values("organ_id").annotate(
        sampled=Count("pk"), scored=Count("pk", filter=Q(score__isnull=False)), passed=Count("pk", filter=Q(passed=True))))
    organs = Organ.objects.in_bulk([r["organ_id"] for r in rows])
    out = [PassRate(organs[r["organ_id"]], r["sampled"], r["scored"], r["passed"]) for r in rows]
    return sorted(out, key=lambda r: (-(r.rate if r.rate is not None else -1), r.organ.name))
