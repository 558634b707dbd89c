"""Official documents (文书) issued on a case, numbered per organ, kind and year.

A Document row is the legal record: its number, its kind, who issued it and the text it carries
(`fields`). The DOCX and PDF files are rendered from that record on first download and kept.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("受理告知书")
    NOT_ACCEPTED = "not_accepted", _("不予受理告知书")
    NOT_AGAIN = "not_again", _("不再受理告知书")
    INFORM = "inform", _("告知书")
    FORWARD = "forward", _("转送单")
    ASSIGN = "assign", _("交办单")
    EXTENSION = "extension", _("延期告知书")
    OPINION = "opinion", _("信访处理意见书")
    REPLY = "reply", _("答复意见书")
    REVIEW = "review", _("复查意见书")
    RE_REVIEW = "re_review", _("复核意见书")
    # Supervision letters and the 三项建议 (Art.14, 39, 40), addressed to an organ (supervision app).
    SUPERVISE = "supervise", _("督办函")
    WORK_REMINDER = "work_reminder", _("工作提醒函")
    RISK_REMINDER = "risk_reminder", _("风险提醒函")
    IMPROVE_PROPOSAL = "improve_advice", _("改进工作建议书")
    POLICY_PROPOSAL = "policy_advice", _("完善政策建议书")
    ACCOUNTABILITY_PROPOSAL = "account_advice", _("追究责任建议书")
    # The outcome of a mediation (Art.33; mediation app), issued by the mediation organisation.
    MEDIATION_AGREEMENT = "mediation", _("人民调解协议书")
    SETTLEMENT_AGREEMENT = "settlement", _("和解协议书")


# The character that marks each kind in its number, e.g. 江信受〔2026〕12号.
NUMBER_MARKS = {
    DocKind.ACCEPTANCE: "受", DocKind.NOT_ACCEPTED: "不受", DocKind.NOT_AGAIN: "不再", DocKind.INFORM: "告",
    DocKind.FORWARD: "转", DocKind.ASSIGN: "交", DocKind.EXTENSION: "延", DocKind.OPINION: "处",
    DocKind.REPLY: "复函", DocKind.REVIEW: "复查", DocKind.RE_REVIEW: "复核",
    DocKind.SUPERVISE: "督", DocKind.WORK_REMINDER: "提醒", DocKind.RISK_REMINDER: "风险",
    DocKind.IMPROVE_PROPOSAL: "改建", DocKind.POLICY_PROPOSAL: "政建", DocKind.ACCOUNTABILITY_PROPOSAL: "责建",
    DocKind.MEDIATION_AGREEMENT: "调协", DocKind.SETTLEMENT_AGREEMENT: "和协",
}


class DocumentCounter(models.Model):
    organ = models.ForeignKey("orgs.Organ", models.CASCADE)
    kind = models.CharField(max_length=20, choices=DocKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organ", "kind", "year"], name="doc_counter_unique")]


def document_path(instance: "Document", filename: str) -> str:
    return f"documents/{instance.year}/{instance.organ_id}/{filename}"


class Document(models.Model):
    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="documents", verbose_name=_("信访事项"))
    event = models.ForeignKey("cases.Event", models.SET_NULL, null=True, blank=True, related_name="documents")
    kind = models.CharField(_("文书类型"), max_length=20, choices=DocKind.choices)
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("出具机关"))
    year = models.PositiveSmallIntegerField(_("年度"))
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("文号"), max_length=60)
    title = models.CharField(_("标题"), max_length=100)
    addressee = models.CharField(_("主送"), max_length=200, blank=True)
    fields = models.JSONField(_("内容"), default=dict)
    issued_at = models.DateTimeField(_("出具时间"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    for_petitioner = models.BooleanField(_("送达信访人"), default=True)
    docx = models.FileField(upload_to=document_path, blank=True, max_length=300)
    pdf = models.FileField(upload_to=document_path, blank=True, max_length=300)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["issued_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["organ", "kind", "year", "seq"], name="document_number_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
