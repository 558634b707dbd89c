"""API tokens for organ systems and the Idempotency-Key records of API creates.

A token is shown once, when it is created; only its SHA-256 digest is stored, so a leaked
database does not leak working tokens (tokens are 256-bit random strings, so a fast digest is
enough: there is nothing to brute-force). Each token acts as one user and sees exactly what that
user sees (`xinfang.cases.access`).
"""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "xf_"


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A bearer token bound to a user (an organ system acts as that member of staff)."""

    name = models.CharField(_("名称"), max_length=100, help_text=_("使用该令牌的系统,如“12345热线”"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens", verbose_name=_("代表用户"),
                             help_text=_("令牌以该用户的身份和权限访问接口"))
    prefix = models.CharField(_("令牌前缀"), max_length=12, editable=False, help_text=_("用于识别令牌,不能用于访问"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                   editable=False, verbose_name=_("创建人"))
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True, help_text=_("留空表示不过期"))
    last_used_at = models.DateTimeField(_("最后使用时间"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str, *, expires_at=None, created_by=None) -> tuple["ApiToken", str]:
        """Create a token for `user`; returns (token, raw secret). The secret is not kept."""
        raw = new_secret()
        token = cls.objects.create(name=name, user=user, prefix=raw[:10], key_hash=digest(raw), expires_at=expires_at,
                                   created_by=created_by if getattr(created_by, "pk", None) else None)
        return token, raw

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired and self.user.is_active

    @property
    def status_label(self) -> str:
        if self.revoked_at:
            return str(_("已吊销"))
        if self.is_expired:
            return str(_("已过期"))
        return str(_("有效"))

    def revoke(self) -> bool:
        """Revoke now; False when it was already revoked (revoking is idempotent)."""
        return bool(ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


class IdempotencyRecord(models.Model):
    """The response to a create made with an Idempotency-Key, replayed when the same token sends
    the same key and the same request again."""

    token = models.ForeignKey(ApiToken, models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_unique")]
