"""Tables of the analysis desk: daily aggregates for dashboards, stored periodic reports, early
warning alerts and in-app deadline notices."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.analytics.metrics import COUNTER_NAMES


class Grain(models.TextChoices):
    DAY = "d", _("日")
    MONTH = "m", _("月")


class _Counters(models.Model):
    class Meta:
        abstract = True


# One integer column per counter of metrics.COUNTERS (the aggregate is the same definition).
for _name in COUNTER_NAMES:
    _Counters.add_to_class(_name, models.PositiveIntegerField(default=0))


class DailyStat(_Counters):
    """Counters of the cases received on `day` (grain d) or in the month starting on `day` (grain
    m), per responsible organ, accused organ (检举控告 only, else 0) and one breakdown: dim "all"
    (key ""), "channel", "category", "topic" or "region" (key = value or id, "" when empty).
    Rebuilt by `aggregates.refresh_days`; never edited by hand."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    day = models.DateField()
    organ_id = models.IntegerField()
    accused_id = models.IntegerField(default=0)
    dim = models.CharField(max_length=10)
    key = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("统计汇总")
        verbose_name_plural = _("统计汇总")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "organ_id", "accused_id", "dim", "key"],
                                               name="analytics_stat_unique")]
        indexes = [models.Index(fields=["grain", "dim", "day"])]


class DirtyDay(models.Model):
    """A mark that a received day's aggregates must be rebuilt (a case of that day changed).

    Append-only, one row per mark, with no unique key: a unique day made concurrent writers
    wait on each other's uncommitted mark (and deadlock with the locks they held), and a refresh
    could delete a mark whose case it had not seen. A refresh deletes exactly the rows it read."""

    day = models.DateField(db_index=True)
    marked_at = models.DateTimeField(default=timezone.now)


class JobState(models.Model):
    """Small key/value memory of the jobs (e.g. the last day whose overdue limits were counted)."""

    key = models.CharField(max_length=40, primary_key=True)
    value = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("周报")
    MONTHLY = "monthly", _("月研判")
    QUARTERLY = "quarterly", _("季通报")
    ANNUAL = "annual", _("年度报告")


def report_path(instance: "Report", filename: str) -> str:
    return f"reports/{instance.kind}/{filename}"


class Report(models.Model):
    """A generated periodic report (DOCX and XLSX) for one organ subtree and period. The schedule
    makes one per (kind, organ, period) — the unique key makes re-running a job harmless."""

    kind = models.CharField(_("类型"), max_length=10, choices=ReportKind.choices)
    organ = models.ForeignKey("orgs.Organ", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("机关"))
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    title = models.CharField(_("标题"), max_length=200)
    docx = models.FileField(_("Word文档"), upload_to=report_path, max_length=300, blank=True)
    xlsx = models.FileField(_("Excel表格"), upload_to=report_path, max_length=300, blank=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("生成人"))

    class Meta:
        verbose_name = _("分析报告")
        verbose_name_plural = _("分析报告")
        ordering = ["-period_end", "-pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "organ", "period_start", "period_end"],
                                               name="analytics_report_unique")]

    def __str__(self) -> str:
        return self.title


class AlertKind(models.TextChoices):
    SURGE = "surge", _("问题/地区激增")
    GROUP = "group", _("疑似集体访")
    REPEAT = "repeat", _("重复信访人")
    OVERDUE_RISK = "overdue_risk", _("临期超期风险")


class Alert(models.Model):
    """An early warning. `key` identifies what it is about (e.g. "surge:topic:12:2026-06-01"), so
    the detection job never raises the same alert twice. Staff acknowledge it (audited)."""

    kind = models.CharField(_("类型"), max_length=14, choices=AlertKind.choices)
    key = models.CharField(max_length=120, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    detail = models.TextField(_("说明"), blank=True)
    organ = models.ForeignKey("orgs.Organ", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("机关"))
    level = models.PositiveSmallIntegerField(_("等级"), default=1, help_text=_("1 提示,2 关注,3 严重"))
    score = models.FloatField(_("热度"), default=0)
    cases = models.ManyToManyField("cases.Case", related_name="+", verbose_name=_("相关信访事项"))
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("预警时间"), default=timezone.now)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                        verbose_name=_("确认人"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    ack_note = models.CharField(_("处置说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["acknowledged_at", "-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Notice(models.Model):
    """An in-app notice to an organ: a deadline about to run out (临期) or run out (超期). One per
    (deadline, grade), so the reminder job may run any number of times."""

    organ = models.ForeignKey("orgs.Organ", models.CASCADE, related_name="+", verbose_name=_("机关"))
    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="+", verbose_name=_("信访事项"))
    deadline = models.ForeignKey("deadlines.Deadline", models.CASCADE, related_name="+")
    grade = models.CharField(_("提醒类型"), max_length=10)
    text = models.CharField(_("内容"), max_length=300)
    due_on = models.DateField(_("到期日"))
    created_at = models.DateTimeField(_("提醒时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("期限提醒")
        verbose_name_plural = _("期限提醒")
        ordering = ["read_at", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["deadline", "grade"], name="analytics_notice_unique")]
