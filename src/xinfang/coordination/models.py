"""Coordination at the bureau: regions owned by staff (分片包干), conduct records at reception
(Art.26, Art.47) and the legal advice of lawyers and mediators stationed there.

None of these records changes a case; none is ever shown on the citizen portal.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RegionAssignment(models.Model):
    """分片包干: a member of the bureau's staff owns a region (and every region under it) from
    `since` until `until` (open-ended while empty)."""

    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("信访部门"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="region_assignments", verbose_name=_("包片人员"))
    region = models.ForeignKey("orgs.Region", models.PROTECT, related_name="+", verbose_name=_("包片区域"))
    since = models.DateField(_("起始日期"), default=timezone.localdate)
    until = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("安排人"))
    assigned_at = models.DateTimeField(_("安排时间"), default=timezone.now)

    class Meta:
        verbose_name = _("分片包干")
        verbose_name_plural = _("分片包干")
        ordering = ["region__code", "since", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "region"], condition=Q(until__isnull=True),
                                               name="one_open_region_assignment")]

    def __str__(self) -> str:
        return f"{self.user} · {self.region}"

    def is_active_on(self, day) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)


class ConductKind(models.TextChoices):
    """The acts Art.26 prohibits."""

    GATHERING = "gathering", _("非法聚集,围堵、冲击机关,拦截公务车辆或堵塞交通")
    DANGEROUS = "dangerous", _("携带危险物品、管制器具")
    VIOLENCE = "violence", _("侮辱、殴打、威胁工作人员,限制他人人身自由或毁坏财物")
    STAYING = "staying", _("在信访接待场所滞留、滋事或弃留生活不能自理的人")
    INCITING = "inciting", _("煽动、串联、胁迫、诱使他人信访或以信访为名敛财")
    OTHER = "other", _("其他扰乱公共秩序、妨害国家和公共安全的行为")


class ConductRecord(models.Model):
    """A fact recorded at reception (Art.26): what happened, where and when, the dissuasion and
    education given, and whether the police were called (Art.47). It records facts only: it is
    never a penalty and carries no sanction."""

    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("记录机关"))
    case = models.ForeignKey("cases.Case", models.PROTECT, null=True, blank=True, related_name="conduct_records",
                             verbose_name=_("关联信访事项"))
    kind = models.CharField(_("行为类型(条例第26条)"), max_length=12, choices=ConductKind.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    place = models.CharField(_("地点"), max_length=200)
    persons = models.CharField(_("涉及人员"), max_length=200, blank=True, help_text=_("姓名或体貌特征,只记事实"))
    facts = models.TextField(_("经过(只记事实)"))
    dissuasion = models.TextField(_("劝阻、批评或教育情况"))
    police_referred = models.BooleanField(_("已移交公安机关"), default=False)
    police_station = models.CharField(_("公安机关(派出所)"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接待现场行为记录")
        verbose_name_plural = _("接待现场行为记录")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class AdviserKind(models.TextChoices):
    LAWYER = "lawyer", _("律师")
    MEDIATOR = "mediator", _("调解员")


class LegalAdvice(models.Model):
    """Advice given on a case by a lawyer or mediator stationed at reception (律师、调解员驻点)."""

    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("接待机关"))
    case = models.ForeignKey("cases.Case", models.PROTECT, related_name="legal_advice", verbose_name=_("信访事项"))
    adviser_kind = models.CharField(_("身份"), max_length=10, choices=AdviserKind.choices)
    adviser_name = models.CharField(_("姓名"), max_length=50)
    affiliation = models.CharField(_("所在律所或调解组织"), max_length=100, blank=True)
    given_at = models.DateTimeField(_("咨询时间"))
    advice = models.TextField(_("法律意见"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("驻点法律意见")
        verbose_name_plural = _("驻点法律意见")
        ordering = ["-given_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.adviser_name} {self.given_at:%Y-%m-%d}"
