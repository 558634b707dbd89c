"""Pages of duplicate detection: the registration panel (screening a draft while it is typed), the
case panel (links with confirm / dismiss / undo) and the side-by-side comparison.

Every case reached here passes the access layer (`get_case_for_user`, `cases_visible_to`);
missing and forbidden are both 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from xinfang.cases.access import WorkflowError, cases_visible_to, get_case_for_user

from . import service
from . import text as T
from .models import Link


def _staff(user) -> None:
    if not getattr(user, "organ_id", None) and not user.is_superuser:
        raise Http404


def draft_from_post(post) -> dict:
    """The draft's title, content, category and petitioners from the registration form's fields
    (petitioner formset prefix "p")."""
    try:
        total = min(int(post.get("p-TOTAL_FORMS", 0)), 50)
    except ValueError:
        total = 0
    petitioners = []
    for i in range(total):
        if post.get(f"p-{i}-DELETE"):
            continue
        p = {k: (post.get(f"p-{i}-{k}") or "").strip()[:200] for k in ("name", "id_number", "phone", "address")}
        if any(p.values()):
            petitioners.append(p)
    return {"title": (post.get("title") or "")[:200], "content": (post.get("content") or "")[:20000],
            "category": post.get("category") or None, "petitioners": petitioners}


@login_required
@require_POST
def screen(request):
    """The registration panel's results for the draft posted by htmx."""
    _staff(request.user)
    draft = draft_from_post(request.POST)
    candidates = service.screen_draft(request.user, **draft)
    return render(request, "dedup/_draft_results.html", {
        "candidates": [c for c in candidates if c.case is not None],
        "hidden_refusals": [c for c in candidates if c.case is None],
        "screened": bool(draft["title"].strip() or draft["content"].strip()),
    })


def case_panel_context(user, case) -> dict:
    links = service.case_links(user, case)
    return {"case": case, "links": links, "hidden_refusals": service.hidden_refusals(user, case), "can_decide": user.is_superuser or user.organ_id in {case.current_organ_id, case.bureau_id}}


@login_required
def case_panel(request, pk):
    case = get_case_for_user(request.user, pk)
    return render(request, "dedup/_case_links.html", case_panel_context(request.user, case))


@login_required
@require_POST
def decide_link(request, pk, action):
    link = get_object_or_404(Link, pk=pk)
    # Both cases must be visible, else the link does not exist for this user.
    if cases_visible_to(request.user).filter(pk__in=[link.case_id, link.earlier_id]).count() != 2:
        raise Http404
    if action not in service.ACTIONS:
        raise Http404
    case = get_case_for_user(request.user, int(request.POST.get("case") or link.case_id))
    try:
        service.decide(request.user, link, action, note=request.POST.get("note", ""))
        error = ""
    except WorkflowError as exc:
        error = exc.message
    if request.htmx:
        context = case_panel_context(request.user, case)
        context["error"] = error
        return render(request, "dedup/_case_links.html", context, status=200)
    if error:
        messages.error(request, error)
    return redirect("case_detail", case.pk)


def highlight(text: str, other: T.Profile) -> str:
    """`text` as HTML with the passages it shares with `other` marked (runs of characters covered
    by a shared normalised 3-gram)."""
    chars = list(text)
    keep = [i for i, ch in enumerate(chars) if T.normalise(ch)]
    norm = "".join(T.normalise(chars[i]) for i in keep)
    marked = set()
    if len(norm) >= 3:
        for j in range(len(norm) - 2):
            if T.pack(norm[j:j + 3]) in other.g3:
                marked.update(keep[j:j + 3])
    out, inside = [], False
    for i, ch in enumerate(chars):
        on = i in marked
        if on != inside:
            out.append('<mark class="dup-same">' if on else "</mark>")
            inside = on
        out.append(escape(ch))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))


def _side(title, content, other: T.Profile) -> dict:
    return {"title": highlight(title, other), "content": highlight(content, other)}


@login_required
def compare(request, a, b):
    """Two cases side by side, shared passages marked, with the score."""
    left = get_case_for_user(request.user, a)
    right = get_case_for_user(request.user, b)
    pl, pr = T.Profile(left.title, left.content), T.Profile(right.title, right.content)
    link = Link.objects.filter(case_id__in=[a, b], earlier_id__in=[a, b]).first()
    return render(request, "dedup/compare.html", {
        "left": left, "right": right, "score": T.similarity(pl, pr), "link": link,
        "left_text": _side(left.title, left.content, pr), "right_text": _side(right.title, right.content, pl),
    })


@login_required
@require_POST
def compare_draft(request, b):
    """The draft being registered next to an earlier case (a partial for the registration panel)."""
    _staff(request.user)
    right = get_case_for_user(request.user, b)
    draft = draft_from_post(request.POST)
    pl, pr = T.Profile(draft["title"], draft["content"]), T.Profile(right.title, right.content)
    return render(request, "dedup/_compare_draft.html", {
        "right": right, "score": T.similarity(pl, pr),
        "left_text": _side(draft["title"], draft["content"], pr), "right_text": _side(right.title, right.content, pl),
    })
