"""Ledger pages: the import upload (registrars), the job page with live progress, the error
report, and the export behind the export button of every case list."""
from __future__ import annotations

import csv
import os
import tempfile

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.log import append as audit
from xinfang.cases.access import cases_visible_to, may_register

from . import exporter
from .models import ImportJob, ImportRowError
from .tasks import import_job

MAX_UPLOAD = 500 * 1024 * 1024
ALLOWED = (".csv", ".xlsx", ".txt")


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("台账文件"),
                           help_text=gettext_lazy("CSV(UTF-8 或 GBK 编码)或 XLSX,第一行为列名。"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(ALLOWED):
            raise forms.ValidationError(_("只能导入 CSV 或 XLSX 文件。"))
        if f.size == 0:
            raise forms.ValidationError(_("文件为空。"))
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件超过500MB,请使用命令行导入(xinfang import)。"))
        return f


def _registrar(request):
    if not (may_register(request.user) and request.user.organ.is_bureau):
        raise Http404(_("页面不存在"))
    return request.user


def _job_for(request, pk) -> ImportJob:
    user = _registrar(request)
    return get_object_or_404(ImportJob, pk=pk, bureau_id=user.organ_id)


@login_required
def import_upload(request):
    """Upload a ledger; the import runs as a background job (its page shows the progress)."""
    user = _registrar(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob(bureau=user.organ, user=user, name=os.path.basename(upload.name)[:200])
        job.file.save(os.path.basename(upload.name), upload, save=False)
        job.save()
        audit(user, "ledger.upload", job, file=job.name, size=upload.size)
        import_job(job.pk)
        return redirect("ledger:job", pk=job.pk)
    jobs = ImportJob.objects.filter(bureau_id=user.organ_id)[:20]
    return render(request, "ledger/import.html", {"form": form, "jobs": jobs})


@login_required
def job_detail(request, pk):
    job = _job_for(request, pk)
    template = "ledger/_progress.html" if request.htmx else "ledger/job.html"
    errors = job.row_errors.all()[:50]
    return render(request, template, {"job": job, "errors": errors})


@login_required
@require_POST
def job_resume(request, pk):
    job = _job_for(request, pk)
    if job.resumable:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, finished_at=None)
        audit(request.user, "ledger.resume", job, rows_done=job.rows_done)
        import_job(job.pk)
    return redirect("ledger:job", pk=job.pk)


class _Echo:
    def write(self, value):
        return value


def error_rows(job: ImportJob):
    """The error report: header, then (row, column, reason) for every bad row."""
    yield [_("行号"), _("列"), _("原因")]
    for e in job.row_errors.order_by("row", "pk").values_list("row", "column", "reason").iterator(chunk_size=2000):
        yield [str(e[0]), exporter.neutralise(e[1]), exporter.neutralise(e[2])]


@login_required
def job_errors(request, pk):
    job = _job_for(request, pk)
    writer = csv.writer(_Echo())

    def chunks():
        yield "\ufeff"
        for row in error_rows(job):
            yield writer.writerow(row)

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


# --------------------------------------------------------------------------- export


def _list_queryset(request):
    """The cases the list the user came from shows: the case list with its GET filters, or an
    inbox tab. The same code the list uses decides, so the export is exactly the list."""
    user = request.user
    which = request.GET.get("list", "cases")
    if which == "inbox":
        from xinfang.handling.views import INBOX_STATES, inbox_tabs

        if user.organ_id is None:
            return cases_visible_to(user).none(), {}
        tabs = {code: q for code, _label, q in inbox_tabs(timezone.localdate())}
        tab = request.GET.get("tab")
        base = cases_visible_to(user).filter(current_organ_id=user.organ_id, state__in=INBOX_STATES)
        return (base.filter(tabs[tab]) if tab in tabs else base), {"list": "inbox", "tab": tab or ""}
    from xinfang.intake.forms import CaseFilterForm

    form = CaseFilterForm(request.GET)
    if not form.is_valid():
        raise Http404(_("查询条件有误"))
    filters = {k: str(v) for k, v in form.cleaned_data.items() if v not in (None, "")}
    return form.filter(cases_visible_to(user)), {"list": "cases", **filters}


@login_required
def export(request):
    """Download what a list shows as a ledger (CSV or XLSX), masked as the list masks it."""
    user = request.user
    if user.organ_id is None and not user.is_superuser:
        raise Http404(_("页面不存在"))
    qs, described = _list_queryset(request)
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit(user, "ledger.export", None, format=fmt, **described)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response = StreamingHttpResponse(exporter.csv_chunks(user, qs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.csv"'
        return response
    # write_only workbook spooled to a temporary file, then streamed (bounded memory).
    tmp = tempfile.TemporaryFile()
    exporter.write_xlsx(tmp, user, qs)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=f"ledger-{stamp}.xlsx",
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
