"""Default time-limit rules (REGULATION.md §4) and the official holiday calendar seed."""
from __future__ import annotations

DEFAULT_RULES = [
    # code, name, days, unit, warn_days, article, is_duty
    ("route", "登记后转送交办", 15, "calendar", 3, "条例第22条", True),
    ("accept", "受理告知", 15, "calendar", 3, "条例第23条", True),
    ("object", "异议退回期限", 5, "working", 2, "条例第23条", False),
    ("assign", "交办办结期限", 30, "calendar", 5, "条例第22条(期限由交办机关指定)", True),
    ("handle", "办结期限", 60, "calendar", 7, "条例第34条", True),
    # The simplified track (简易办理, 简单信访马上办) chosen at acceptance: a shorter limit than
    # Art.34's 60 days. Local practice; XINFANG_SIMPLE_TRACK_DAYS seeds its days (default 10).
    ("simple_handle", "简易办理办结期限", 10, "calendar", 3, "条例第34条(简易办理,本地设置)", True),
    ("extension", "延期上限", 30, "calendar", 0, "条例第34条", False),
    ("evaluate", "满意度评价期", 30, "calendar", 0, "本地设置", False),
    ("review_request", "复查申请期", 30, "calendar", 0, "条例第35条", False),
    ("review", "复查期限", 30, "calendar", 5, "条例第35条", True),
    ("re_review_request", "复核申请期", 30, "calendar", 0, "条例第36条", False),
    ("re_review", "复核期限", 30, "calendar", 5, "条例第36条", True),
]


def simple_track_days() -> int:
    """Days of the simplified track's limit when first seeded: XINFANG_SIMPLE_TRACK_DAYS (1–60)."""
    import os

    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get("XINFANG_SIMPLE_TRACK_DAYS", "10")
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= 60:
        raise ImproperlyConfigured("XINFANG_SIMPLE_TRACK_DAYS must be a whole number of days from 1 to 60")
    return days


def seed_rules(Rule) -> None:
    for code, name, days, unit, warn, article, duty in DEFAULT_RULES:
        if code == "simple_handle":
            days = simple_track_days()
        Rule.objects.get_or_create(code=code, defaults=dict(name=name, days=days, unit=unit, warn_days=warn,
                                                            article=article, is_duty=duty))


def seed_calendar(CalendarYear, CalendarDay) -> int:
    """Load the holidays and 调休 workdays the `chinesecalendar` package knows (official State
    Council notices). Existing rows are kept, so an administrator's edits survive. Returns the
    number of days added."""
    import chinese_calendar

    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    rows = []
    for date, name in chinese_calendar.holidays.items():
        # The package lists weekend days inside a holiday too; only weekday holidays are exceptions.
        if date.weekday() < 5 and date not in existing:
            rows.append(CalendarDay(date=date, kind="holiday", name=_zh(name)))
    for date, name in chinese_calendar.workdays.items():
        if date.weekday() >= 5 and date not in existing:
            rows.append(CalendarDay(date=date, kind="workday", name=_zh(name) + "调休"))
    CalendarDay.objects.bulk_create(rows, batch_size=500)
    for year in years:
        CalendarYear.objects.get_or_create(year=year, defaults={"covered": True, "source": "国务院办公厅节假日安排通知(chinesecalendar)"})
    return len(rows)


_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _zh(name) -> str:
    name = str(getattr(name, "value", name) or "")
    return _NAMES.get(name, name)
