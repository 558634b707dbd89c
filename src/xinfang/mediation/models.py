"""People's mediation of petition disputes (人民调解, Art.33; the People's Mediation Law).

A dispute raised by a petition can be sent to a mediation organisation from intake or from
handling. The mediation records its sessions and ends in a 调解协议书 (an agreement reached through
the mediator), a 和解协议书 (the parties settled between themselves), or failure, after which the
case goes on being handled. A mediation agreement may then be confirmed by a court (司法确认).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mediator(models.Model):
    """An entry of the mediators' directory: a person serving at a mediation organisation (an organ
    of kind 调解组织). `user` links the account a mediator logs sessions with, when they have one."""

    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="mediators", verbose_name=_("调解组织"),
                              limit_choices_to={"kind": "mediation"})
    name = models.CharField(_("姓名"), max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("系统账号"))
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    specialties = models.CharField(_("擅长领域"), max_length=200, blank=True, help_text=_("如 劳动争议、物业纠纷、婚姻家庭"))
    languages = models.CharField(_("工作语言"), max_length=100, blank=True, help_text=_("如 普通话、粤语、英语"))
    serves_foreign = models.BooleanField(_("可调解涉外纠纷"), default=False)
    serves_hk_macao = models.BooleanField(_("可调解涉港澳台纠纷"), default=False)
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员名册")
        ordering = ["organ__name", "name"]

    def __str__(self) -> str:
        return f"{self.name}({self.organ.name})"


class Status(models.TextChoices):
    OPEN = "open", _("调解中")
    AGREED = "agreed", _("达成调解协议")
    SETTLED = "settled", _("达成和解协议")
    FAILED = "failed", _("调解不成")


AGREEMENTS = (Status.AGREED, Status.SETTLED)


class Mediation(models.Model):
    """One referral of a case's dispute to a mediation organisation, and how it ended."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="mediations", verbose_name=_("信访事项"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("调解组织"))
    mediator = models.ForeignKey(Mediator, models.PROTECT, null=True, blank=True, related_name="mediations",
                                 verbose_name=_("调解员"))
    referring_organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("委托机关"))
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("委托人"))
    referred_at = models.DateTimeField(_("委托时间"), default=timezone.now)
    stage = models.CharField(_("委托环节"), max_length=12, help_text=_("登记时或办理中"))
    note = models.TextField(_("委托说明"), blank=True)
    status = models.CharField(_("调解结果"), max_length=10, choices=Status.choices, default=Status.OPEN)
    terms = models.TextField(_("协议内容"), blank=True)
    failure_reason = models.TextField(_("调解不成的原因"), blank=True)
    concluded_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("结束登记人"))
    document = models.ForeignKey("documents.Document", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("协议书"))
    # 司法确认 (People's Mediation Law Art.33): a court confirms a mediation agreement.
    confirmed_on = models.DateField(_("司法确认日期"), null=True, blank=True)
    confirming_court = models.CharField(_("确认法院"), max_length=100, blank=True)
    confirmation_number = models.CharField(_("确认裁定书文号"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("调解")
        verbose_name_plural = _("调解")
        ordering = ["-referred_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(status="open"),
                                               name="one_open_mediation_per_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


class Session(models.Model):
    """One mediation session: when, where, who took part, what happened."""

    mediation = models.ForeignKey(Mediation, models.CASCADE, related_name="sessions", verbose_name=_("调解"))
    held_at = models.DateTimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=200)
    participants = models.CharField(_("参加人员"), max_length=500)
    notes = models.TextField(_("调解情况"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["held_at", "pk"]
