"""The calendar (holidays and 调休 working days), the rule for each time limit, and the deadlines
that run on each case. The arithmetic lives in `engine.py`."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year whose official holiday arrangement has been entered. Deadlines ending in a year that
    is not here (or not marked covered) are refused, never guessed (REGULATION §4)."""

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    covered = models.BooleanField(_("已完整录入"), default=True, help_text=_("已按国务院办公厅通知录入全年放假和调休安排"))
    source = models.CharField(_("来源"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日(休息)")
    WORKDAY = "workday", _("调休上班日")


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a holiday on a weekday, or a 调休 weekend workday."""

    date = models.DateField(_("日期"), primary_key=True)
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class Unit(models.TextChoices):
    CALENDAR = "calendar", _("自然日(末日遇节假日顺延)")
    WORKING = "working", _("工作日")


class Rule(models.Model):
    """One time limit of the regulation, with its counting unit. Jurisdictions differ, so the days
    and the unit are editable; the defaults are seeded from REGULATION.md §4."""

    code = models.SlugField(_("代码"), max_length=40, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    days = models.PositiveSmallIntegerField(_("天数"))
    unit = models.CharField(_("计算方式"), max_length=10, choices=Unit.choices, default=Unit.CALENDAR)
    warn_days = models.PositiveSmallIntegerField(_("临期提醒天数"), default=3, help_text=_("距到期日不足该天数时显示“临期”"))
    article = models.CharField(_("依据"), max_length=60, blank=True)
    is_duty = models.BooleanField(_("机关办理时限"), default=True, help_text=_("否:信访人可申请的期间(如复查申请期)"))

    class Meta:
        verbose_name = _("期限规则")
        verbose_name_plural = _("期限规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}({self.days}{'个工作日' if self.unit == Unit.WORKING else '日'})"


class Deadline(models.Model):
    """A running or finished time limit on a case. `due_on` is the last permitted day.

    A limit that ends in a year whose holiday arrangement has not been entered is *pending*:
    `due_on` is empty and `pending_year` names the missing year. The engine never guesses such a
    date; the case goes on, the limit is shown as 待定, and entering the year's arrangement fills
    it in (recompute_open_deadlines). Until then the limit counts as not yet run out.
    """

    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="deadlines", verbose_name=_("信访事项"))
    # A rule's code is matched exactly, never by pattern: PostgreSQL keeps no `_like` index of it.
    rule = models.ForeignKey(Rule, models.PROTECT, verbose_name=_("规则"))
    organ = models.ForeignKey("orgs.Organ", models.PROTECT, null=True, blank=True, verbose_name=_("责任机关"))
    started_on = models.DateField(_("起算日"))
    days = models.PositiveSmallIntegerField(_("天数"), help_text=_("含延期、交办指定期限"))
    extra_days = models.PositiveSmallIntegerField(_("不计入天数"), default=0, help_text=_("如复核听证时间(条例第36条)"))
    fixed_due = models.DateField(_("指定期限"), null=True, blank=True, help_text=_("交办机关指定的办结期限"))
    # Every query on it is about open deadlines (the is_open, due_on index) or one case's.
    due_on = models.DateField(_("到期日"), null=True, blank=True)
    pending_year = models.PositiveSmallIntegerField(
        _("待录入年份"), null=True, blank=True, help_text=_("到期日落入尚未录入节假日安排的年份时,到期日待定"))
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    is_open = models.BooleanField(_("进行中"), default=True)

    class Meta:
        verbose_name = _("期限")
        verbose_name_plural = _("期限")
        ordering = ["started_on", "pk"]
        indexes = [models.Index(fields=["is_open", "due_on"])]

    def __str__(self) -> str:
        return f"{self.rule.name} {self.due_on or self.pending_label}"

    @property
    def pending_label(self) -> str:
        return _("待定(%(year)s年节假日安排未录入)") % {"year": self.pending_year} if self.due_on is None else ""

    def has_passed(self, day) -> bool:
        """True when `day` is after the last permitted day. A pending limit ends in a year that has
        not begun to be counted, so it has not passed."""
        return self.due_on is not None and day > self.due_on

    @property
    def met_late(self) -> bool:
        from django.utils import timezone

        return bool(self.met_at and self.has_passed(timezone.localdate(self.met_at)))
