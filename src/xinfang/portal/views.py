"""The citizen portal (网上投、网上查、网上评): submit a petition, follow it with the case number
and query code or through an account, read the documents addressed to the petitioner, evaluate,
and ask for 复查/复核.

Views are thin. The citizen is an `access.Citizen` principal built from the session and the
account (services.citizen_for); cases are read through `access.get_case_for_user` (another
person's case is a 404) and changed only through `workflow` service functions.
"""
from __future__ import annotations

import secrets
from pathlib import PurePath

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.audit.log import append as audit
from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError, get_case_for_user
from xinfang.cases.models import Attachment, Case, Closure, State
from xinfang.documents.render import CONTENT_TYPES, PdfFontMissing, ensure_files

from . import services
from .forms import TOKEN_RE, EvaluateForm, RequestForm, SignupForm, SubmitForm, TrackForm
from .models import Submission
from .notify import send_query_code

# Where a registration refusal's field shows on the submit form.
SUBMIT_FIELDS = {"petitioners": None, "bureau": "bureau", "title": "title", "content": "content", "category": "category",
                 "accused_organ": "accused_organ"}


def index(request):
    return render(request, "portal/index.html", {})


# --------------------------------------------------------------------------- submit (网上投)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _render_submit(request, form, *, status=200):
    had_files = request.method == "POST" and bool(request.FILES.getlist("attachments"))
    return render(request, "portal/submit.html", {"form": form, "files_dropped": had_files and status != 200}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request):
    """A real-name online petition. The form carries a one-time token: a double click or a retry
    with the same token leads to the same case, never a second one."""
    if request.method != "POST":
        return _render_submit(request, SubmitForm(initial={"token": _new_token()}))
    data = request.POST.copy()
    if not TOKEN_RE.match(data.get("token", "")):
        data["token"] = _new_token()  # a form from elsewhere or a mangled token: this try gets its own
    token = data["token"]
    if Submission.objects.filter(token=token).exists():
        return redirect("portal:submitted", token=token)
    form = SubmitForm(data, request.FILES)
    if not form.is_valid():
        return _render_submit(request, form, status=400)
    ip, id_number = services.client_ip(request), form.cleaned_data["id_number"]
    try:
        services.check_submission_limits(ip, id_number)
    except services.RateLimited as exc:
        form.add_error(None, exc.message)
        return _render_submit(request, form, status=429)

    files = []
    for upload in form.cleaned_data["attachments"]:
        # Stored under a random name (the citizen's file name is kept only as the label), so no
        # name chosen by the public ever reaches the file system.
        shown = PurePath(upload.name).name
        upload.name = f"{secrets.token_hex(16)}.{shown.rsplit('.', 1)[-1].lower()}"
        files.append((shown, upload))
    code = services.new_query_code()
    citizen = services.citizen_for(request)
    stored: list[str] = []
    try:
        with transaction.atomic():
            case = workflow.submit_online(citizen, form.cleaned_data["bureau"], form.case_data(), [form.petitioner()], files)
            stored = list(case.attachments.values_list("file", flat=True))
            Submission.objects.create(case=case, token=token, code_hash=services.hash_query_code(code),
                                      account=citizen.user, email=form.cleaned_data.get("email") or "")
            services.count_submission(ip, id_number)
            # The counters are checked again inside the transaction: two submissions racing past the
            # first check cannot both exceed the limit.
            services.check_submission_limits(ip, id_number, counted=True)
    except IntegrityError:
        # The same token committed meanwhile (a double click racing this request): same case.
        _discard_files(stored)
        if Submission.objects.filter(token=token).exists():
            return redirect("portal:submitted", token=token)
        raise
    except services.RateLimited as exc:
        _discard_files(stored)
        form.add_error(None, exc.message)
        return _render_submit(request, form, status=429)
    except workflow.RegistrationError as exc:
        _discard_files(stored)
        for field, msgs in exc.errors.items():
            for msg in msgs:
                form.add_error(SUBMIT_FIELDS.get(field), msg)
        return _render_submit(request, form, status=400)
    except WorkflowError as exc:
        _discard_files(stored)
        form.add_error(SUBMIT_FIELDS.get(exc.field), exc.message)
        return _render_submit(request, form, status=400)

    send_query_code(case_number=case.number, code=code, phone=form.cleaned_data["phone"],
                    email=form.cleaned_data.get("email") or "")
    shown = request.session.get(services.SESSION_SUBMITTED, {})
    shown[token] = {"case": case.pk, "code": code}
    request.session[services.SESSION_SUBMITTED] = shown
    request.session.cycle_key()  # the session now holds a case and its code: new session key
    services.remember_case(request, case)
    return redirect("portal:submitted", token=token)


def _discard_files(names: list[str]) -> None:
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


@never_cache
@require_GET
def submitted(request, token: str):
    """The success page: the case number and, once, the query code."""
    submission = Submission.objects.select_related("case", "case__bureau").filter(token=token).first()
    if submission is None:
        raise Http404
    shown = request.session.get(services.SESSION_SUBMITTED, {})
    entry = shown.pop(token, None)
    if entry is not None:
        request.session[services.SESSION_SUBMITTED] = shown
    code = entry["code"] if entry and entry.get("case") == submission.case_id else ""
    known = submission.case_id in set(request.session.get(services.SESSION_CASES, []))
    return render(request, "portal/submitted.html", {
        "case": submission.case if (code or known) else None, "code": code})


# --------------------------------------------------------------------------- track (网上查)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    """Look a case up by its number and query code. Tries are limited per address and per case
    number; a wrong number and a wrong code get the same answer."""
    if request.method != "POST":
        return render(request, "portal/track.html", {"form": TrackForm()})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form}, status=400)
    number = form.cleaned_data["number"]
    try:
        services.check_lookup_limits(services.client_ip(request), number)
    except services.RateLimited as exc:
        form.add_error(None, exc.message)
        return render(request, "portal/track.html", {"form": form}, status=429)
    case = services.find_case_by_code(number, form.cleaned_data["code"])
    if case is None:
        services.count_lookup_failure(number)
        form.add_error(None, _("信访事项编号或查询码不正确,请核对后重新输入。"))
        return render(request, "portal/track.html", {"form": form}, status=400)
    request.session.cycle_key()  # a proven case widens what this session sees: new session key
    services.remember_case(request, case)
    return redirect("portal:case", pk=case.pk)


@never_cache
def case_detail(request, pk: int):
    citizen = services.citizen_for(request)
    case = get_case_for_user(citizen, pk)
    return render(request, "portal/case.html", _case_context(request, case))


def _case_context(request, case: Case, **extra) -> dict:
    citizen = services.citizen_for(request, case)
    status, window = services.evaluation_status(case)
    ctx = {
        "case": case,
        # An objection between organs is their business: the petitioner sees the case as awaiting routing.
        "public_state": State.REGISTERED.label if case.state == State.RETURNED else case.state_label,
        "timeline": services.timeline(case),
        "deadlines": services.open_deadlines(case),
        "documents": services.petitioner_documents(case),
        "attachments": case.attachments.all(),
        "evaluation": status, "evaluation_window": window,
        "evaluate_form": EvaluateForm(),
        "requests": _requests(citizen, case),
        "request_form": RequestForm(),
    }
    ctx.update(extra)
    return ctx


REQUEST_KINDS = {"review": "request_review", "re_review": "request_re_review"}


def _requests(citizen, case: Case) -> list[dict]:
    """The 复查/复核 step the petitioner may be at: offered with a form, or explained (Art.35, 36)."""
    if not workflow.review_allowed(case):
        return []
    if case.state == State.REPLIED or (case.state == State.CLOSED and case.closure == Closure.REPLIED):
        kind = "review"
    elif case.state == State.REVIEWED or (case.state == State.CLOSED and case.closure == Closure.REVIEWED):
        kind = "re_review"
    else:
        return []
    name = REQUEST_KINDS[kind]
    window = case.deadlines.filter(rule_id=workflow.NEXT_LEVEL_WINDOWS[name][0]).order_by("-pk").first()
    return [{"kind": kind, "refusal": workflow.next_level_refusal(citizen, case, name), "window": window}]


@require_POST
def evaluate(request, pk: int):
    """网上评: rate the handling organ and the bureau within the evaluation window."""
    citizen = services.citizen_for(request)
    case = get_case_for_user(citizen, pk)
    form = EvaluateForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/case.html", _case_context(request, case, evaluate_form=form), status=400)
    try:
        workflow.evaluate_case(services.citizen_for(request, case), case,
                               organ_satisfaction=form.cleaned_data["organ_satisfaction"],
                               bureau_satisfaction=form.cleaned_data["bureau_satisfaction"])
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("感谢您的评价。"))
    return redirect("portal:case", pk=case.pk)


@require_POST
def request_next_level(request, pk: int, kind: str):
    """Ask for 复查 (Art.35) or 复核 (Art.36): it goes to the organ one level up."""
    if kind not in REQUEST_KINDS:
        raise Http404
    citizen = services.citizen_for(request)
    case = get_case_for_user(citizen, pk)
    form = RequestForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/case.html", _case_context(request, case, request_form=form), status=400)
    service = workflow.request_review if kind == "review" else workflow.request_re_review
    try:
        case = service(services.citizen_for(request, case), case, reason=form.cleaned_data["reason"])
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        what = _("复查") if kind == "review" else _("复核")
        messages.success(request, _("您的%(what)s申请已提交至%(organ)s。") % {"what": what, "organ": case.current_organ.name})
    return redirect("portal:case", pk=case.pk)


@require_GET
def document_download(request, pk: int, doc_pk: int, fmt: str):
    """A document addressed to the petitioner, of the citizen's own case (else 404)."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    citizen = services.citizen_for(request)
    case = get_case_for_user(citizen, pk)
    document = services.petitioner_documents(case).filter(pk=doc_pk).first()
    if document is None:
        raise Http404
    try:
        ensure_files(document)
    except PdfFontMissing as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    audit(services.citizen_for(request, case), "document.download", document, case=case.number, number=document.number,
          format=fmt, via="portal")
    stored = document.pdf if fmt == "pdf" else document.docx
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{document.number}{document.title}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])


@require_POST
def forget(request):
    """Stop showing the cases looked up with a query code in this browser (a shared computer)."""
    request.session.pop(services.SESSION_CASES, None)
    request.session.pop(services.SESSION_SUBMITTED, None)
    return redirect("portal:index")


# --------------------------------------------------------------------------- accounts


@login_required(login_url=reverse_lazy("portal:login"))
def mine(request):
    """A citizen account's petitions: those submitted while logged in."""
    cases = (Case.objects.filter(portal_submission__account=request.user)
             .select_related("current_organ").order_by("-received_at", "-pk"))
    return render(request, "portal/mine.html", {"cases": cases})


def portal_login(request):
    """Citizens log in on the one login page (with its lockout and checks), then come back here."""
    return redirect(f"{reverse_lazy('login')}?next={reverse_lazy('portal:mine')}")


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            audit(user, "portal.signup", user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("账号已创建。登录状态下提交的信访事项会列在“我的信访”中。"))
            return redirect("portal:mine")
        return render(request, "portal/signup.html", {"form": form}, status=400)
    return render(request, "portal/signup.html", {"form": SignupForm()})
