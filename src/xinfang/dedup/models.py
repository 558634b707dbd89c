"""Duplicate detection (判重): the index kept in the database and the judgements on it.

The index lives in the database so every process and server sees the same one (DESIGN.md):
- `Signature`: one row per indexed case (its MinHash band hashes), so "which cases are indexed"
  is a primary-key question and a case's band rows can be found again without an extra index;
- `Band`: MinHash LSH band hashes, keyed (band, hash, case_id) — the composite primary key is the
  lookup index, so one probe per band finds the cases sharing that bucket;
- `PersonKey`: keyed digests (HMAC-SHA256) of a petitioner's normalised ID number, phone, and
  name + address, so repeats by the same person are found without reading (later encrypted)
  Petitioner columns.
`Band` and `PersonKey` hold a bare case id (not a foreign key): they are bulk index rows, written
and purged by this app alone (`xinfang dedup reindex` drops rows of cases that no longer exist).

`Link` is the system's judgement that a case repeats (or is related to) an earlier one, with the
clerk's decision on it; `Decision` records every decision (also appended to the audit chain).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.models import Case


class Signature(models.Model):
    case = models.OneToOneField(Case, models.CASCADE, primary_key=True, related_name="dedup_signature")
    bands = models.BinaryField(help_text="the band hashes, int64 little-endian, one per band")
    indexed_at = models.DateTimeField(default=timezone.now)


class Band(models.Model):
    pk = models.CompositePrimaryKey("band", "hash", "case_id")
    band = models.SmallIntegerField()
    hash = models.BigIntegerField()
    case_id = models.BigIntegerField()


class PersonKey(models.Model):
    pk = models.CompositePrimaryKey("key", "case_id")
    key = models.BigIntegerField()
    case_id = models.BigIntegerField()


class Kind(models.TextChoices):
    REPEAT = "repeat", _("重复信访")
    MULTI = "multi", _("一信多投")
    JOINT = "joint", _("联名/群体")


class Status(models.TextChoices):
    SUSPECTED = "suspected", _("疑似")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class Link(models.Model):
    """`case` repeats or is related to the earlier case `earlier` (judged by the system, decided by
    staff). `root` is the first case of a repeat chain, so the repeat count is one query."""

    # `case` and `root` are found by the indexes that start with them (dedup_link_unique, the
    # (root, kind) index), so they have none of their own.
    case = models.ForeignKey(Case, models.CASCADE, related_name="dedup_links", verbose_name=_("信访事项"), db_index=False)
    earlier = models.ForeignKey(Case, models.CASCADE, related_name="dedup_later_links", verbose_name=_("原信访事项"))
    root = models.ForeignKey(Case, models.CASCADE, related_name="+", verbose_name=_("首次信访事项"), db_index=False)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    score = models.FloatField(_("相似度"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SUSPECTED)
    same_person = models.BooleanField(_("同一信访人"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("重复关联")
        verbose_name_plural = _("重复关联")
        constraints = [models.UniqueConstraint(fields=["case", "earlier"], name="dedup_link_unique")]
        indexes = [models.Index(fields=["root", "kind"])]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.earlier_id} {self.kind} {self.score:.2f}"


class Decision(models.Model):
    """One decision of a clerk on a link: confirm, dismiss, or undo (back to suspected)."""

    link = models.ForeignKey(Link, models.CASCADE, related_name="decisions")
    case = models.ForeignKey(Case, models.CASCADE, related_name="+")  # the link's case, for bulk deletes
    action = models.CharField(max_length=10)
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
