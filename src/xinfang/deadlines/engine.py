"""The one deadline engine: every time limit in xinfang is computed here.

Counting (REGULATION.md §4):
- calendar days are counted from the day after the event; if the last day is not a working day
  (a statutory holiday or an ordinary weekend), the limit moves to the next working day — the
  civil-code rule (民法典第201、203条);
- working days skip weekends and holidays and count 调休 make-up Saturdays/Sundays as working days.
A computation that needs a day in a year the calendar does not cover raises CalendarNotCovered.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import CalendarDay, CalendarYear, DayKind, Rule, Unit

# Far enough for any limit plus a long holiday; bounds the loops below.
MAX_SCAN_DAYS = 800


class CalendarNotCovered(Exception):
    """The holiday arrangement of `year` has not been entered, so no deadline there is computed."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _("%(year)s年的节假日安排尚未录入日历,无法计算该期限。请管理员先在“节假日/调休”中录入该年安排并标记为已完整录入。")
            % {"year": year}
        )


@dataclass
class Calendar:
    """A snapshot of the holiday calendar: covered years and the exception days."""

    years: frozenset[int]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def load(cls) -> "Calendar":
        years = frozenset(CalendarYear.objects.filter(covered=True).values_list("year", flat=True))
        holidays, workdays = set(), set()
        for date, kind in CalendarDay.objects.values_list("date", "kind"):
            (holidays if kind == DayKind.HOLIDAY else workdays).add(date)
        return cls(years, frozenset(holidays), frozenset(workdays))

    def check(self, day: dt.date) -> None:
        if day.year not in self.years:
            raise CalendarNotCovered(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        self.check(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the first working day after it."""
        for _i in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise CalendarNotCovered(day.year)  # pragma: no cover - a calendar with no working days

    def add_calendar_days(self, start: dt.date, days: int) -> dt.date:
        """Last day of a limit of `days` calendar days counted from the day after `start`."""
        return self.next_working_day(start + dt.timedelta(days=days))

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start`."""
        day, counted = start, 0
        for _i in range(MAX_SCAN_DAYS):
            if counted >= days:
                return day
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise CalendarNotCovered(day.year)  # pragma: no cover

    def due(self, start: dt.date, days: int, unit: str, extra_days: int = 0) -> dt.date:
        """Due date of a limit. `extra_days` are calendar days not counted (e.g. hearings, Art.36)."""
        if unit == Unit.WORKING:
            end = self.add_working_days(start, days)
            if extra_days:
                end = self.next_working_day(end + dt.timedelta(days=extra_days))
            return end
        # The uncounted days extend the raw limit before the last day is moved off a rest day;
        # moving first and adding after would also add the weekend or holiday that was skipped.
        return self.add_calendar_days(start, days + extra_days)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def compute_due(rule: Rule, start: dt.date, *, days: int | None = None, extra_days: int = 0,
                calendar: Calendar | None = None) -> dt.date:
    """Due date for `rule` started on `start` (the event day), optionally with other `days`."""
    calendar = calendar or Calendar.load()
    return calendar.due(start, rule.days if days is None else days, rule.unit, extra_days)


def deadline_due(deadline, calendar: Calendar) -> dt.date:
    """The last permitted day of `deadline` under `calendar` (raises CalendarNotCovered)."""
    if deadline.fixed_due:
        return calendar.next_working_day(deadline.fixed_due) if deadline.extra_days else deadline.fixed_due
    return calendar.due(deadline.started_on, deadline.days, deadline.rule.unit, deadline.extra_days)


def place_due(deadline, calendar: Calendar) -> None:
    """Set `deadline.due_on`, or mark it pending on the missing year when the calendar does not
    cover the day it needs: the date is never guessed, and the action that opened the limit goes on."""
    try:
        deadline.due_on, deadline.pending_year = deadline_due(deadline, calendar), None
    except CalendarNotCovered as exc:
        deadline.due_on, deadline.pending_year = None, exc.year


class Grade:
    """The graded status shown with every running duty (正常 / 临期 / 超期)."""

    NORMAL = "normal"
    NEAR = "near"
    OVERDUE = "overdue"
    LABELS = {NORMAL: "正常", NEAR: "临期", OVERDUE: "超期"}


def grade(due_on: dt.date | None, today: dt.date, warn_days: int) -> str | None:
    """正常 while more than `warn_days` remain, 临期 within them (due day included), 超期 after."""
    if due_on is None:
        return None
    if today > due_on:
        return Grade.OVERDUE
    if (due_on - today).days < warn_days:
        return Grade.NEAR
    return Grade.NORMAL
