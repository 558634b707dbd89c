"""Ledger (台账) imports: the job that runs one, the rows it turned into cases, and its errors.

`LedgerRow` is the idempotency key of imports: one row per (bureau, source number). It is written
in the same transaction as the case it created, so a rerun of an interrupted import skips exactly
the rows that were committed. `ImportRowError` rows are written in the same transaction too, so the
error report of a resumed job lists every bad row once.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.models import Case
from xinfang.orgs.models import Organ


# No progress for this long: the job's worker died (settings.LEDGER_IMPORT_STALL_SECONDS, default 2 minutes).
STALL = dt.timedelta(seconds=settings.LEDGER_IMPORT_STALL_SECONDS)


def upload_path(instance: "ImportJob", filename: str) -> str:
    return f"ledger/imports/{timezone.now():%Y/%m}/{filename}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        CHECKING = "checking", _("检查文件")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    bureau = models.ForeignKey(Organ, models.PROTECT, related_name="+", verbose_name=_("登记机关"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("导入人"))
    file = models.FileField(_("文件"), upload_to=upload_path, max_length=300, blank=True)
    source_path = models.CharField(_("文件路径"), max_length=500, blank=True, help_text=_("命令行导入的文件"))
    name = models.CharField(_("文件名"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField(_("说明"), blank=True)
    total = models.PositiveIntegerField(_("数据行数"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    created = models.PositiveIntegerField(_("新建事项"), default=0)
    skipped = models.PositiveIntegerField(_("已导入过(跳过)"), default=0)
    errors = models.PositiveIntegerField(_("错误行"), default=0)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    heartbeat = models.DateTimeField(_("最近进展"), null=True, blank=True)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.rows_done * 100 / self.total))

    @property
    def stalled(self) -> bool:
        """Started but silent for a while: its worker died (it may be resumed)."""
        if self.finished or self.status == self.Status.QUEUED:
            return False
        beat = self.heartbeat or self.started_at or self.created_at
        return timezone.now() - beat > STALL

    @property
    def resumable(self) -> bool:
        return self.status == self.Status.FAILED and self.total is not None or self.stalled

    def path(self) -> str:
        return self.file.path if self.file else self.source_path


class LedgerRow(models.Model):
    """A ledger row that became a case: the source system's number (编号) and the columns this
    system has no field for (kept as they came)."""

    # Both found by an index that starts with them: ledger_row_unique_source_no, ledger_row_job_case.
    bureau = models.ForeignKey(Organ, models.PROTECT, related_name="+", verbose_name=_("登记机关"), db_index=False)
    source_no = models.CharField(_("原编号"), max_length=100)
    case = models.OneToOneField(Case, models.CASCADE, related_name="ledger_row", verbose_name=_("信访事项"))
    job = models.ForeignKey(ImportJob, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    row = models.PositiveIntegerField(_("行号"))
    extra = models.JSONField(_("其他列"), default=dict, blank=True)

    class Meta:
        verbose_name = _("台账导入行")
        verbose_name_plural = _("台账导入行")
        constraints = [models.UniqueConstraint(fields=["bureau", "source_no"], name="ledger_row_unique_source_no")]
        # A job's cases in id order: the screening process follows an import by it (dedup.screener),
        # a few rows at a time, without reading the whole job each time.
        indexes = [models.Index(fields=["job", "case"], name="ledger_row_job_case")]


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=100, blank=True)
    reason = models.TextField(_("原因"))

    class Meta:
        ordering = ["row", "pk"]
        indexes = [models.Index(fields=["job", "row"])]
