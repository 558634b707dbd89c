"""Mediation pages: the directory and desk, referring a case, and running a mediation."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from xinfang.cases.access import WorkflowError, cases_visible_to, get_case_for_user

from . import services
from .forms import ConcludeForm, ConfirmForm, ReferForm, SessionForm
from .models import Mediation, Mediator, Status


def _staff_only(user) -> None:
    if not getattr(user, "organ_id", None):
        raise Http404(_("只有机关工作人员可以使用调解功能。"))


@login_required
def index(request):
    """The mediators' directory (with who serves foreign and Hong Kong/Macao/Taiwan parties) and the
    mediations the user's organisation runs or referred."""
    user = request.user
    _staff_only(user)
    mediators = Mediator.objects.filter(is_active=True).select_related("organ")
    only = request.GET.get("serves")
    if only == "foreign":
        mediators = mediators.filter(serves_foreign=True)
    elif only == "hk_macao":
        mediators = mediators.filter(serves_hk_macao=True)
    mine = (Mediation.objects.filter(Q(organ=user.organ) | Q(referring_organ=user.organ) | Q(mediator__user=user))
            .select_related("case", "organ", "mediator", "referring_organ").order_by("status", "-referred_at")[:200])
    return render(request, "mediation/index.html", {"mediators": mediators, "mediations": mine, "serves": only})


def _errors(form, exc: WorkflowError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
def refer(request, case_pk):
    case = get_case_for_user(request.user, case_pk)
    if not services.may_refer(request.user, case):
        raise Http404(_("只有当前办理机关的工作人员可以委托调解。"))
    status = 200
    form = ReferForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                mediation = services.refer(request.user, case, **form.cleaned_data)
            except WorkflowError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("已委托%(organ)s调解。") % {"organ": mediation.organ.name})
                return redirect("mediation:detail", pk=mediation.pk)
        status = 400
    return render(request, "mediation/refer.html", {"case": case, "form": form}, status=status)


def _mediation_for(user, pk) -> Mediation:
    """A mediation is seen by those who see its case (the mediation organisation is linked to it
    on referral) — missing and forbidden look the same."""
    mediation = get_object_or_404(Mediation.objects.select_related("case", "organ", "mediator", "referring_organ",
                                                                   "document"), pk=pk)
    if not (cases_visible_to(user).filter(pk=mediation.case_id).exists() or services.may_mediate(user, mediation)):
        raise Http404(_("调解记录不存在或无权查看"))
    return mediation


@login_required
def detail(request, pk):
    mediation = _mediation_for(request.user, pk)
    can_mediate = services.may_mediate(request.user, mediation)
    forms = {"session_form": SessionForm(), "conclude_form": ConcludeForm(), "confirm_form": ConfirmForm()}
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "session":
                form = forms["session_form"] = SessionForm(request.POST)
                if form.is_valid():
                    services.log_session(request.user, mediation, **form.cleaned_data)
                    messages.success(request, _("已登记调解记录。"))
                    return redirect("mediation:detail", pk=pk)
            elif op == "conclude":
                form = forms["conclude_form"] = ConcludeForm(request.POST)
                if form.is_valid():
                    done = services.conclude(request.user, mediation, **form.cleaned_data)
                    if done.document_id:
                        messages.success(request, _("调解结束,已出具%(title)s(%(number)s)。") % {
                            "title": done.document.title, "number": done.document.number})
                    else:
                        messages.success(request, _("已登记调解不成,该事项继续办理。"))
                    return redirect("mediation:detail", pk=pk)
            elif op == "confirm":
                form = forms["confirm_form"] = ConfirmForm(request.POST)
                if form.is_valid():
                    services.confirm(request.user, mediation, **form.cleaned_data)
                    messages.success(request, _("已登记司法确认。"))
                    return redirect("mediation:detail", pk=pk)
            else:
                raise Http404(_("未知的操作。"))
        except WorkflowError as exc:
            _errors(form, exc)
        status = 400
    return render(request, "mediation/detail.html", {
        "mediation": mediation, "case": mediation.case, "sessions": mediation.sessions.select_related("recorded_by"),
        "can_mediate": can_mediate and mediation.is_open,
        "can_confirm": mediation.status == Status.AGREED and not mediation.confirmed_on
                       and (can_mediate or request.user.organ_id == mediation.referring_organ_id),
        **forms,
    }, status=status)
