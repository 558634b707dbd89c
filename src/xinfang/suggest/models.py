"""Suggested category, topic and responsible organ for each case, and what they are made from.

Two sources feed a suggestion:
- `Rule`: the deployment's 分类处理清单, configurable rules (keywords and/or topics, optionally a
  category or region → responsible organ and legal route), edited by administrators in the admin;
- `ModelVersion`: a text classifier trained on the deployment's own confirmed cases, stored in the
  database (so every process and server uses the same one), versioned, the newest active one used.

`Suggestion` keeps, per case, what the system suggested and with what confidence and source, and
later whether staff accepted it (category/topic at registration, organ at routing). The clerk
always decides; the system only records how often it was right.
"""
from __future__ import annotations

import re

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.models import Case, Category, RouteKind, Topic
from xinfang.orgs.models import Organ, Region


class Source(models.TextChoices):
    RULE = "rule", _("分类处理清单")
    MODEL = "model", _("模型")


_KEYWORD_SPLIT = re.compile(r"[\s,,、;;|]+")


class Rule(models.Model):
    """One line of the 分类处理清单: when a case matches, suggest its organ and legal route.

    A rule matches when every condition it sets holds: any of its keywords occurs in the title or
    content, the case's (or predicted) topic is one of its topics, its category equals the case's,
    its region contains the case's region. A rule with neither keywords nor topics never matches.
    Among matching rules the highest priority wins, then the one with more keyword hits.
    诉访分离 (Art.22, Art.28): 涉法涉诉 matters go to a 政法 organ by route `legal`; 检举控告
    matters about officials go to 纪检监察 by route `discipline` (Art.30)."""

    name = models.CharField(_("名称"), max_length=100)
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("任一关键词出现在标题或内容中即命中;用空格、逗号或顿号分隔"))
    topics = models.ManyToManyField(Topic, blank=True, related_name="+", verbose_name=_("问题分类"),
                                    help_text=_("事项属于其中任一分类即命中(含下级分类)"))
    category = models.CharField(_("限信访类别"), max_length=12, choices=Category.choices, blank=True)
    # A rule about a deleted organ or region means nothing any more: it goes with them.
    region = models.ForeignKey(Region, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("限问题属地"))
    organ = models.ForeignKey(Organ, models.CASCADE, related_name="+", verbose_name=_("责任单位"))
    route_kind = models.CharField(_("交转方式"), max_length=12, choices=RouteKind.choices, default=RouteKind.FORWARD)
    set_category = models.CharField(_("建议信访类别"), max_length=12, choices=Category.choices, blank=True)
    set_topic = models.ForeignKey(Topic, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("建议问题分类"))
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("数值大的优先"))
    is_active = models.BooleanField(_("启用"), default=True)
    basis = models.CharField(_("依据"), max_length=200, blank=True, help_text=_("如:《信访工作条例》第二十二条"))

    class Meta:
        verbose_name = _("分类处理规则")
        verbose_name_plural = _("分类处理清单")
        ordering = ["-priority", "pk"]

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        return [k for k in _KEYWORD_SPLIT.split(self.keywords or "") if k]


class ModelVersion(models.Model):
    """A trained classifier: the fitted pipelines as bytes plus what they were trained on.

    The newest active version is the one in use; older ones are kept for comparison and rollback
    (deactivate the newest in the admin to fall back)."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    trained_at = models.DateTimeField(_("训练时间"), default=timezone.now)
    n_samples = models.PositiveIntegerField(_("样本数"))
    last_case_id = models.PositiveIntegerField(_("训练时最大事项号"), default=0)
    metrics = models.JSONField(_("评估指标"), default=dict, blank=True)
    labels = models.JSONField(_("类别"), default=dict, blank=True)
    blob = models.BinaryField(_("模型数据"), editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("分类模型版本")
        verbose_name_plural = _("分类模型版本")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class Suggestion(models.Model):
    """What the system suggested for one case, and whether staff took it.

    `*_accepted` is None until staff decide the field: category and topic when a clerk registers
    the case from the form (the panel showed the suggestion), organ when the case is first routed."""

    case = models.OneToOneField(Case, models.CASCADE, primary_key=True, related_name="suggestion", verbose_name=_("信访事项"))
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    intake_source = models.CharField(_("来源"), max_length=10, blank=True)
    category = models.CharField(_("建议信访类别"), max_length=12, choices=Category.choices, blank=True)
    category_confidence = models.FloatField(_("类别置信度"), null=True, blank=True)
    category_source = models.CharField(max_length=8, choices=Source.choices, blank=True)
    topic = models.ForeignKey(Topic, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("建议问题分类"))
    topic_confidence = models.FloatField(_("分类置信度"), null=True, blank=True)
    topic_source = models.CharField(max_length=8, choices=Source.choices, blank=True)
    organ = models.ForeignKey(Organ, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("建议责任单位"))
    organ_confidence = models.FloatField(_("单位置信度"), null=True, blank=True)
    organ_source = models.CharField(max_length=8, choices=Source.choices, blank=True)
    route_kind = models.CharField(_("建议交转方式"), max_length=12, choices=RouteKind.choices, blank=True)
    rule = models.ForeignKey(Rule, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("命中规则"))
    model_version = models.ForeignKey(ModelVersion, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("模型版本"))
    category_accepted = models.BooleanField(_("类别被采纳"), null=True, blank=True)
    topic_accepted = models.BooleanField(_("分类被采纳"), null=True, blank=True)
    organ_accepted = models.BooleanField(_("单位被采纳"), null=True, blank=True)
    chosen_organ = models.ForeignKey(Organ, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("实际去向机关"))

    class Meta:
        verbose_name = _("分类建议")
        verbose_name_plural = _("分类建议")
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id}"
