"""`xinfang calendar import|check|seed`: the holiday calendar the deadline engine counts with.

The official arrangement for a year (国务院办公厅关于某年部分节假日安排的通知) is published each
winter; until it is entered, deadlines ending in that year are refused, never guessed
(REGULATION.md §4). `import` enters it from a CSV, `check` warns ahead of time, `seed` reloads
the years the chinesecalendar package knows without overwriting edits.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.models import Case, State
from xinfang.cases.workflow import recompute_open_deadlines
from xinfang.deadlines.models import CalendarDay, CalendarYear, DayKind, Deadline, Rule

HORIZON_DAYS = 120
KINDS = {"休": DayKind.HOLIDAY, "假": DayKind.HOLIDAY, "holiday": DayKind.HOLIDAY,
         "班": DayKind.WORKDAY, "workday": DayKind.WORKDAY}
HEADERS = {"date": ("日期", "date"), "kind": ("类型", "type", "kind"), "name": ("名称", "name")}
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
NAME_MAX = CalendarDay._meta.get_field("name").max_length
SOURCE = "国务院办公厅节假日安排通知(xinfang calendar import)"


def year_ranges(years) -> str:
    """2004–2026、2028 from a set of years."""
    years = sorted(set(years))
    parts, start = [], None
    for i, y in enumerate(years):
        if start is None:
            start = y
        if i + 1 == len(years) or years[i + 1] != y + 1:
            parts.append(str(start) if start == y else f"{start}–{y}")
            start = None
    return "、".join(parts) or _("无")


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of the CSV; UTF-8 (with or without BOM) or GBK, as Excel saves it."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise CommandError(_("无法识别文件编码,请另存为 UTF-8 编码的 CSV 文件。"))
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise CommandError(_("文件为空:第一行应为表头“日期,类型,名称”。"))
    names = [h.strip().lower() for h in header]
    index = {}
    for key, options in HEADERS.items():
        for option in options:
            if option in names:
                index[key] = names.index(option)
                break
    missing = [HEADERS[k][0] for k in ("date", "kind") if k not in index]
    if missing:
        raise CommandError(_("表头缺少%(cols)s列:第一行应为“日期,类型,名称”。") % {"cols": "、".join(missing)})
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        get = lambda key: cells[index[key]].strip() if key in index and index[key] < len(cells) else ""  # noqa: E731
        rows.append((line, {"date": get("date"), "kind": get("kind"), "name": get("name")}))
    return rows


def validate(rows, complete: list[int]) -> tuple[list[tuple[dt.date, str, str]], list[str]]:
    """The parsed days and every problem, each message naming its line."""
    errors, days, seen = [], [], {}
    for line, row in rows:
        match = _DATE.match(row["date"])
        date = None
        if not match:
            errors.append(_("第%(line)s行:日期“%(value)s”格式不正确,应为 2027-01-01。") % {"line": line, "value": row["date"]})
        else:
            try:
                date = dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                errors.append(_("第%(line)s行:日期“%(value)s”不存在。") % {"line": line, "value": row["date"]})
        kind = KINDS.get(row["kind"].lower())
        if kind is None:
            errors.append(_("第%(line)s行:类型“%(value)s”无效,应为“休”(放假)或“班”(调休上班)。") % {"line": line, "value": row["kind"]})
        if len(row["name"]) > NAME_MAX:
            errors.append(_("第%(line)s行:名称不能超过%(n)s字。") % {"line": line, "n": NAME_MAX})
        if date is not None:
            if date in seen:
                errors.append(_("第%(line)s行:日期%(date)s与第%(other)s行重复。") % {"line": line, "date": date, "other": seen[date]})
            seen[date] = line
        if date is not None and kind is not None:
            days.append((date, kind, row["name"]))
    if not rows:
        errors.append(_("文件中没有任何日期。"))
    years_in_file = {d.year for d, _k, _n in days}
    for year in complete:
        if not 1900 <= year <= 2200:
            errors.append(_("--complete %(year)s:年份无效。") % {"year": year})
        elif year not in years_in_file:
            errors.append(_("--complete %(year)s:文件中没有%(year)s年的日期,不能标记该年已完整录入。") % {"year": year})
    return days, errors


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, and the language is chosen at run time
        return _("节假日日历:import 导入某年放假调休安排;check 检查覆盖年份;seed 从 chinesecalendar 补充。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,check,seed}")
        imp = sub.add_parser("import", help=_("从 CSV 导入放假和调休安排(表头:日期,类型,名称)"))
        imp.add_argument("file", help=_("CSV 文件,类型为“休”或“班”"))
        imp.add_argument("--complete", type=int, action="append", default=[], metavar="YEAR",
                         help=_("标记该年安排已完整录入(可重复),此后该年的期限方可计算"))
        sub.add_parser("check", help=_("列出已覆盖的年份,并预警未来%(n)s天内将用到的未录入年份") % {"n": HORIZON_DAYS})
        sub.add_parser("seed", help=_("从 chinesecalendar 补充官方安排(保留已有记录和修改)"))

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    # ------------------------------------------------------------------ import

    def do_import(self, *, file, complete, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件:%(path)s") % {"path": file})
        days, errors = validate(read_rows(path), complete)
        if errors:
            summary = _("未导入:共%(n)s处错误,未写入任何数据。") % {"n": len(errors)}
            raise CommandError("\n".join([summary, *errors]))
        existing = {d.date: d for d in CalendarDay.objects.filter(date__in=[d for d, _k, _n in days])}
        upsert, remove = [], []
        added = updated = unchanged = 0
        for date, kind, name in days:
            weekend = date.weekday() >= 5
            # Only exceptions to the Monday–Friday week are stored (CalendarDay): a 休 on a weekend
            # or a 班 on a weekday is the normal state of that day.
            if (kind == DayKind.HOLIDAY) == weekend:
                if date in existing:
                    remove.append(date)
                else:
                    unchanged += 1
                continue
            old = existing.get(date)
            if old is None:
                added += 1
            elif old.kind == kind and old.name == name:
                unchanged += 1
                continue
            else:
                updated += 1
            upsert.append(CalendarDay(date=date, kind=kind, name=name))
        with transaction.atomic():
            # Bulk writes send no signals: the open deadlines are recomputed once, below.
            CalendarDay.objects.bulk_create(upsert, update_conflicts=True, unique_fields=["date"],
                                            update_fields=["kind", "name"])
            qs = CalendarDay.objects.filter(date__in=remove)
            qs._raw_delete(qs.db)
            CalendarYear.objects.bulk_create(
                [CalendarYear(year=y, covered=True, source=SOURCE) for y in sorted(set(complete))],
                update_conflicts=True, unique_fields=["year"], update_fields=["covered", "source", "updated_at"])
        moved = recompute_open_deadlines()
        self.stdout.write(_("已导入%(n)s天:新增%(added)s,更新%(updated)s,删除%(removed)s,无变化%(same)s。") % {
            "n": len(days), "added": added, "updated": updated, "removed": len(remove), "same": unchanged})
        if complete:
            self.stdout.write(_("已标记完整录入:%(years)s年。") % {"years": year_ranges(complete)})
        pending = sorted({d.year for d, _k, _n in days} - set(CalendarYear.objects.filter(covered=True).values_list("year", flat=True)))
        if pending:
            self.stdout.write(self.style.WARNING(_(
                "%(years)s年尚未标记为已完整录入,该年的期限仍不能计算;录入全年安排后请加 --complete 重新导入。") % {
                "years": year_ranges(pending)}))
        self.stdout.write(_("已重新计算进行中的期限:%(n)s个到期日有变化。") % {"n": moved})

    # ------------------------------------------------------------------ check

    def do_check(self, **options):
        today = timezone.localdate()
        covered = set(CalendarYear.objects.filter(covered=True).values_list("year", flat=True))
        partial = set(CalendarDay.objects.dates("date", "year").values_list("date__year", flat=True)) - covered
        self.stdout.write(_("已完整录入的年份:%(years)s") % {"years": year_ranges(covered)})
        if partial:
            self.stdout.write(_("有记录但未标记完整的年份:%(years)s") % {"years": year_ranges(partial)})
        horizon = today + dt.timedelta(days=HORIZON_DAYS)
        missing = [y for y in range(today.year, horizon.year + 1) if y not in covered]
        if not missing:
            self.stdout.write(self.style.SUCCESS(_("未来%(n)s天(至%(date)s)的期限均可计算。") % {"n": HORIZON_DAYS, "date": horizon}))
            return
        for year in missing:
            start = dt.date(year, 1, 1)
            days_left = (start - today).days
            counts = cases_needing(year, today)
            self.stdout.write(self.style.WARNING(_(
                "警告:%(year)s年的节假日安排尚未录入。%(when)s,到期日在%(year)s年的期限无法计算,"
                "只能记为“待定”,也不能延期。") % {
                "year": year, "when": _("距%(date)s还有%(n)s天") % {"date": start, "n": days_left} if days_left > 0 else _("已经进入该年")}))
            waiting = Deadline.objects.filter(is_open=True, due_on__isnull=True, pending_year=year).count()
            if waiting:
                self.stdout.write(self.style.WARNING(_("  已有%(n)s个进行中的期限待定,录入该年安排后自动计算。") % {"n": waiting}))
            total = sum(counts.values())
            detail = ",".join(f"{State(s).label}{n}件" for s, n in counts.items() if n)
            self.stdout.write(_("  未办结的信访事项中,有%(n)s件的下一环节期限可能落入%(year)s年%(detail)s。") % {
                "n": total, "year": year, "detail": f"({detail})" if detail else ""})
            self.stdout.write(_("  请在国务院办公厅公布放假安排后执行:xinfang calendar import 文件.csv --complete %(year)s") % {"year": year})

    # ------------------------------------------------------------------ seed

    def do_seed(self, **options):
        import chinese_calendar

        from xinfang.deadlines.seed import seed_calendar

        with transaction.atomic():
            added = seed_calendar(CalendarYear, CalendarDay)
        moved = recompute_open_deadlines()
        years = {d.year for d in chinese_calendar.holidays}
        self.stdout.write(_("已从 chinesecalendar 补充%(n)s天(已有记录和修改保持不变),其覆盖%(years)s年。") % {
            "n": added, "years": year_ranges(years)})
        self.stdout.write(_("已重新计算进行中的期限:%(n)s个到期日有变化。") % {"n": moved})


# The next limit each unfinished state starts when its holder acts (rule codes, Art.22–36).
NEXT_LIMITS = {
    State.REGISTERED: ("accept", "route"),
    State.PENDING: ("handle", "assign"),
    State.RETURNED: ("route", "accept"),
    State.HANDLING: ("evaluate", "review_request", "extension"),
    State.REPLIED: ("review",),
    State.REVIEW: ("re_review_request",),
    State.REVIEWED: ("re_review",),
}


def cases_needing(year: int, today: dt.date) -> dict[str, int]:
    """Unfinished cases, by state, whose next limit would reach into `year` if their holder acted
    on the case's current due date (or today, when none is running or it has passed): the cases
    the missing year will hold up. Per state the longest next limit counts, in calendar days (a
    working-day limit counted as 7/5 of its days), so the figure is an estimate."""
    rules = {r.code: r for r in Rule.objects.all()}
    start = dt.date(year, 1, 1)
    out = {}
    for state, codes in NEXT_LIMITS.items():
        longest = 0
        for code in codes:
            rule = rules.get(code)
            if rule is not None:
                longest = max(longest, -(-rule.days * 7 // 5) if rule.unit == "working" else rule.days)
        threshold = start - dt.timedelta(days=longest)
        qs = Case.objects.filter(state=state)
        if today < threshold:
            qs = qs.filter(due_on__gte=threshold)
        out[state] = qs.count()
    return out
