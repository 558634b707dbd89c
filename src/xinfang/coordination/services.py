"""Coordination services: who may do what, and the writes (each in one transaction, audited).

A refusal raises `Refused` (permission) or `WorkflowError` (bad input) with a Chinese message,
and nothing is written.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.log import append as audit
from xinfang.cases.access import WorkflowError, cases_visible_to
from xinfang.cases.models import Case, OPEN_STATES
from xinfang.orgs.models import Region, Role

from .models import AdviserKind, ConductKind, ConductRecord, LegalAdvice, RegionAssignment


class Refused(WorkflowError):
    """The user may not take this action (403); nothing has been changed."""


# --------------------------------------------------------------------------- who


def is_bureau_staff(user) -> bool:
    """Staff of a 信访部门 (and superusers): the people conduct records and legal advice are for."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    organ = getattr(user, "organ", None)
    return bool(organ and organ.is_bureau)


def may_assign_regions(user) -> bool:
    """The bureau's head or a supervisor there decides who owns which region."""
    if getattr(user, "is_superuser", False):
        return True
    return is_bureau_staff(user) and user.has_role(Role.HEAD, Role.SUPERVISOR)


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise Refused(message)


def _text(value, label, field, *, max_length=None) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(_("请填写%(label)s。") % {"label": label}, field)
    if max_length and len(value) > max_length:
        raise WorkflowError(_("%(label)s不能超过%(n)s字。") % {"label": label, "n": max_length}, field)
    return value


# --------------------------------------------------------------------------- 分片包干


def region_subtree_ids(region_ids) -> set[int]:
    """The given regions and every region under them."""
    found = set(region_ids)
    frontier = list(found)
    while frontier:
        frontier = [pk for pk in Region.objects.filter(parent_id__in=frontier).values_list("pk", flat=True) if pk not in found]
        found.update(frontier)
    return found


def active_assignments(user, day: dt.date | None = None):
    day = day or timezone.localdate()
    return (RegionAssignment.objects.filter(user_id=user.pk, since__lte=day)
            .exclude(until__lt=day).select_related("region"))


def desk_cases(user, day: dt.date | None = None):
    """Open cases `user` may see whose region lies in (or under) a region they own today."""
    regions = [a.region_id for a in active_assignments(user, day)]
    if not regions:
        return Case.objects.none()
    return (cases_visible_to(user).filter(state__in=OPEN_STATES, region_id__in=region_subtree_ids(regions))
            .select_related("current_organ", "region").order_by("due_on", "-received_at", "pk"))


def assign_region(actor, *, user, region, since: dt.date | None = None, note: str = "") -> RegionAssignment:
    """Give `region` to a member of the actor's bureau (分片包干)."""
    _need(may_assign_regions(actor), _("只有信访部门负责人或督查员可以安排分片包干。"))
    if user is None or region is None:
        raise WorkflowError(_("请选择包片人员和区域。"))
    organ_id = actor.organ_id or user.organ_id
    if user.organ_id is None or user.organ_id != organ_id or not user.organ.is_bureau:
        raise WorkflowError(_("包片人员应为本信访部门的工作人员。"), "user")
    since = since or timezone.localdate()
    with transaction.atomic():
        if RegionAssignment.objects.filter(user=user, region=region, until__isnull=True).exists():
            raise WorkflowError(_("%(user)s已包干%(region)s。") % {"user": user, "region": region.name}, "region")
        a = RegionAssignment.objects.create(organ_id=organ_id, user=user, region=region, since=since,
                                            note=(note or "").strip()[:200], assigned_by=actor)
        audit(actor, "coordination.assign_region", a, user=user.username, region=region.code, since=since.isoformat())
        return a


def end_region(actor, assignment: RegionAssignment, *, until: dt.date | None = None) -> RegionAssignment:
    """Close an assignment (the staff member hands the region over)."""
    _need(may_assign_regions(actor) and (actor.is_superuser or actor.organ_id == assignment.organ_id),
          _("只有信访部门负责人或督查员可以调整分片包干。"))
    until = until or timezone.localdate()
    with transaction.atomic():
        a = RegionAssignment.objects.select_for_update().get(pk=assignment.pk)
        if a.until is not None:
            raise WorkflowError(_("该包片安排已经结束。"))
        if until < a.since:
            raise WorkflowError(_("结束日期不能早于起始日期。"), "until")
        a.until = until
        a.save(update_fields=["until"])
        audit(actor, "coordination.end_region", a, until=until.isoformat())
        return a


# --------------------------------------------------------------------------- conduct (Art.26, 47)


def _visible_case(actor, case):
    if case is None:
        return None
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise WorkflowError(_("信访事项不存在或无权查看"), "case")
    return case


def record_conduct(actor, *, kind: str, occurred_at, place: str, facts: str, dissuasion: str,
                   persons: str = "", case=None, police_referred: bool = False, police_station: str = "") -> ConductRecord:
    """Record, as facts only, an act at reception that Art.26 prohibits, the dissuasion given and
    any referral to the police (Art.47). No penalty is recorded or implied."""
    _need(is_bureau_staff(actor) and (actor.organ_id or actor.is_superuser),
          _("只有信访部门工作人员可以登记接待现场行为记录。"))
    if kind not in ConductKind.values:
        raise WorkflowError(_("请选择条例第26条所列的行为类型。"), "kind")
    if not isinstance(occurred_at, dt.datetime):
        raise WorkflowError(_("请填写发生时间。"), "occurred_at")
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise WorkflowError(_("发生时间不能晚于当前时间。"), "occurred_at")
    place = _text(place, _("地点"), "place", max_length=200)
    facts = _text(facts, _("经过"), "facts", max_length=5000)
    dissuasion = _text(dissuasion, _("劝阻、批评或教育情况"), "dissuasion", max_length=5000)
    police_station = (police_station or "").strip()
    if police_referred and not police_station:
        raise WorkflowError(_("移交公安机关的,请填写接收的公安机关(派出所)(条例第47条)。"), "police_station")
    if not police_referred:
        police_station = ""
    case = _visible_case(actor, case)
    organ_id = actor.organ_id or (case.bureau_id if case else None)
    if organ_id is None:
        raise WorkflowError(_("请关联信访事项,以确定记录机关。"), "case")
    with transaction.atomic():
        record = ConductRecord.objects.create(
            organ_id=organ_id, case=case, kind=kind, occurred_at=occurred_at, place=place, persons=(persons or "").strip()[:200],
            facts=facts, dissuasion=dissuasion, police_referred=bool(police_referred), police_station=police_station[:100],
            recorded_by=actor)
        audit(actor, "coordination.conduct", record, kind=kind, case=case.number if case else "",
              police_referred=bool(police_referred))
        return record


def record_advice(actor, *, case, adviser_kind: str, adviser_name: str, advice: str, given_at,
                  affiliation: str = "") -> LegalAdvice:
    """Record the advice a lawyer or mediator stationed at reception gave on a case."""
    _need(is_bureau_staff(actor) or (getattr(actor, "organ_id", None) and actor.has_role(Role.MEDIATOR)),
          _("只有信访部门工作人员或驻点调解员可以登记法律意见。"))
    if case is None:
        raise WorkflowError(_("请选择信访事项。"), "case")
    case = _visible_case(actor, case)
    if adviser_kind not in AdviserKind.values:
        raise WorkflowError(_("请选择律师或调解员。"), "adviser_kind")
    adviser_name = _text(adviser_name, _("姓名"), "adviser_name", max_length=50)
    advice = _text(advice, _("法律意见"), "advice", max_length=5000)
    if not isinstance(given_at, dt.datetime):
        raise WorkflowError(_("请填写咨询时间。"), "given_at")
    if given_at > timezone.now() + dt.timedelta(minutes=5):
        raise WorkflowError(_("咨询时间不能晚于当前时间。"), "given_at")
    with transaction.atomic():
        row = LegalAdvice.objects.create(organ_id=actor.organ_id or case.bureau_id, case=case, adviser_kind=adviser_kind,
                                         adviser_name=adviser_name, affiliation=(affiliation or "").strip()[:100],
                                         given_at=given_at, advice=advice, recorded_by=actor)
        audit(actor, "coordination.advice", row, case=case.number, adviser=adviser_name)
        return row


def conduct_for(user):
    """Conduct records `user` may read: their bureau's (all for a superuser)."""
    if not is_bureau_staff(user):
        return ConductRecord.objects.none()
    qs = ConductRecord.objects.select_related("case", "recorded_by")
    return qs if user.is_superuser else qs.filter(organ_id=user.organ_id)


def advice_for(user):
    if not (is_bureau_staff(user) or (getattr(user, "organ_id", None) and user.has_role(Role.MEDIATOR))):
        return LegalAdvice.objects.none()
    qs = LegalAdvice.objects.select_related("case", "recorded_by")
    return qs if user.is_superuser else qs.filter(organ_id=user.organ_id)


# --------------------------------------------------------------------------- tracks (简易办理)


def simple_track_ids(case_ids) -> set[int]:
    """Cases among `case_ids` accepted on the simplified track (they ran the simple_handle limit)."""
    from xinfang.cases.workflow import SIMPLE_RULE
    from xinfang.deadlines.models import Deadline

    ids = list(case_ids)
    if not ids:
        return set()
    return set(Deadline.objects.filter(case_id__in=ids, rule_id=SIMPLE_RULE).values_list("case_id", flat=True))
