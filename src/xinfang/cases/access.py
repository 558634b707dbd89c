"""Who may see and do what — the only place in xinfang that decides it.

Views, exports, documents and commands all go through `cases_visible_to`, `get_case_for_user` and
`check_transition`. A case the user may not see is reported as missing (404), never as forbidden,
so its existence does not leak.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xinfang.orgs.models import Organ, Role

from .models import Case, CaseOrgan, Category, State


class WorkflowError(Exception):
    """A refused action, with a message for the user. Nothing has been changed."""

    def __init__(self, message: str, field: str | None = None):
        self.message, self.field = str(message), field
        super().__init__(self.message)


# Roles that oversee the organs below their own (they see the subtree, they do not act on it).
OVERSIGHT_ROLES = (Role.SUPERVISOR, Role.LEADER, Role.ANALYST)


class Citizen:
    """A petitioner acting through the citizen portal: not a member of staff.

    The portal builds one per request from what proves ownership: a case number with its query
    code, or the cases a logged-in citizen account submitted. `case_ids` are exactly the cases this
    citizen may see and act on; `user` is the citizen account, if any (it never gives staff
    rights, even when that account also belongs to an organ). The citizen may take only the
    transitions the table marks as open to the petitioner (`Transition.petitioner`), and only on
    their own cases. `username` names the citizen in the audit chain.
    """

    organ = None
    organ_id = None
    is_authenticated = True
    is_superuser = False

    def __init__(self, *, case_ids=(), user=None, label: str = ""):
        self.case_ids = frozenset(case_ids)
        self.user = user if getattr(user, "is_authenticated", False) else None
        self.username = f"citizen:{label or (self.user.username if self.user else 'anonymous')}"

    def has_role(self, *roles: str) -> bool:
        return False

    def __str__(self) -> str:
        return _("信访人")


def is_citizen(actor) -> bool:
    return isinstance(actor, Citizen)


def cases_visible_to(user, *, from_links: bool = False) -> QuerySet[Case]:
    """Cases `user` may see: those that are or were at the user's organ; for supervisors, leaders
    and analysts, at any organ in their organ's subtree; and a decided case whose 复查/复核 request
    the user's organ receives, being one level above the organ that decided (Art.35, 36). 检举控告
    cases are never visible to the accused organ (Art.30 ¶3).

    `from_links=True` gives exactly the same cases, phrased so that the database can start from
    the organ's links instead of walking the cases (an IN list rather than a per-case EXISTS): the
    better plan to count a capped number of rows of an organ holding a small share of the cases,
    the worse one to list the newest few of a large share."""
    if isinstance(user, Citizen):
        return Case.objects.filter(pk__in=user.case_ids)
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    if user.is_superuser:
        return Case.objects.all()
    if user.organ_id is None:
        return Case.objects.none()
    organ_ids = _organ_ids(user)
    links = CaseOrgan.objects.filter(organ_id__in=organ_ids)
    if from_links:
        linked = Q(pk__in=links.values("case_id"))
    else:
        # A case now at one of the organs is at it (a link is written with every move,
        # workflow._Step.move_to): tested first, so the per-case EXISTS on the links is left for
        # the cases that were there before. Counting a supervisor's 75,000 overdue cases took
        # 0.5 s of link probes on PostgreSQL, 0.06 s without.
        linked = Q(current_organ_id__in=organ_ids) | Exists(links.filter(case=OuterRef("pk")))
    # The organs one level below, as a subquery rather than a join on the organ table: joined
    # (an outer join, inside the OR) it was looked up for every case scanned, which made a list
    # over a million cases several times slower.
    children = Organ.objects.filter(parent_id=user.organ_id).values("pk")
    superior = (Q(state=State.REPLIED, handling_organ_id__in=children)
                | Q(state=State.REVIEWED, current_organ_id__in=children))
    return Case.objects.filter(linked | superior).exclude(category=Category.REPORT, accused_organ_id=user.organ_id)


FEW_LINKS_FACTOR = 120  # see holds_few_cases


def _organ_ids(user) -> list[int]:
    """The organs whose cases `user` sees: their own, or for overseeing roles their subtree."""
    if user.has_role(*OVERSIGHT_ROLES):
        return sorted(user.organ.descendant_ids())
    return [user.organ_id]


def _links(user):
    return CaseOrgan.objects.filter(organ_id__in=_organ_ids(user))


def holds_few_cases(user) -> bool:
    """Whether the organs behind `user`'s view hold few enough cases that counting what the user
    sees is cheaper from their links (`cases_visible_to(user, from_links=True)`).

    Counting up to a cap by walking the cases costs about cap ÷ share rows; starting from the
    links costs one row per link. The two meet near 120·√N links for N cases (measured on SQLite
    at a million cases, where an organ with 5 % of them counted 6× faster from its links and the
    whole tree 40× slower), so the links are counted up to that bound, through their index."""
    if isinstance(user, Citizen) or not getattr(user, "is_authenticated", False) or user.is_superuser \
            or user.organ_id is None:
        return False
    newest = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    bound = int(FEW_LINKS_FACTOR * newest ** 0.5)
    return _links(user).values("pk")[: bound + 1].count() <= bound


def get_case_for_user(user, pk: int, *, write: bool = False) -> Case:
    """The case if `user` may see it (and, with write=True, act at its current organ); else 404."""
    try:
        case = cases_visible_to(user).select_related("bureau", "current_organ", "topic", "region").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404(_("信访事项不存在或无权查看")) from None
    if write and user.organ_id not in {case.current_organ_id, case.bureau_id}:
        raise Http404(_("信访事项不存在或无权查看"))
    return case


def acting_organ_id(case: Case, where: str) -> set[int]:
    """The organ(s) whose staff perform a transition of the given `where` kind on `case`."""
    if where == "holder":
        return {case.current_organ_id}
    if where == "superior":
        # 复查/复核 requests go to the organ one level above the one that decided (Art.35, Art.36).
        decided_by = case.current_organ if case.state != "replied" else (case.handling_organ or case.current_organ)
        return {decided_by.parent_id} if decided_by and decided_by.parent_id else set()
    if where == "involved":
        return {i for i in (case.bureau_id, case.handling_organ_id, case.current_organ_id) if i}
    raise ValueError(where)


def transition_refusal(user, case: Case, name: str, *, recused: bool | None = None) -> str | None:
    """Why `user` may not perform transition `name` on `case` now, or None if they may.
    `recused` may pass in is_recused(user, case) when the caller asks about many transitions."""
    from .workflow import TRANSITIONS

    t = TRANSITIONS[name]
    if isinstance(user, Citizen):
        return _citizen_refusal(user, case, t)
    if not getattr(user, "is_authenticated", False) or user.organ_id is None:
        return _("只有机关工作人员可以办理信访事项。")
    if case.state not in t.sources:
        return _("该信访事项当前状态为“%(state)s”,不能进行“%(action)s”。") % {"state": case.get_state_display(), "action": t.label}
    if name == "evaluate" and case.satisfaction_organ:
        return _("该事项已经评价。")
    if not user.has_role(*t.roles):
        roles = "、".join(str(Role(r).label) for r in t.roles)
        return _("“%(action)s”须由%(roles)s办理。") % {"action": t.label, "roles": roles}
    if user.organ_id not in acting_organ_id(case, t.where):
        return _("“%(action)s”不属于本机关的办理权限。") % {"action": t.label}
    if recused if recused is not None else is_recused(user, case):
        return _("您已对本事项回避(条例第28条),不能办理,请由本机关其他工作人员办理。")
    return None


def is_recused(user, case: Case) -> bool:
    """Whether `user` stepped aside from `case` (Art.28 ¶3)."""
    return case.recusals.filter(user_id=user.pk).exists()


def _citizen_refusal(citizen: Citizen, case: Case, t) -> str | None:
    """A petitioner may take a transition marked open to the petitioner, on their own case only;
    a request one level up needs an organ there to receive it (Art.35, 36)."""
    if not t.petitioner or not t.sources:
        return _("“%(action)s”须由机关工作人员办理。") % {"action": t.label}
    if case.pk not in citizen.case_ids:
        return _("信访事项不存在或无权查看")
    if case.state not in t.sources:
        return _("该信访事项当前状态为“%(state)s”,不能进行“%(action)s”。") % {"state": case.get_state_display(), "action": t.label}
    if t.name == "evaluate" and case.satisfaction_organ:
        return _("该事项已经评价。")
    if not acting_organ_id(case, t.where):
        return _("没有可以受理该申请的上一级机关,请向信访部门咨询。")
    return None


def check_transition(user, case: Case, name: str) -> None:
    reason = transition_refusal(user, case, name)
    if reason:
        raise WorkflowError(reason)


def allowed_transitions(user, case: Case) -> list[str]:
    """Names of the transitions `user` may start on `case` now (for showing action buttons)."""
    from .workflow import TRANSITIONS

    recused = bool(getattr(user, "pk", None)) and not isinstance(user, Citizen) and is_recused(user, case)
    return [n for n, t in TRANSITIONS.items() if t.sources and transition_refusal(user, case, n, recused=recused) is None]


def may_register(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.organ_id and user.has_role(Role.REGISTRAR))
