"""The petition case (信访事项), its petitioners, its timeline and its attachments.

State changes happen only through `xinfang.cases.workflow`; the fields here describe a case, the
workflow decides how they may change.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.orgs.models import Organ, Region
from .crypto import EncryptedCharField


class Channel(models.TextChoices):
    """Art.17: the five ways a petition arrives."""

    ONLINE = "online", _("网上")
    LETTER = "letter", _("来信")
    CALL = "call", _("来电")
    FAX = "fax", _("传真")
    VISIT = "visit", _("走访")


class Category(models.TextChoices):
    SUGGESTION = "suggestion", _("建议意见类")  # Art.29
    REPORT = "report", _("检举控告类")  # Art.30
    CLAIM = "claim", _("申诉求决类")  # Art.31


class State(models.TextChoices):
    REGISTERED = "registered", _("待转送")
    PENDING = "pending", _("待受理")
    RETURNED = "returned", _("异议退回待确认")
    HANDLING = "handling", _("办理中")
    REPLIED = "replied", _("已答复")
    REVIEW = "review", _("复查中")
    REVIEWED = "reviewed", _("已复查")
    RE_REVIEW = "re_review", _("复核中")
    CLOSED = "closed", _("已办结")


OPEN_STATES = [State.REGISTERED, State.PENDING, State.RETURNED, State.HANDLING, State.REVIEW, State.RE_REVIEW]


class Closure(models.TextChoices):
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    NOT_AGAIN = "not_again", _("不再受理")
    INFORMED = "informed", _("告知其他法定途径")
    REPLIED = "replied", _("答复后办结")
    REVIEWED = "reviewed", _("复查后办结")
    RE_REVIEWED = "re_reviewed", _("复核终结")


class RouteKind(models.TextChoices):
    """How the bureau sends a case on (Art.22)."""

    FORWARD = "forward", _("转送")
    ASSIGN = "assign", _("交办")
    LEGAL = "legal", _("诉访分离(转政法机关)")
    DISCIPLINE = "discipline", _("转纪检监察")


class HandlingRoute(models.TextChoices):
    """Art.29–31: the path a case takes at the organ; for 申诉求决 one of the six routes."""

    SUGGESTION = "suggestion", _("建议意见研究办理(第29条)")
    REPORT = "report", _("检举控告依规办理(第30条)")
    LITIGATION = "r1", _("①诉讼、检察、公安法定程序")
    ARBITRATION = "r2", _("②导入仲裁程序")
    PARTY = "r3", _("③党员申诉、复审程序")
    ADMINISTRATIVE = "r4", _("④行政复议、裁决、确认、许可、处罚等行政程序")
    DUTY = "r5", _("⑤履行法定职责或答复")
    OPINION = "r6", _("⑥调查核实并出具信访处理意见书")


CLAIM_ROUTES = [HandlingRoute.LITIGATION, HandlingRoute.ARBITRATION, HandlingRoute.PARTY,
                HandlingRoute.ADMINISTRATIVE, HandlingRoute.DUTY, HandlingRoute.OPINION]


# The handling routes open to each category (Art.29–31).
ROUTES_BY_CATEGORY = {
    "suggestion": [HandlingRoute.SUGGESTION],
    "report": [HandlingRoute.REPORT],
    "claim": CLAIM_ROUTES,
}


class Outcome(models.TextChoices):
    """Art.32 outcomes of a 信访处理意见书, and Art.29 outcomes of a suggestion."""

    SUPPORT = "support", _("支持")
    EXPLAIN = "explain", _("解释说明")
    REJECT = "reject", _("不予支持")
    ADOPTED = "adopted", _("采纳")
    PARTLY = "partly", _("部分采纳")
    NOT_ADOPTED = "not_adopted", _("未采纳")
    HANDLED = "handled", _("已依规处理")
    UPHOLD = "uphold", _("维持")
    AMEND = "amend", _("变更")
    REVOKE = "revoke", _("撤销")


OUTCOMES_BY_CATEGORY = {
    "claim": [Outcome.SUPPORT, Outcome.EXPLAIN, Outcome.REJECT],
    "suggestion": [Outcome.ADOPTED, Outcome.PARTLY, Outcome.NOT_ADOPTED],
    "report": [Outcome.HANDLED, Outcome.EXPLAIN],
}
REVIEW_OUTCOMES = [Outcome.UPHOLD, Outcome.AMEND, Outcome.REVOKE]


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Topic(models.Model):
    """The deployment's topic tree (问题分类), e.g. 城乡建设 › 物业管理."""

    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级分类"))
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("问题分类")
        verbose_name_plural = _("问题分类")
        ordering = ["sort", "name"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="topic_unique_name_in_parent")]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Case(models.Model):
    """One petition matter from registration to closure."""

    number = models.CharField(_("信访事项编号"), max_length=40, unique=True)
    # Found by the (bureau, year, seq) number constraint, which starts with it (migration 0011).
    bureau = models.ForeignKey(Organ, models.PROTECT, related_name="registered_cases", verbose_name=_("登记机关"),
                               db_index=False)
    year = models.PositiveSmallIntegerField(_("登记年度"))
    seq = models.PositiveIntegerField(_("年度序号"))
    channel = models.CharField(_("信访形式"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("收到时间"))
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("登记人"))
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("信访内容"))
    category = models.CharField(_("信访类别"), max_length=12, choices=Category.choices)
    topic = models.ForeignKey(Topic, models.PROTECT, null=True, blank=True, verbose_name=_("问题分类"))
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, verbose_name=_("问题属地"))
    head_count = models.PositiveIntegerField(_("人数"), default=1)
    skip_level = models.BooleanField(_("越级"), default=False)
    group_visit = models.BooleanField(_("集体访"), default=False)
    major_urgent = models.BooleanField(_("重大紧急"), default=False)
    law_related = models.BooleanField(_("涉法涉诉"), default=False)
    accused_organ = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("被反映单位"),
                                      help_text=_("检举控告类:材料和检举人信息不得转给被检举控告单位(条例第30条)"))
    related_case = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("关联原事项"))
    same_facts = models.BooleanField(_("同一事实和理由"), default=False)

    # Found by cases_case_state_due_idx (state, due_on), which starts with it (migration 0011).
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.REGISTERED)
    closure = models.CharField(_("办结方式"), max_length=12, choices=Closure.choices, blank=True)
    current_organ = models.ForeignKey(Organ, models.PROTECT, related_name="current_cases", verbose_name=_("当前机关"))
    routed_by = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("交转机关"))
    returned_from = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("提出异议机关"))
    handling_organ = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("承办机关"))
    route_kind = models.CharField(_("交转方式"), max_length=12, choices=RouteKind.choices, blank=True)
    handling_route = models.CharField(_("办理途径"), max_length=12, choices=HandlingRoute.choices, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices, blank=True)
    review_outcome = models.CharField(_("复查/复核结果"), max_length=12, choices=Outcome.choices, blank=True)
    assigned_due = models.DateField(_("交办期限"), null=True, blank=True, help_text=_("交办机关指定的办结期限(条例第22条)"))
    report_required = models.BooleanField(_("须报送办结报告"), default=False)
    extended = models.BooleanField(_("已延期"), default=False)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    delivered_on = models.DateField(_("意见送达日期"), null=True, blank=True)
    satisfaction_organ = models.CharField(_("对承办机关满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    satisfaction_bureau = models.CharField(_("对信访部门满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    # The running duty of whoever holds the case (denormalised for fast lists and inbox tabs).
    due_on = models.DateField(_("当前期限"), null=True, blank=True, db_index=True)
    due_warn_on = models.DateField(_("临期提醒日"), null=True, blank=True)
    # Set when the running duty is pending: its end falls in a year whose calendar is not entered.
    due_pending_year = models.PositiveSmallIntegerField(_("期限待定年份"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信访事项")
        verbose_name_plural = _("信访事项")
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["bureau", "year", "seq"], name="case_number_per_bureau_year")]
        # The key columns after the first ones cover what the inbox, the home counts and the case
        # list read (access.cases_visible_to's columns, the filters), so PostgreSQL answers their
        # counts and walks from the index alone (an index-only scan) instead of one heap page per
        # case; docs/architecture.md, "Case lists over a million cases".
        indexes = [
            # The cases at an organ in its inbox's states, most urgent due date first (inbox tabs,
            # home tiles and its urgent list): the closed archive is not in it.
            models.Index(fields=["current_organ", "due_on", "state", "due_warn_on", "category", "accused_organ",
                                 "handling_organ", "id"],
                         condition=models.Q(state__in=[*OPEN_STATES, State.REPLIED]), name="cases_case_inbox_idx"),
            # Every case newest first (the case list, its capped count and its deeper pages).
            models.Index(fields=["-received_at", "-id", "state", "category", "channel", "current_organ",
                                 "handling_organ", "accused_organ", "due_on", "due_warn_on"], name="cases_case_newest_idx"),
            # 超期/临期 over everything a user may see (case list, overseers' home counts): the
            # open states' running due dates, without reading the closed cases.
            models.Index(fields=["state", "due_on"], name="cases_case_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def due_pending_label(self) -> str:
        if self.due_pending_year and self.is_open:
            return _("期限待定(%(year)s年节假日安排未录入)") % {"year": self.due_pending_year}
        return ""

    @property
    def grade(self) -> str | None:
        from xinfang.deadlines.engine import Grade

        if self.due_on is None or not self.is_open:
            return None
        today = timezone.localdate()
        if today > self.due_on:
            return Grade.OVERDUE
        if self.due_warn_on and today >= self.due_warn_on:
            return Grade.NEAR
        return Grade.NORMAL

    @property
    def grade_label(self) -> str:
        from xinfang.deadlines.engine import Grade

        return Grade.LABELS.get(self.grade, "")

    @property
    def received_on(self):
        return timezone.localdate(self.received_at)

    @property
    def state_label(self) -> str:
        if self.state == State.CLOSED and self.closure:
            return f"{self.get_state_display()}({self.get_closure_display()})"
        return self.get_state_display()


class CaseCounter(models.Model):
    """The last sequence number used by a bureau in a year (numbers never repeat or skip)."""

    bureau = models.ForeignKey(Organ, models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bureau", "year"], name="case_counter_unique")]


class Petitioner(models.Model):
    """A person who petitions in a case (信访人); group visits mark up to 5 representatives (Art.20)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="petitioners", verbose_name=_("信访事项"))
    name = models.CharField(_("姓名"), max_length=50)
    # Encrypted at rest (crypto.py, REGULATION §8); exact lookups still use the index. Nothing can
    # match a pattern in a ciphertext, so PostgreSQL keeps no `_like` index of them (migration 0011).
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, blank=True, db_index=True)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    address = EncryptedCharField(_("住址"), max_length=200, blank=True)
    is_representative = models.BooleanField(_("代表"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("信访人")
        verbose_name_plural = _("信访人")
        ordering = ["order", "pk"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class CaseOrgan(models.Model):
    """Every organ a case is at or has been at: the basis of who may see it (access.py)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="organ_links")
    # Found by case_organ_unique (organ, case), which starts with it (migration 0011).
    organ = models.ForeignKey(Organ, models.CASCADE, related_name="case_links", db_index=False)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organ", "case"], name="case_organ_unique")]


class Event(models.Model):
    """One entry of a case's timeline, written by the service function of each transition."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="events", verbose_name=_("信访事项"))
    action = models.CharField(_("环节"), max_length=30)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("经办人"))
    organ = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("机关"))
    target_organ = models.ForeignKey(Organ, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("去向机关"))
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    @property
    def label(self) -> str:
        from .workflow import TRANSITIONS

        t = TRANSITIONS.get(self.action)
        if t:
            return str(t.label)
        return str(FACT_LABELS.get(self.action, self.action))


# Timeline entries that record a fact without changing the case's state.
FACT_LABELS = {"recuse": _("回避"), "mediation_refer": _("委托调解"), "mediation_end": _("调解结束"),
               "judicial_confirm": _("司法确认")}


class Recusal(models.Model):
    """A staff member who steps aside from a case in which they have a direct interest (回避,
    Art.28 ¶3): from then on they may take no action on it (access.transition_refusal)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="recusals", verbose_name=_("信访事项"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("回避人员"))
    reason = models.TextField(_("回避理由"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人"))
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回避")
        verbose_name_plural = _("回避")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_recusal_per_user_and_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.user_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.case_id}-{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, models.CASCADE, related_name="attachments", verbose_name=_("信访事项"))
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name
