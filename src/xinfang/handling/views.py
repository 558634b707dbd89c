"""Pages of the handling organ: the inbox, the case page, the action forms and attachment download.

Views are thin: every case is looked up through `xinfang.cases.access`, every change goes through a
service function of `xinfang.cases.workflow` (called from the forms in `forms.py`).
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import OPEN_STATES, State

PAGE_SIZE = 50


def inbox_tabs(today):
    """The inbox tabs in display order: (code, label, filter). 临期 and 超期 cut across states: any
    open case whose running duty is in its warning days or past its due date."""
    open_q = Q(state__in=OPEN_STATES)
    return [
        ("registered", _("待转送"), Q(state=State.REGISTERED)),
        ("pending", _("待受理"), Q(state=State.PENDING)),
        ("returned", _("异议退回"), Q(state=State.RETURNED)),
        ("handling", _("办理中"), Q(state=State.HANDLING)),
        ("near", _("临期"), open_q & Q(due_warn_on__lte=today, due_on__gte=today)),
        ("overdue", _("超期"), open_q & Q(due_on__lt=today)),
        ("review", _("复查/复核中"), Q(state__in=[State.REVIEW, State.RE_REVIEW])),
        ("replied", _("已答复"), Q(state=State.REPLIED)),
    ]


# Every tab is a subset of these states, so the counts touch only the organ's live cases (the
# (current_organ, state, due_on) index), never its closed archive.
INBOX_STATES = [*OPEN_STATES, State.REPLIED]


@login_required
def inbox(request):
    """The cases now at the user's organ, by tab, most urgent due date first."""
    user = request.user
    today = timezone.localdate()
    tabs = inbox_tabs(today)
    current = request.GET.get("tab") or "pending"
    if current not in {code for code, _label, _q in tabs}:
        current = "pending"
    if user.organ_id is None:
        base = cases_visible_to(user).none()
    else:
        base = cases_visible_to(user).filter(current_organ_id=user.organ_id, state__in=INBOX_STATES)
    counts = base.aggregate(**{code: Count("pk", filter=q) for code, _label, q in tabs})
    tab_filter = dict((code, q) for code, _label, q in tabs)[current]
    cases = base.filter(tab_filter).select_related("current_organ").prefetch_related("petitioners")
    if current == "replied":
        cases = cases.order_by("-replied_at", "-pk")
    else:
        cases = cases.order_by(F("due_on").asc(nulls_last=True), "received_at", "pk")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "handling/inbox.html", {
        "tabs": [{"code": code, "label": label, "count": counts[code] or 0, "active": code == current}
                 for code, label, _q in tabs],
        "tab": current,
        "page_obj": page,
        "cases": page.object_list,
        "today": today,
    })
