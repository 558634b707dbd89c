"""Pages of supervision and leadership: the supervision desk, letters and their answers, the case
panel's actions (挂牌督办, 领导包案, 批示, 提级), the leader's desk, 网上抽查 and the 红黑榜.

Views are thin: cases are looked up through `xinfang.cases.access` (missing and forbidden are both
404), every change is a service in `services.py`. A refused action answers 403 with the reason; bad
input answers 400 with the message; nothing is changed in either case.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.log import append as audit
from xinfang.cases.access import WorkflowError, cases_visible_to, get_case_for_user
from xinfang.cases.models import State
from xinfang.documents.render import CONTENT_TYPES, PdfFontMissing, ensure_files
from xinfang.orgs.models import Role

from . import ranking as rk
from . import reminders as rm
from . import services as sv
from .forms import (
    AnswerForm, EscalationForm, InstructionForm, LeaderForm, LetterForm, ReasonForm, ResultForm, ReviewForm, ScoreForm,
    SpotCheckForm,
)
from .models import (
    Escalation, Instruction, LeaderAssignment, LetterKind, LetterStatus, ReminderTo, SpotCheck, SpotCheckItem,
)

PAGE_SIZE = 50


def _refused(request, exc: WorkflowError, *, title: str, back: str = ""):
    status = 403 if isinstance(exc, sv.Refused) else 400
    return render(request, "supervision/refused.html", {"title": title, "refusal": exc.message, "back": back},
                  status=status)


def _forbidden(request, message: str, title: str):
    return _refused(request, sv.Refused(message), title=title)


def _form_error(form) -> str:
    return ";".join(f"{form.fields[f].label if f in form.fields else ''}:{' '.join(e)}".lstrip(":")
                    for f, e in form.errors.items())


# --------------------------------------------------------------------------- the desk


@login_required
def desk(request):
    """Overdue and near-due cases by organ and stage in the supervisor's oversight, with the
    selected group's cases (GET organ, state, grade)."""
    user = request.user
    if not sv.is_supervisor(user):
        return _forbidden(request, _("督办台仅供督查员使用。"), _("督办台"))
    today = timezone.localdate()
    summary = sv.desk_summary(user)
    cases = sv.desk_cases(user)
    organ, state, grade = request.GET.get("organ", ""), request.GET.get("state", ""), request.GET.get("grade", "")
    if organ.isdigit():
        cases = cases.filter(current_organ_id=int(organ))
    if state in State.values:
        cases = cases.filter(state=state)
    if grade == "overdue":
        cases = cases.filter(due_on__lt=today)
    elif grade == "near":
        cases = cases.filter(due_on__gte=today)
    cases = (cases.select_related("current_organ").prefetch_related("petitioners")
             .order_by(F("due_on").asc(), "received_at", "pk"))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    open_letters = sv.letters_for(user).exclude(status=LetterStatus.CLOSED)
    return render(request, "supervision/desk.html", {
        "summary": summary,
        "totals": {"overdue": sum(r["overdue"] for r in summary), "near": sum(r["near"] for r in summary)},
        "pending": cases_visible_to(user).filter(due_pending_year__isnull=False, state__in=sv.OPEN_STATES).count(),
        "page_obj": page, "cases": page.object_list,
        "filters": {"organ": organ, "state": state, "grade": grade},
        "letters_open": open_letters.filter(status=LetterStatus.OPEN).count(),
        "letters_overdue": open_letters.filter(status=LetterStatus.OPEN, answer_due__lt=today).count(),
        "letters_answered": open_letters.filter(status=LetterStatus.ANSWERED).count(),
        "reminders": list(rm.unread_for(user, ReminderTo.ISSUER).order_by("letter__answer_due", "pk")[:50]),
    })


# --------------------------------------------------------------------------- letters


@login_required
def letter_issue(request, pk):
    """Issue a letter on a case (GET shows the form, with ?kind= preselected)."""
    case = get_case_for_user(request.user, pk)
    if not sv.is_supervisor(request.user):
        return _forbidden(request, _("该操作须由督查员办理。"), _("督办发函"))
    status = 200
    if request.method == "POST":
        form = LetterForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                letter = sv.issue_letter(request.user, case, kind=d["kind"], organ=d["organ"], reason=d["reason"],
                                         requirement=d["requirement"], answer_due=d["answer_due"])
            except WorkflowError as exc:
                if isinstance(exc, sv.Refused):
                    return _refused(request, exc, title=_("督办发函"))
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已出具%(title)s(%(number)s),送%(organ)s。") % {
                    "title": letter.document.title, "number": letter.document.number, "organ": letter.organ.name})
                return redirect("supervision:letter_detail", pk=letter.pk)
        status = 400
    else:
        kind = request.GET.get("kind") if request.GET.get("kind") in LetterKind.values else LetterKind.SUPERVISE
        form = LetterForm(initial={"kind": kind, "organ": sv.default_addressee(case, kind, request.user.organ),
                                   "answer_due": timezone.localdate() + dt.timedelta(days=sv.conf.answer_days())})
    return render(request, "supervision/letter_form.html", {"case": case, "form": form}, status=status)


LETTER_TABS = [("open", gettext_lazy("待答复")), ("overdue", gettext_lazy("逾期未答复")), ("answered", gettext_lazy("待审核")),
               ("closed", gettext_lazy("已办结"))]


@login_required
def letters(request):
    """Letters the user's organ issued (supervisors) or received, by status."""
    user = request.user
    qs = sv.letters_for(user)
    today = timezone.localdate()
    filters = {"open": Q(status=LetterStatus.OPEN), "overdue": Q(status=LetterStatus.OPEN, answer_due__lt=today),
               "answered": Q(status=LetterStatus.ANSWERED), "closed": Q(status=LetterStatus.CLOSED)}
    tab = request.GET.get("tab") if request.GET.get("tab") in filters else "open"
    scope = request.GET.get("scope")
    if scope == "received":
        qs = qs.filter(organ_id=user.organ_id)
    elif scope == "issued":
        qs = qs.exclude(organ_id=user.organ_id)
    counts = {code: qs.filter(q).count() for code, q in filters.items()}
    page = Paginator(qs.filter(filters[tab]).order_by("answer_due", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/letters.html", {
        "tabs": [{"code": c, "label": label, "count": counts[c], "active": c == tab} for c, label in LETTER_TABS],
        "tab": tab, "scope": scope or "", "page_obj": page, "letters": page.object_list, "today": today,
    })


def _letter_for(user, pk):
    letter = sv.letters_for(user).filter(pk=pk).select_related("answered_by", "closed_by", "issued_by").first()
    if letter is None:
        raise Http404(_("函件不存在或无权查看"))
    return letter


@login_required
def letter_detail(request, pk):
    """A letter, its document, the answer form for the receiving organ and the review form for
    the issuing supervisors."""
    letter = _letter_for(request.user, pk)
    return render(request, "supervision/letter_detail.html", _letter_context(request, letter))


def _letter_context(request, letter, answer_form=None, review_form=None):
    user = request.user
    can_answer = letter.status == LetterStatus.OPEN and sv.may_answer(user, letter)
    can_review = letter.status == LetterStatus.ANSWERED and sv.may_close(user, letter)
    return {
        "letter": letter,
        "reminders": list(letter.reminders.select_related("organ", "user", "read_by").order_by("created_at", "pk")),
        "case_visible": cases_visible_to(user).filter(pk=letter.case_id).exists(),
        "answer_form": (answer_form or AnswerForm()) if can_answer else None,
        "review_form": (review_form or ReviewForm()) if can_review else None,
    }


@login_required
@require_POST
def letter_answer(request, pk):
    letter = _letter_for(request.user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            sv.answer_letter(request.user, letter, answer=form.cleaned_data["answer"], adoption=form.cleaned_data["adoption"])
        except WorkflowError as exc:
            if isinstance(exc, sv.Refused):
                return _refused(request, exc, title=_("答复函件"))
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已答复%(number)s。") % {"number": letter.document.number})
            return redirect("supervision:letter_detail", pk=letter.pk)
    if not sv.may_answer(request.user, letter):
        return _forbidden(request, _("只有主送机关的承办人或负责人可以答复该函件。"), _("答复函件"))
    return render(request, "supervision/letter_detail.html", _letter_context(request, letter, answer_form=form), status=400)


@login_required
@require_POST
def letter_review(request, pk):
    letter = _letter_for(request.user, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            sv.review_answer(request.user, letter, accept=form.cleaned_data["decision"] == "close",
                             note=form.cleaned_data["note"])
        except WorkflowError as exc:
            if isinstance(exc, sv.Refused):
                return _refused(request, exc, title=_("审核答复"))
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已办结该函件。") if form.cleaned_data["decision"] == "close"
                             else _("已退回重新答复。"))
            return redirect("supervision:letter_detail", pk=letter.pk)
    if not sv.may_close(request.user, letter):
        return _forbidden(request, _("只有发函机关的督查员可以审核答复。"), _("审核答复"))
    return render(request, "supervision/letter_detail.html", _letter_context(request, letter, review_form=form), status=400)


@login_required
def letter_download(request, pk, fmt):
    """The letter's document for whoever may see the letter (the receiving organ may not see the
    case itself, so the case's own download, which needs the case, is not used)."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    letter = _letter_for(request.user, pk)
    document = letter.document
    try:
        ensure_files(document)
    except PdfFontMissing as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    audit(request.user, "document.download", document, case=letter.case.number, number=document.number, format=fmt)
    stored = document.pdf if fmt == "pdf" else document.docx
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{document.number}{document.title}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])


# --------------------------------------------------------------------------- case panel actions


def _case_action(request, pk, title, run):
    """POST an action from the case page's supervision panel: `run(case, data)` calls the service."""
    case = get_case_for_user(request.user, pk)
    try:
        message = run(case, request.POST)
    except WorkflowError as exc:
        return _refused(request, exc, title=title, back=reverse("case_detail", args=[case.pk]))
    messages.success(request, message)
    return redirect("case_detail", pk=case.pk)


def _valid(form):
    if not form.is_valid():
        raise WorkflowError(_form_error(form))
    return form.cleaned_data


@login_required
@require_POST
def case_listing(request, pk):
    """Set (挂牌) or clear (摘牌) 挂牌督办 on a case, with the reason."""
    def run(case, data):
        reason = _valid(ReasonForm(data))["reason"]
        if data.get("op") == "clear":
            sv.unlist_case(request.user, case, reason=reason)
            return _("已摘牌。")
        sv.list_case(request.user, case, reason=reason)
        return _("已挂牌督办。")
    return _case_action(request, pk, _("挂牌督办"), run)


@login_required
@require_POST
def leader_assign(request, pk):
    def run(case, data):
        if not (sv.is_supervisor(request.user) or sv.is_leader(request.user)):
            raise sv.Refused(_("领导包案须由督查员安排,或由领导本人认领。"))
        d = _valid(LeaderForm(data, leaders=sv.leaders_for(case)))
        a = sv.assign_leader(request.user, case, leader=d["leader"], assigned_on=d["assigned_on"], note=d["note"])
        return _("已安排%(name)s包案。") % {"name": a.leader}
    return _case_action(request, pk, _("领导包案"), run)


@login_required
@require_POST
def leader_end(request, pk, assignment_pk):
    def run(case, data):
        assignment = get_object_or_404(LeaderAssignment, pk=assignment_pk, case=case)
        sv.end_assignment(request.user, assignment, note=data.get("note", ""))
        return _("已结束包案。")
    return _case_action(request, pk, _("结束包案"), run)


@login_required
@require_POST
def instruct(request, pk):
    def run(case, data):
        if not sv.is_leader(request.user):
            raise sv.Refused(_("批示须由领导作出。"))
        sv.instruct(request.user, case, text=_valid(InstructionForm(data))["text"])
        return _("已批示。")
    return _case_action(request, pk, _("领导批示"), run)


@login_required
@require_POST
def escalate(request, pk):
    def run(case, data):
        if not (sv.is_supervisor(request.user) or sv.is_leader(request.user)):
            raise sv.Refused(_("提级调度须由督查员或领导记录联席会议的决定。"))
        d = _valid(EscalationForm(data))
        e = sv.escalate(request.user, case, conference=d["conference"], decided_on=d["decided_on"],
                        to_organ=d["to_organ"], reason=d["reason"])
        return _("已记录提级调度:提至%(organ)s。") % {"organ": e.to_organ.name}
    return _case_action(request, pk, _("提级调度"), run)


@login_required
@require_POST
def escalation_result(request, pk, escalation_pk):
    def run(case, data):
        escalation = get_object_or_404(Escalation, pk=escalation_pk, case=case)
        sv.record_escalation_result(request.user, escalation, result=_valid(ResultForm(data))["result"])
        return _("已记录提级调度结果。")
    return _case_action(request, pk, _("提级调度结果"), run)


@login_required
@require_POST
def instruction_read(request, pk):
    """The receiving organ signs for a 批示 (from its inbox)."""
    instruction = Instruction.objects.filter(pk=pk, organ_id=request.user.organ_id).select_related("case").first()
    if instruction is None:
        raise Http404(_("批示不存在或无权查看"))
    try:
        sv.acknowledge(request.user, instruction)
    except WorkflowError as exc:
        return _refused(request, exc, title=_("签收批示"))
    messages.success(request, _("已签收批示。"))
    return redirect(request.POST.get("next") if (request.POST.get("next") or "").startswith("/") else "inbox")


@login_required
@require_POST
def reminders_read(request):
    """Mark the letter reminders shown to the user read: the receiving organ's (inbox, to=organ)
    or, for a supervisor, the issuing organ's 超期 ones (desk, to=issuer)."""
    recipient = request.POST.get("to")
    if recipient not in ReminderTo.values:
        raise Http404
    if recipient == ReminderTo.ISSUER and not sv.is_supervisor(request.user):
        return _forbidden(request, _("该操作须由督查员办理。"), _("函件答复提醒"))
    rm.mark_read(request.user, recipient)
    messages.success(request, _("已将函件答复提醒标为已读。"))
    default = "supervision:desk" if recipient == ReminderTo.ISSUER else "inbox"
    return redirect(request.POST.get("next") if (request.POST.get("next") or "").startswith("/") else default)


# --------------------------------------------------------------------------- the leader's desk


@login_required
def leader_desk(request):
    """The cases the leader has taken personal charge of (领导包案), with state and due dates, and
    the 批示 they gave."""
    user = request.user
    if not sv.is_leader(user):
        return _forbidden(request, _("包案台仅供领导使用。"), _("包案台"))
    assignments = (LeaderAssignment.objects.filter(leader=user, is_active=True)
                   .filter(case__in=cases_visible_to(user)).select_related("case", "case__current_organ")
                   .order_by(F("case__due_on").asc(nulls_last=True), "-assigned_on"))
    ended = LeaderAssignment.objects.filter(leader=user, is_active=False).select_related("case")[:50]
    instructions = Instruction.objects.filter(leader=user).select_related("case", "organ")[:50]
    return render(request, "supervision/leader_desk.html", {
        "assignments": assignments, "ended": ended, "instructions": instructions,
        "cases": [a.case for a in assignments],
    })


# --------------------------------------------------------------------------- 网上抽查


@login_required
def spot_checks(request):
    """The supervisor's spot checks and the form to draw a new one."""
    user = request.user
    if not sv.is_supervisor(user):
        return _forbidden(request, _("网上抽查须由督查员办理。"), _("网上抽查"))
    status = 200
    if request.method == "POST":
        form = SpotCheckForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                check = sv.draw_spot_check(user, start=d["start"], end=d["end"], per_organ=d["per_organ"],
                                           seed=d["seed"], organs=list(d["organs"]) or None)
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已抽取%(n)s件,随机种子:%(seed)s。") % {"n": check.items.count(), "seed": check.seed})
                return redirect("supervision:spot_check", pk=check.pk)
        status = 400
    else:
        first = timezone.localdate().replace(day=1)
        form = SpotCheckForm(initial={"start": rk.previous_month(first), "end": first - dt.timedelta(days=1)})
    return render(request, "supervision/spot_checks.html", {
        "form": form, "checks": sv.spot_checks_for(user).select_related("drawn_by")[:100]}, status=status)


@login_required
def spot_check(request, pk):
    """One check: sampled cases by organ, their scores and the scoring forms; pass rates."""
    check = get_object_or_404(sv.spot_checks_for(request.user), pk=pk)
    items = list(check.items.select_related("case", "organ"))
    for item in items:
        item.form = ScoreForm(checklist=check.checklist, initial={"met": [str(m) for m in item.met], "note": item.note},
                              prefix=f"i{item.pk}")
    return render(request, "supervision/spot_check.html", {"check": check, "items": items, "rates": sv.pass_rates(check)})


@login_required
@require_POST
def spot_score(request, pk):
    item = get_object_or_404(SpotCheckItem.objects.select_related("check_run"), pk=pk,
                             check_run__in=sv.spot_checks_for(request.user))
    form = ScoreForm(request.POST, checklist=item.check_run.checklist, prefix=f"i{item.pk}")
    try:
        d = _valid(form)
        sv.score_item(request.user, item, met=d["met"], note=d["note"])
    except WorkflowError as exc:
        return _refused(request, exc, title=_("抽查评分"))
    messages.success(request, _("已评分:%(number)s 得分 %(score)s。") % {"number": item.case.number, "score": item.score})
    return redirect(reverse("supervision:spot_check", args=[item.check_run_id]) + f"#item-{item.pk}")


@login_required
@require_POST
def spot_publish(request, pk):
    check = get_object_or_404(sv.spot_checks_for(request.user), pk=pk)
    try:
        sv.publish_spot_check(request.user, check)
    except WorkflowError as exc:
        return _refused(request, exc, title=_("公布抽查结果"))
    messages.success(request, _("已公布抽查结果。"))
    return redirect("supervision:spot_check", pk=check.pk)


@login_required
def spot_results(request):
    """Published pass rates per organ (open to all staff): the numbers, not the cases."""
    if not request.user.organ_id and not request.user.is_superuser:
        raise Http404
    checks = SpotCheck.objects.filter(published_at__isnull=False).select_related("organ").order_by("-published_at")[:24]
    return render(request, "supervision/spot_results.html", {"results": [(c, sv.pass_rates(c)) for c in checks]})


# --------------------------------------------------------------------------- 红黑榜


def _month(request) -> dt.date | None:
    raw = request.GET.get("month", "")
    if not raw:
        return rk.previous_month(timezone.localdate())
    try:
        return dt.datetime.strptime(raw, "%Y-%m").date()
    except ValueError:
        return None


def _may_rank(user) -> bool:
    return bool(user.organ_id and user.has_role(Role.SUPERVISOR, Role.LEADER, Role.ANALYST))


@login_required
def ranking(request, fmt: str = ""):
    """The monthly 红黑榜 (GET month=YYYY-MM, default last month); fmt csv or xlsx exports it."""
    if not _may_rank(request.user):
        return _forbidden(request, _("红黑榜仅供督查员、领导和分析员查看。"), _("红黑榜"))
    month = _month(request)
    if month is None:
        return _refused(request, WorkflowError(_("月份格式应为YYYY-MM,如2026-05。")), title=_("红黑榜"))
    board = rk.build_ranking(request.user, month)
    if fmt:
        audit(request.user, "supervision.ranking_export", None, month=f"{month:%Y-%m}", format=fmt)
        name = f"红黑榜-{month:%Y-%m}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(rk.to_csv(board), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(rk.to_xlsx(board),
                                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    return render(request, "supervision/ranking.html", {"board": board, "month": f"{month:%Y-%m}",
                                                        "list_size": sv.conf.ranking_list_size()})
