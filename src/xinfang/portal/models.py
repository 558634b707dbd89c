"""What the citizen portal keeps beside the case: how a case was submitted online, and the rate
counters that keep the public forms usable.

The case itself (petitioners, content, attachments, timeline) lives in `xinfang.cases`, written by
`workflow.submit_online`; nothing here duplicates it.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    """One online petition (网上信访): the one-time form token that made it, the hash of its query
    code (查询码; the code itself is shown once and never stored), and the citizen account that
    submitted it, if any."""

    case = models.OneToOneField("cases.Case", models.CASCADE, related_name="portal_submission", verbose_name=_("信访事项"))
    token = models.CharField(_("表单令牌"), max_length=64, unique=True)
    code_hash = models.CharField(_("查询码摘要"), max_length=200)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                related_name="portal_submissions", verbose_name=_("提交账号"))
    email = models.EmailField(_("电子邮箱"), blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("网上信访提交")
        verbose_name_plural = _("网上信访提交")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return str(self.case_id)


class RateCounter(models.Model):
    """Attempts counted for one key (e.g. a client address) in one fixed time window, in the
    database so that every worker process and server shares the count."""

    key = models.CharField(_("计数对象"), max_length=120)
    window_start = models.DateTimeField(_("时段开始"))
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("网上信访频次计数")
        verbose_name_plural = _("网上信访频次计数")
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="portal_rate_unique")]
        indexes = [models.Index(fields=["window_start"])]
