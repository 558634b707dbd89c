"""Pages of the handling organ: the inbox, the case page, the action forms and attachment download.

Views are thin: every case is looked up through `xinfang.cases.access`, every change goes through a
service function of `xinfang.cases.workflow` (called from the forms in `forms.py`).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.log import append as audit
from xinfang.cases.access import (
    WorkflowError, allowed_transitions, cases_visible_to, get_case_for_user, transition_refusal,
)
from xinfang.cases.models import OPEN_STATES, Attachment, State
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.cases.workflow import TRANSITIONS
from xinfang.deadlines.engine import grade
from xinfang.documents.models import Document

from .forms import ACTION_FORMS, RecuseForm

PAGE_SIZE = 50


def inbox_tabs(today):
    """The inbox tabs in display order: (code, label, filter). 临期 and 超期 cut across states: any
    open case whose running duty is in its warning days or past its due date."""
    open_q = Q(state__in=OPEN_STATES)
    return [
        ("registered", gettext_lazy("待转送"), Q(state=State.REGISTERED)),
        ("pending", gettext_lazy("待受理"), Q(state=State.PENDING)),
        ("returned", gettext_lazy("异议退回"), Q(state=State.RETURNED)),
        ("handling", gettext_lazy("办理中"), Q(state=State.HANDLING)),
        ("near", gettext_lazy("临期"), open_q & Q(due_warn_on__lte=today, due_on__gte=today)),
        ("overdue", gettext_lazy("超期"), open_q & Q(due_on__lt=today)),
        ("review", gettext_lazy("复查/复核中"), Q(state__in=[State.REVIEW, State.RE_REVIEW])),
        ("replied", gettext_lazy("已答复"), Q(state=State.REPLIED)),
    ]


# Every tab is a subset of these states, so the counts touch only the organ's live cases (the
# partial index cases_case_inbox_idx holds exactly these states), never its closed archive.
INBOX_STATES = [*OPEN_STATES, State.REPLIED]


@login_required
def inbox(request):
    """The cases now at the user's organ, by tab, most urgent due date first."""
    user = request.user
    today = timezone.localdate()
    tabs = inbox_tabs(today)
    if user.organ_id is None:
        base = cases_visible_to(user).none()
    else:
        base = cases_visible_to(user).filter(current_organ_id=user.organ_id, state__in=INBOX_STATES)
    counts = base.aggregate(**{code: Count("pk", filter=q) for code, _label, q in tabs})
    current = request.GET.get("tab")
    if current not in counts:
        # Open on the first tab with work in it (a bureau on 待转送, an organ on 待受理 …).
        current = next((code for code, _label, _q in tabs if counts[code]), "pending")
    tab_filter = dict((code, q) for code, _label, q in tabs)[current]
    cases = base.filter(tab_filter).select_related("current_organ").prefetch_related("petitioners")
    if current == "replied":
        cases = cases.order_by("-replied_at", "-pk")
    else:
        cases = cases.order_by(F("due_on").asc(nulls_last=True), "received_at", "pk")
    paginator = Paginator(cases, PAGE_SIZE)
    paginator.count = counts[current] or 0  # already counted with the tabs: spare a second COUNT(*)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "handling/inbox.html", {
        "tabs": [{"code": code, "label": label, "count": counts[code] or 0, "active": code == current}
                 for code, label, _q in tabs],
        "tab": current,
        "page_obj": page,
        "cases": page.object_list,
        "today": today,
    })


# --------------------------------------------------------------------------- the case page


def _may_reveal(user, case) -> bool:
    """Full identity data is for the organ that holds the case (access.get_case_for_user with
    write=True: the current organ or the registering bureau), PIPL / REGULATION §8."""
    try:
        get_case_for_user(user, case.pk, write=True)
    except Http404:
        return False
    return True


def _petitioner_rows(case, revealed: bool) -> list[dict]:
    rows = []
    for p in case.petitioners.all():
        rows.append({
            "name": p.name,
            "is_representative": p.is_representative,
            "id_number": p.id_number if revealed else mask_id_number(p.id_number),
            "phone": p.phone if revealed else mask_phone(p.phone),
            "address": p.address if revealed else mask_address(p.address),
        })
    return rows


def mask_address(value: str) -> str:
    """Keep the area (the first six characters), hide the house number."""
    return value[:6] + "***" if len(value) > 6 else value


def _deadline_rows(case, today) -> list[dict]:
    rows = []
    for d in case.deadlines.select_related("rule", "organ"):
        if d.is_open:
            status, status_class = _("进行中"), "open"
            grade_code = grade(d.due_on, today, d.rule.warn_days) if d.rule.is_duty else None
        elif not d.rule.is_duty:
            status, status_class, grade_code = _("已结束"), "ended", None
        elif d.met_late:
            status, status_class, grade_code = _("逾期完成"), "late", None
        else:
            status, status_class, grade_code = _("按期完成"), "met", None
        rows.append({"deadline": d, "status": status, "status_class": status_class, "grade": grade_code})
    return rows


def _case_context(request, case, *, revealed=False) -> dict:
    user = request.user
    today = timezone.localdate()
    actions = [(name, TRANSITIONS[name].label) for name in allowed_transitions(user, case) if name in ACTION_FORMS]
    return {
        "case": case,
        "petitioners": _petitioner_rows(case, revealed),
        "revealed": revealed,
        "can_reveal": not revealed and _may_reveal(user, case),
        "deadlines": _deadline_rows(case, today),
        "events": case.events.select_related("actor", "organ", "target_organ"),
        "documents": case.documents.select_related("organ"),
        "attachments": case.attachments.all(),
        "actions": actions,
        "can_recuse": case.is_open and getattr(user, "organ_id", None) == case.current_organ_id,
        "today": today,
    }


@login_required
def case_detail(request, pk):
    """The case page: facts, parties (masked), deadlines, timeline, documents and the actions the
    user may take now."""
    case = get_case_for_user(request.user, pk)
    return render(request, "handling/case_detail.html", _case_context(request, case))


@login_required
@require_POST
def case_reveal(request, pk):
    """Show the petitioners' full ID numbers, phones and addresses to the organ holding the case,
    and log who looked (PIPL; REGULATION §8: every full view logged). POST only, so a link
    preview or a reload cannot reveal by accident."""
    case = get_case_for_user(request.user, pk, write=True)
    audit(request.user, "case.reveal_identity", case, number=case.number,
          petitioners=list(case.petitioners.values_list("pk", flat=True)))
    context = _case_context(request, case, revealed=True)
    template = "handling/_petitioners.html" if request.htmx else "handling/case_detail.html"
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- actions


@login_required
def case_action(request, pk, action):
    """GET shows the form of transition `action`, POST performs it through its service function.

    404 when the case is not visible or the action unknown; 403 with the reason when the user may
    not take the action now; 400 with the message on the form when the service refuses (nothing is
    saved); on success a redirect to the case page naming the documents issued."""
    case = get_case_for_user(request.user, pk)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404(_("没有该办理环节。"))
    label = TRANSITIONS[action].label
    refusal = transition_refusal(request.user, case, action)
    if refusal:
        return render(request, "handling/refused.html", {"case": case, "action": action, "label": label,
                                                          "refusal": refusal}, status=403)
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, case=case)
        if form.is_valid():
            last_doc = case.documents.aggregate(m=Max("pk"))["m"] or 0
            try:
                case = form.submit(request.user)
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                issued = list(Document.objects.filter(case=case, pk__gt=last_doc).order_by("pk"))
                messages.success(request, _success_message(label, issued))
                return redirect("case_detail", pk=case.pk)
        status = 400
    else:
        form = form_class(case=case)
    template = "handling/_action_form.html" if request.htmx and request.method == "GET" else "handling/action.html"
    response = render(request, template, {"case": case, "action": action, "label": label, "form": form}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def case_recuse(request, pk):
    """回避 (Art.28 ¶3): a staff member of the organ holding the case steps aside, or its head
    orders a colleague to. 404 for a case the user may not see; the form for those who may not
    record it shows the service's reason."""
    case = get_case_for_user(request.user, pk)
    status = 200
    if request.method == "POST":
        form = RecuseForm(request.POST, case=case, actor=request.user)
        if form.is_valid():
            try:
                recusal = form.submit()
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                name = recusal.user.full_name or recusal.user.username
                messages.success(request, _("已登记%(name)s回避,其不能再办理本事项。") % {"name": name})
                return redirect("case_detail", pk=case.pk)
        status = 400
    else:
        form = RecuseForm(case=case, actor=request.user)
    return render(request, "handling/recuse.html", {"case": case, "form": form}, status=status)


def _success_message(label, documents) -> str:
    if not documents:
        return _("已完成“%(action)s”。") % {"action": label}
    names = "、".join(f"{d.title}({d.number})" for d in documents)
    return _("已完成“%(action)s”,已出具:%(documents)s。") % {"action": label, "documents": names}


# --------------------------------------------------------------------------- attachments


@login_required
def attachment_download(request, pk, att_pk):
    """An attachment of a case the user may see; 404 for any other (including another case's)."""
    case = get_case_for_user(request.user, pk)
    attachment = get_object_or_404(Attachment, pk=att_pk, case=case)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("附件文件不存在。")) from None
    audit(request.user, "case.attachment_download", case, number=case.number, attachment=attachment.pk)
    return FileResponse(handle, as_attachment=True, filename=attachment.name)
