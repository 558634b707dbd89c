"""Login throttling records and the optional second login step (TOTP).

Failures are rows, not counters in memory, so every worker process (and every server) sees the
same count; a lock is a row with an end time that an administrator can lift.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    USER = "user", _("用户名")
    IP = "ip", _("来源地址")


class LoginFailure(models.Model):
    """One failed login attempt, recorded twice: once under the username tried, once under the
    client address (the username need not exist, so nothing reveals whether it does)."""

    scope = models.CharField(_("范围"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("用户名或地址"), max_length=150)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        indexes = [models.Index(fields=["scope", "key", "at"])]


class Lockout(models.Model):
    """A username or address refused at login until `until` (or until an administrator unlocks it)."""

    scope = models.CharField(_("范围"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("用户名或地址"), max_length=150)
    created_at = models.DateTimeField(_("锁定时间"), default=timezone.now)
    until = models.DateTimeField(_("锁定至"))
    failures = models.PositiveIntegerField(_("失败次数"), default=0)
    unlocked_at = models.DateTimeField(_("解锁时间"), null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("解锁人"))

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scope", "key", "until"])]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key}"

    @property
    def active(self) -> bool:
        return self.unlocked_at is None and self.until > timezone.now()


class TOTPDevice(models.Model):
    """A user's authenticator app (RFC 6238, 30-second codes). Active once `confirmed_at` is set
    by entering one correct code; `last_step` refuses a code used twice."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="totp_device", verbose_name=_("用户"))
    secret = models.CharField(_("密钥"), max_length=64)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    last_step = models.BigIntegerField(_("最近使用的时间步"), default=0)

    class Meta:
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A single-use code for when the authenticator is lost; only its hash is stored."""

    device = models.ForeignKey(TOTPDevice, models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")
