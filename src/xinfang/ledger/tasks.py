"""The import as a background job (huey: embedded consumer started by `xinfang serve`).

A job is claimed with a conditional UPDATE, so two workers never run it at once; a job whose
worker died (stalled) or that failed can be enqueued again and resumes after its last committed
batch (DESIGN.md habit 6: background work is idempotent).
"""
from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .importer import run_import
from .models import STALL, ImportJob


def claim(job_id: int) -> bool:
    """Take the job for this worker: queued, failed after its file check, or stalled."""
    now = timezone.now()
    S = ImportJob.Status
    runnable = (Q(status=S.QUEUED) | Q(status=S.FAILED, total__isnull=False)
                | Q(status__in=[S.CHECKING, S.RUNNING], heartbeat__lt=now - STALL))
    return bool(ImportJob.objects.filter(runnable, pk=job_id).update(status=S.CHECKING, heartbeat=now))


def execute(job_id: int) -> None:
    if not claim(job_id):
        return
    job = ImportJob.objects.select_related("bureau", "user").get(pk=job_id)
    try:
        run_import(job)
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            message=_("导入中断:%(err)s。已导入的行已保存,点击“继续导入”从中断处继续。") % {"err": exc})
        raise


@db_task()
def import_job(job_id: int) -> None:
    execute(job_id)


def stalled_job_ids() -> list[int]:
    """Jobs whose worker died mid-way (no progress for STALL): a restarted consumer resumes them."""
    S = ImportJob.Status
    return list(ImportJob.objects.filter(status__in=[S.CHECKING, S.RUNNING], heartbeat__lt=timezone.now() - STALL)
                .values_list("pk", flat=True))


@db_periodic_task(crontab(minute="*/2"))
def resume_stalled() -> None:
    for job_id in stalled_job_ids():
        import_job(job_id)
