"""Pages of coordination: the region owner's desk (分片包干), assigning regions, the 积案 ledger
with its XLSX export, conduct records (Art.26, 47) and the legal advice given at reception.

Cases are looked up through `xinfang.cases.access` only; a refused action answers 403 with the
reason, bad input 400 with the message, and nothing is changed in either case.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.cases.access import WorkflowError, cases_visible_to

from . import backlog as bl
from . import services as sv
from .forms import AdviceForm, AssignForm, ConductForm
from .models import RegionAssignment

PAGE_SIZE = 50


def _refused(request, message: str, title: str, status: int = 403):
    return render(request, "coordination/refused.html", {"title": title, "refusal": message}, status=status)


def _case_by_number(user, number: str):
    number = (number or "").strip()
    if not number:
        return None
    case = cases_visible_to(user).filter(number=number).first()
    if case is None:
        raise WorkflowError(_("信访事项不存在或无权查看"), "case_number")
    return case


def _apply_error(form, exc: WorkflowError) -> None:
    field = {"case": "case_number"}.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


# --------------------------------------------------------------------------- 分片包干


@login_required
def desk(request):
    """The region owner's desk: open cases from the regions they own, soonest due first."""
    user = request.user
    assignments = list(sv.active_assignments(user))
    cases = sv.desk_cases(user).prefetch_related("petitioners")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "coordination/desk.html", {
        "assignments": assignments, "page_obj": page, "cases": page.object_list,
        "simple_ids": sv.simple_track_ids(c.pk for c in page.object_list),
        "may_assign": sv.may_assign_regions(user), "is_bureau": sv.is_bureau_staff(user),
    })


@login_required
def regions(request):
    """The bureau's region assignments; its head or a supervisor assigns."""
    user = request.user
    title = _("分片包干安排")
    if not sv.is_bureau_staff(user):
        return _refused(request, _("只有信访部门工作人员可以查看分片包干安排。"), title)
    organ = user.organ if user.organ_id else None
    form = AssignForm(request.POST or None, organ=organ)
    status = 200
    if request.method == "POST":
        if not sv.may_assign_regions(user):
            return _refused(request, _("只有信访部门负责人或督查员可以安排分片包干。"), title)
        if form.is_valid():
            d = form.cleaned_data
            try:
                sv.assign_region(user, user=d["user"], region=d["region"], since=d["since"], note=d["note"])
            except WorkflowError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("已安排分片包干。"))
                return redirect("coordination:regions")
        status = 400
    rows = RegionAssignment.objects.select_related("user", "region", "assigned_by")
    if not user.is_superuser:
        rows = rows.filter(organ_id=user.organ_id)
    return render(request, "coordination/regions.html", {
        "rows": rows, "form": form if sv.may_assign_regions(user) else None, "today": timezone.localdate(),
    }, status=status)


@login_required
@require_POST
def region_end(request, pk: int):
    user = request.user
    qs = RegionAssignment.objects.all() if user.is_superuser else RegionAssignment.objects.filter(organ_id=user.organ_id or 0)
    a = get_object_or_404(qs, pk=pk)
    try:
        sv.end_region(user, a)
    except sv.Refused as exc:
        return _refused(request, exc.message, _("分片包干安排"))
    except WorkflowError as exc:
        return _refused(request, exc.message, _("分片包干安排"), status=400)
    messages.success(request, _("已结束该包片安排。"))
    return redirect("coordination:regions")


# --------------------------------------------------------------------------- 积案


def _may_see_ledger(user) -> bool:
    return user.is_superuser or bool(user.organ_id)


@login_required
def backlog(request):
    user = request.user
    if not _may_see_ledger(user):
        return _refused(request, _("只有机关工作人员可以查看积案台账。"), _("积案台账"))
    today = timezone.localdate()
    start = bl.period_start(request.GET.get("start"), today)
    progress = bl.progress(user, start, today)
    return render(request, "coordination/backlog.html", {
        "progress": progress, "rows": bl.backlog_cases(user, today, limit=500), "total": progress.now,
        "watch": bl.watch_list(user, today), "start": start, "today": today,
        "backlog_days": bl.conf.get("COORDINATION_BACKLOG_DAYS"),
    })


@login_required
def backlog_xlsx(request):
    user = request.user
    if not _may_see_ledger(user):
        return _refused(request, _("只有机关工作人员可以查看积案台账。"), _("积案台账"))
    today = timezone.localdate()
    start = bl.period_start(request.GET.get("start"), today)
    data = bl.export_xlsx(user, start, today)
    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="backlog-{today.isoformat()}.xlsx"'
    return resp


# --------------------------------------------------------------------------- conduct and advice


@login_required
def conduct_list(request):
    if not sv.is_bureau_staff(request.user):
        return _refused(request, _("只有信访部门工作人员可以查看接待现场行为记录。"), _("接待现场行为记录"))
    page = Paginator(sv.conduct_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "coordination/conduct_list.html", {"page_obj": page, "rows": page.object_list})


@login_required
def conduct_new(request):
    user = request.user
    title = _("登记接待现场行为记录")
    if not sv.is_bureau_staff(user):
        return _refused(request, _("只有信访部门工作人员可以登记接待现场行为记录。"), title)
    form = ConductForm(request.POST or None, initial={"case_number": request.GET.get("case", ""),
                                                      "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = _case_by_number(user, d["case_number"])
                sv.record_conduct(user, case=case, kind=d["kind"], occurred_at=d["occurred_at"], place=d["place"],
                                  persons=d["persons"], facts=d["facts"], dissuasion=d["dissuasion"],
                                  police_referred=d["police_referred"], police_station=d["police_station"])
            except WorkflowError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("已登记接待现场行为记录。"))
                return redirect("case_detail", case.pk) if case else redirect("coordination:conduct")
        return render(request, "coordination/record_form.html", {"form": form, "title": title}, status=400)
    return render(request, "coordination/record_form.html", {"form": form, "title": title})


def _may_advise(user) -> bool:
    return sv.is_bureau_staff(user) or bool(user.organ_id and user.has_role("mediator"))


@login_required
def advice_list(request):
    if not _may_advise(request.user):
        return _refused(request, _("只有信访部门工作人员或驻点调解员可以查看法律意见记录。"), _("驻点法律意见"))
    page = Paginator(sv.advice_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "coordination/advice_list.html", {"page_obj": page, "rows": page.object_list})


@login_required
def advice_new(request):
    user = request.user
    title = _("登记驻点法律意见")
    if not _may_advise(user):
        return _refused(request, _("只有信访部门工作人员或驻点调解员可以登记法律意见。"), title)
    form = AdviceForm(request.POST or None, initial={"case_number": request.GET.get("case", ""),
                                                     "given_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = _case_by_number(user, d["case_number"])
                sv.record_advice(user, case=case, adviser_kind=d["adviser_kind"], adviser_name=d["adviser_name"],
                                 affiliation=d["affiliation"], given_at=d["given_at"], advice=d["advice"])
            except WorkflowError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("已登记法律意见。"))
                return redirect("case_detail", case.pk)
        return render(request, "coordination/record_form.html", {"form": form, "title": title}, status=400)
    return render(request, "coordination/record_form.html", {"form": form, "title": title})
