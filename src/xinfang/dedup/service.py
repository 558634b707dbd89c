"""Duplicate detection for the rest of xinfang: the functions other apps and the pages call.

- `export_judgements(case_ids)`: for the ledger export (疑似重复编号 / 重复相似度);
- `screen_draft(user, ...)`: candidates for a petition being typed (registration page, portal, API);
- `case_links(user, case)`: the links of a registered case, as the case page shows them;
- `decide(user, link, action)`: a clerk confirms, dismisses or undoes a link (recorded and audited);
- `on_cases_created`: the `cases_created` receiver (indexes and screens every new case).

Everything shown to a user passes `cases_visible_to(user)`: a candidate the user may not see is
neither shown nor counted. A refusal (Art.19 ¶3, Art.36 ¶3) caused by a case the user may not see
is still reported, without its number or contents.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.log import append as audit
from xinfang.cases.access import WorkflowError, cases_visible_to
from xinfang.cases.models import Case, Category, State

from . import index, screener
from .models import Decision, Kind, Link, Status


@dataclass
class Candidate:
    """An earlier case a text may duplicate. `case` is None when the user may not see it (then only
    `refusal` is filled, without the case's number)."""

    case_id: int
    score: float
    kind: str
    same_person: bool
    case: Case | None = None
    refusal: str = ""
    article: str = ""

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def percent(self) -> int:
        return int(round(self.score * 100))


# --------------------------------------------------------------------------- refusals


def refusal_for(later: Case, earlier: Case, *, visible: bool = True) -> tuple[str, str]:
    """(message, article) when `later`, raising the same facts as `earlier`, must not be accepted,
    else ("", ""). The legal rule is the workflow's own (`_not_again_reason`): it is asked about a
    probe carrying the link as 关联原事项 + 同一事实和理由. For an earlier case the user may not see,
    the message names the rule without the case."""
    from xinfang.cases import workflow

    probe = Case(same_facts=True, related_case=earlier, state=later.state if later.pk else State.REGISTERED)
    reason = workflow._not_again_reason(probe)
    if not reason:
        return "", ""
    art36 = workflow._re_reviewed_original(probe) is not None
    article = _("条例第36条") if art36 else _("条例第19条")
    if visible:
        return reason, article
    if art36:
        return _("同一信访人以同一事实和理由提出的信访事项已经复核终结(由其他机关办理,内容不予显示),不再受理(条例第36条)。"), article
    return _("同一信访人以同一事实和理由提出的信访事项已由其他机关受理并正在办理期限内(内容不予显示),不予受理(条例第19条)。"), article


def _accuses(case: Case, user) -> bool:
    """Whether `case` is a 检举控告 against the user's organ. Not even a refusal without the case
    may tell the accused organ that it exists (条例第30条第3款): the reporter would be known."""
    return case.category == Category.REPORT and case.accused_organ_id is not None \
        and case.accused_organ_id == getattr(user, "organ_id", None)


def _with_refusals(user, later: Case, found: list[index.Found], kinds: dict[int, str]) -> list[Candidate]:
    visible_ids = set(cases_visible_to(user).filter(pk__in=[f.case_id for f in found]).values_list("pk", flat=True))
    earlier = Case.objects.select_related("related_case", "current_organ").in_bulk([f.case_id for f in found])
    out = []
    for f in found:
        case = earlier.get(f.case_id)
        if case is None:
            continue
        kind = kinds[f.case_id]
        refusal = article = ""
        # Only the same person raising the same facts again is refused (Art.19 ¶3, Art.36 ¶3).
        if kind in (Kind.REPEAT, Kind.MULTI) and f.same_person:
            refusal, article = refusal_for(later, case, visible=f.case_id in visible_ids)
        if f.case_id in visible_ids:
            out.append(Candidate(f.case_id, f.score, kind, f.same_person, case=case, refusal=refusal, article=article))
        elif refusal and not _accuses(case, user):
            out.append(Candidate(f.case_id, f.score, kind, f.same_person, refusal=refusal, article=article))
    return out


# --------------------------------------------------------------------------- drafts


def screen_draft(user, *, title: str, content: str, petitioners: list[dict], category=None,
                 exclude_case_id: int | None = None, limit: int = 8) -> list[Candidate]:
    """Earlier cases a petition being typed may duplicate, best first, with kind, score and any
    refusal. `petitioners` are dicts with name, id_number, phone, address (any may be missing).
    Only cases `user` may see are returned, except refusals (without the case: `case` is None).
    `category` is accepted for callers' convenience; the matter decides, not the category."""
    if not (title or "").strip() and len((content or "").strip()) < 10:
        return []
    found = index.find(title or "", content or "", petitioners or [], exclude={exclude_case_id} if exclude_case_id else ())
    found = found[:limit * 3]
    bureau_id = getattr(getattr(user, "organ", None), "pk", None) or 0
    kinds = {f.case_id: index.kind_of(f, bureau_id=bureau_id) for f in found}
    draft = Case(state=State.REGISTERED)
    cands = _with_refusals(user, draft, found, kinds)
    shown = [c for c in cands if c.case is not None][:limit]
    hidden = [c for c in cands if c.case is None][:1]
    return hidden + shown


# --------------------------------------------------------------------------- export


def export_judgements(case_ids: list[int], *, user=None) -> dict[int, tuple[str, float]]:
    """{case id: (number of the earlier case it repeats, score)} for each case among `case_ids`
    that is a suspected or confirmed (not dismissed) duplicate; the best link wins, confirmed
    before suspected. With `user`, only earlier cases the user may see are named."""
    out: dict[int, tuple[str, float]] = {}
    ids = list(case_ids)
    for start in range(0, len(ids), 5000):
        qs = Link.objects.filter(case_id__in=ids[start:start + 5000]).exclude(status=Status.DISMISSED)
        if user is not None:
            qs = qs.filter(earlier__in=cases_visible_to(user))
        rank = {Status.CONFIRMED: 0, Status.SUSPECTED: 1}
        rows = sorted(qs.values_list("case_id", "earlier__number", "score", "status"),
                      key=lambda r: (r[0], rank.get(r[3], 2), -r[2]))
        for cid, number, score, _status in rows:
            out.setdefault(cid, (number, round(float(score), 4)))
    return out


def live_links():
    """The duplicate links that stand (suspected or confirmed, not dismissed): the one rule for
    what counts as a repeat, used by the list badge and by the 积案 ledger."""
    return Link.objects.exclude(status=Status.DISMISSED)


def duplicate_ids(case_ids) -> set[int]:
    """The cases among `case_ids` that repeat an earlier case (suspected or confirmed), in one
    query — for the 重复 badge of case lists."""
    return set(live_links().filter(case_id__in=list(case_ids)).values_list("case_id", flat=True))


# --------------------------------------------------------------------------- the case page


@dataclass
class LinkView:
    link: Link
    other: Case  # the other case of the link, as the viewer sees it
    direction: str  # "earlier": this case repeats `other`; "later": `other` repeats this case
    refusal: str = ""
    article: str = ""
    repeat_count: int = 0

    @property
    def percent(self) -> int:
        return int(round(self.link.score * 100))


def case_links(user, case: Case) -> list[LinkView]:
    """Links of `case` to earlier and later cases, those to cases `user` may not see left out."""
    links = list(Link.objects.filter(case=case).select_related("earlier", "earlier__related_case").order_by("-score"))
    later = list(Link.objects.filter(earlier=case).select_related("case").order_by("-score"))
    others = {lk.earlier_id for lk in links} | {lk.case_id for lk in later}
    visible = set(cases_visible_to(user).filter(pk__in=others).values_list("pk", flat=True))
    counts = repeat_counts({lk.root_id for lk in links if lk.kind == Kind.REPEAT})
    out = []
    for lk in links:
        if lk.earlier_id not in visible:
            continue
        view = LinkView(lk, lk.earlier, "earlier", repeat_count=counts.get(lk.root_id, 0) if lk.kind == Kind.REPEAT else 0)
        if lk.status != Status.DISMISSED and lk.same_person and lk.kind in (Kind.REPEAT, Kind.MULTI) and case.state in (
                State.REGISTERED, State.PENDING, State.RETURNED):
            view.refusal, view.article = refusal_for(case, lk.earlier)
        out.append(view)
    out += [LinkView(lk, lk.case, "later") for lk in later if lk.case_id in visible]
    return out


def hidden_refusals(user, case: Case) -> list[str]:
    """Refusals of `case` (Art.19 ¶3, Art.36 ¶3) caused by earlier cases `user` may not see: the
    reason is told, the earlier case is not (neither number nor contents)."""
    if case.state not in (State.REGISTERED, State.PENDING, State.RETURNED):
        return []
    links = (Link.objects.filter(case=case, same_person=True, kind__in=[Kind.REPEAT, Kind.MULTI])
             .exclude(status=Status.DISMISSED).exclude(earlier__in=cases_visible_to(user)).select_related("earlier"))
    links = [lk for lk in links if not _accuses(lk.earlier, user)]
    out = []
    for lk in links:
        message, _article = refusal_for(case, lk.earlier, visible=False)
        if message and message not in out:
            out.append(message)
    return out


def repeat_counts(roots) -> dict[int, int]:
    """{root: number of petitions in its repeat chain (the first one included)}."""
    from django.db.models import Count

    rows = (Link.objects.filter(root_id__in=list(roots), kind=Kind.REPEAT).exclude(status=Status.DISMISSED)
            .values("root_id").annotate(n=Count("case_id", distinct=True)))
    return {r["root_id"]: r["n"] + 1 for r in rows}


ACTIONS = {"confirm": Status.CONFIRMED, "dismiss": Status.DISMISSED, "undo": Status.SUSPECTED}


def decide(user, link: Link, action: str, note: str = "") -> Link:
    """Confirm or dismiss a link, or undo the last decision (back to suspected). The user must be
    able to see both cases and act at the organ holding or registering the later one. Recorded as a
    Decision and in the audit chain."""
    if action not in ACTIONS:
        raise WorkflowError(_("未知的操作。"))
    visible = cases_visible_to(user).filter(pk__in=[link.case_id, link.earlier_id])
    if visible.count() != 2:
        raise WorkflowError(_("信访事项不存在或无权查看"))
    case = link.case
    if user.organ_id not in {case.current_organ_id, case.bureau_id} and not user.is_superuser:
        raise WorkflowError(_("只有登记或当前办理该事项的机关可以确认或排除重复。"))
    with transaction.atomic():
        link = Link.objects.select_for_update().get(pk=link.pk)
        new = ACTIONS[action]
        if action == "undo" and link.status == Status.SUSPECTED:
            raise WorkflowError(_("该关联尚未确认或排除,无需撤销。"))
        if action != "undo" and link.status == new:
            raise WorkflowError(_("该关联已是“%(status)s”。") % {"status": Status(new).label})
        old = link.status
        link.status, link.decided_by, link.decided_at = new, user, timezone.now()
        link.save(update_fields=["status", "decided_by", "decided_at"])
        Decision.objects.create(link=link, case_id=link.case_id, action=action, from_status=old, to_status=new,
                                actor=user, note=(note or "")[:500])
        audit(user, f"dedup.{action}", link.case, link=link.pk, earlier=link.earlier.number, kind=link.kind,
              score=link.score, from_status=old, to_status=new)
    return link


# --------------------------------------------------------------------------- the receiver


def on_cases_created(sender, case_ids, source="", **kwargs) -> None:
    """Index and screen new cases inside their creating transaction (DESIGN: cases_created); an
    import's cases are left to its screening process when one runs (screener.alongside)."""
    if source == "import" and screener.deferred():
        return
    if case_ids:
        index.index_cases(list(case_ids))
