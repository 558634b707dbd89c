"""Supervision (督办) and leadership records (REGULATION §5; 条例第14、38–41条).

Every record here is about a case but never changes the case's state: the state changes stay in
`xinfang.cases.workflow`. The services in `services.py` write these rows, an `Event` on the case's
timeline and an audit entry, in one transaction.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.models import Outcome
from xinfang.documents.models import DocKind
from xinfang.orgs.models import Level


class LetterKind(models.TextChoices):
    """What the bureau sends an organ (Art.14, Art.39, Art.40). The value is the DocKind issued."""

    SUPERVISE = DocKind.SUPERVISE.value, _("督办函")
    REMIND = DocKind.WORK_REMINDER.value, _("工作提醒函")
    RISK = DocKind.RISK_REMINDER.value, _("风险提醒函")
    IMPROVE = DocKind.IMPROVE_PROPOSAL.value, _("改进工作建议书")
    POLICY = DocKind.POLICY_PROPOSAL.value, _("完善政策建议书")
    ACCOUNTABILITY = DocKind.ACCOUNTABILITY_PROPOSAL.value, _("追究责任建议书")


# The 三项建议 (Art.40): the receiver answers whether it adopted the proposal.
PROPOSAL_KINDS = {LetterKind.IMPROVE, LetterKind.POLICY, LetterKind.ACCOUNTABILITY}
ADOPTION_CHOICES = [(Outcome.ADOPTED.value, _("采纳")), (Outcome.PARTLY.value, _("部分采纳")),
                    (Outcome.NOT_ADOPTED.value, _("未采纳"))]


class LetterStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复待审核")
    CLOSED = "closed", _("已办结")


class SupervisionLetter(models.Model):
    """A numbered letter from the bureau to an organ about a case, tracked until the supervisor
    closes it after the organ's written answer."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="supervision_letters", verbose_name=_("信访事项"))
    kind = models.CharField(_("类型"), max_length=24, choices=LetterKind.choices)
    document = models.OneToOneField("documents.Document", models.PROTECT, related_name="supervision_letter", verbose_name=_("文书"))
    issuer = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("发函机关"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="supervision_letters", verbose_name=_("主送机关"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("发函人"))
    issued_at = models.DateTimeField(_("发函时间"), default=timezone.now)
    reason = models.TextField(_("督办事由"))
    requirement = models.TextField(_("工作要求"), blank=True)
    answer_due = models.DateField(_("答复期限"))
    status = models.CharField(_("状态"), max_length=10, choices=LetterStatus.choices, default=LetterStatus.OPEN, db_index=True)
    adoption = models.CharField(_("采纳情况"), max_length=12, choices=ADOPTION_CHOICES, blank=True)
    answer = models.TextField(_("书面答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("答复人"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("办结人"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    close_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("督办函件")
        verbose_name_plural = _("督办函件")
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["organ", "status", "answer_due"])]

    def __str__(self) -> str:
        return f"{self.document.number} {self.get_kind_display()}"

    @property
    def is_proposal(self) -> bool:
        return self.kind in PROPOSAL_KINDS

    @property
    def is_overdue(self) -> bool:
        """No written answer and the answer date has passed."""
        return self.status == LetterStatus.OPEN and timezone.localdate() > self.answer_due


class ReminderGrade(models.TextChoices):
    NEAR = "near", _("临期")
    OVERDUE = "overdue", _("超期")


class ReminderTo(models.TextChoices):
    ORGAN = "organ", _("主送机关")
    ISSUER = "issuer", _("发函督查员")


class LetterReminder(models.Model):
    """An in-app reminder that a letter's written answer is near its date (临期) or past it (超期)
    (条例第39条: the organ answers the 督办 in writing within the time set).

    The receiving organ gets both grades (at the top of its inbox); the issuing supervisor gets the
    超期 one (on the supervision desk, seen by the supervisors of the issuing organ). One row per
    (letter, grade, recipient): the unique key claims it, so the hourly job (`reminders.py`) may
    run any number of times, or twice at once, and still sends each reminder once."""

    letter = models.ForeignKey(SupervisionLetter, models.CASCADE, related_name="reminders", verbose_name=_("函件"))
    grade = models.CharField(_("提醒类型"), max_length=10, choices=ReminderGrade.choices)
    recipient = models.CharField(_("提醒对象"), max_length=10, choices=ReminderTo.choices)
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("接收机关"),
                              help_text=_("主送机关,或发函机关(发给发函督查员的提醒)"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("接收人"))
    due_on = models.DateField(_("答复期限"))
    created_at = models.DateTimeField(_("提醒时间"), default=timezone.now)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("已读人"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("函件答复提醒")
        verbose_name_plural = _("函件答复提醒")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["letter", "grade", "recipient"], name="one_letter_reminder")]
        indexes = [models.Index(fields=["organ", "recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.grade} {self.recipient}"

    @property
    def text(self) -> str:
        """The reminder in words (rendered when shown, so it follows the reader's language)."""
        letter = self.letter
        values = {"kind": letter.get_kind_display(), "number": letter.document.number, "organ": letter.organ.name,
                  "due": self.due_on.isoformat()}
        if self.recipient == ReminderTo.ISSUER:
            return _("%(organ)s未在%(due)s前书面答复%(kind)s%(number)s,已超期。") % values
        if self.grade == ReminderGrade.OVERDUE:
            return _("%(kind)s%(number)s的答复期限%(due)s已过,尚未书面答复,请尽快答复。") % values
        return _("%(kind)s%(number)s须于%(due)s前书面答复,即将到期,请按期答复。") % values


class CaseListing(models.Model):
    """挂牌督办 (Art.39): a case put on the bureau's list, with the reason, until cleared."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="listings", verbose_name=_("信访事项"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("挂牌机关"))
    reason = models.TextField(_("挂牌理由"))
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("挂牌人"))
    listed_at = models.DateTimeField(_("挂牌时间"), default=timezone.now)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("摘牌人"))
    cleared_at = models.DateTimeField(_("摘牌时间"), null=True, blank=True)
    clear_reason = models.TextField(_("摘牌理由"), blank=True)

    class Meta:
        verbose_name = _("挂牌督办")
        verbose_name_plural = _("挂牌督办")
        ordering = ["-listed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=Q(cleared_at__isnull=True),
                                               name="one_active_listing_per_case")]
        indexes = [models.Index(fields=["case", "cleared_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.reason[:20]}"


class LeaderAssignment(models.Model):
    """领导包案: a leader takes personal charge of a case from a date (REGULATION §5)."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="leader_assignments", verbose_name=_("信访事项"))
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="led_cases", verbose_name=_("包案领导"))
    assigned_on = models.DateField(_("包案日期"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("安排人"))
    assigned_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("包案中"), default=True)

    class Meta:
        verbose_name = _("领导包案")
        verbose_name_plural = _("领导包案")
        ordering = ["-assigned_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["case", "leader"], condition=Q(is_active=True),
                                               name="one_active_assignment_per_leader_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.leader}"


class Instruction(models.Model):
    """A leader's 批示 on a case, shown on the case and in the inbox of the organ holding it."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="instructions", verbose_name=_("信访事项"))
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("批示领导"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="instructions", verbose_name=_("承办机关"),
                              help_text=_("批示时信访事项所在的机关"))
    text = models.TextField(_("批示内容"))
    at = models.DateTimeField(_("批示时间"), default=timezone.now)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("签收人"))
    read_at = models.DateTimeField(_("签收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["organ", "read_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.text[:20]}"


class Escalation(models.Model):
    """提级调度: the joint conference (联席会议) raises a case to a higher level (REGULATION §5, Art.24).

    Records who decided and when, the level and organ the case is raised to, the reason, and later
    the result. The case's own state is not changed here."""

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="escalations", verbose_name=_("信访事项"))
    conference = models.CharField(_("联席会议"), max_length=200, help_text=_("会议名称或纪要编号"))
    decided_on = models.DateField(_("决定日期"))
    from_organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("原承办机关"))
    to_level = models.CharField(_("提级至层级"), max_length=16, choices=Level.choices)
    to_organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("提级至机关"))
    reason = models.TextField(_("提级理由"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    result = models.TextField(_("调度结果"), blank=True)
    result_at = models.DateTimeField(_("结果记录时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提级调度")
        verbose_name_plural = _("提级调度")
        ordering = ["-decided_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.to_organ}"


# --------------------------------------------------------------------------- 网上抽查


class ChecklistItem(models.Model):
    """One point of the spot-check checklist (admin-editable), with its weight in the score."""

    text = models.CharField(_("检查项"), max_length=200)
    weight = models.PositiveSmallIntegerField(_("权重"), default=10)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("抽查检查项")
        verbose_name_plural = _("抽查检查项")
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.text


class SpotCheck(models.Model):
    """One draw of 网上抽查: a random sample of closed cases per organ over a period.

    The sample is reproducible: the same seed over the same population gives the same cases
    (`services.draw_sample`). The checklist in force is copied into `checklist`, so editing the
    checklist later does not change how this check is scored."""

    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("抽查机关"))
    period_start = models.DateField(_("办结起始日"))
    period_end = models.DateField(_("办结截止日"))
    per_organ = models.PositiveSmallIntegerField(_("每单位抽取件数"))
    seed = models.CharField(_("随机种子"), max_length=64)
    pass_score = models.PositiveSmallIntegerField(_("合格分数线"))
    checklist = models.JSONField(_("检查项"), default=list)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("抽查人"))
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("网上抽查")
        verbose_name_plural = _("网上抽查")
        ordering = ["-drawn_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end} #{self.pk}"


class SpotCheckItem(models.Model):
    """One sampled case and its score against the check's checklist."""

    check_run = models.ForeignKey(SpotCheck, models.CASCADE, related_name="items", verbose_name=_("抽查"))
    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="+", verbose_name=_("信访事项"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, related_name="+", verbose_name=_("被抽查单位"))
    met = models.JSONField(_("符合的检查项"), default=list, help_text=_("符合的检查项编号"))
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(_("合格"), null=True)
    note = models.TextField(_("评查意见"), blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("抽查事项")
        verbose_name_plural = _("抽查事项")
        ordering = ["organ__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["check_run", "case"], name="spot_check_case_once")]


# --------------------------------------------------------------------------- 红黑榜


class RankingMetric(models.Model):
    """A core metric counted in the monthly 红黑榜 and its weight (admin-editable).

    `code` names a metric returned by `xinfang.analytics.metrics.compute_metrics`. A metric where
    lower is better (e.g. 重复信访率) counts as 1 − rate."""

    code = models.CharField(_("指标代码"), max_length=40, unique=True)
    name = models.CharField(_("指标名称"), max_length=60)
    weight = models.PositiveSmallIntegerField(_("权重"), default=10)
    higher_is_better = models.BooleanField(_("越高越好"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("红黑榜指标")
        verbose_name_plural = _("红黑榜指标")
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.name
