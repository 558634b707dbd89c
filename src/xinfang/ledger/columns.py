"""The ledger (台账) table format shared by import and export (DESIGN.md "The ledger format").

Columns are matched by their Chinese or English name (a few common variants too); each value
parser returns the clean value or raises `CellError` with a Chinese reason for the error report.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.cases.models import Category, Channel, Satisfaction


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    aliases: tuple = ()


# The ledger format, in export order (DESIGN.md).
COLUMNS = [
    Column("case_no", "编号", ("信访编号", "原编号", "number")),
    Column("received_at", "登记日期", ("登记时间", "收到日期", "收到时间", "来信来访日期")),
    Column("channel", "信访形式", ("来源", "信访方式")),
    Column("petitioner_name", "信访人", ("姓名", "信访人姓名", "name")),
    Column("id_number", "证件号码", ("身份证号", "身份证号码", "idcard")),
    Column("phone", "联系电话", ("电话", "手机", "手机号码", "tel")),
    Column("people_count", "人数", ("信访人数", "head_count")),
    Column("region", "所属地区", ("地区", "问题属地", "区域")),
    Column("title", "标题", ("主题", "信访标题")),
    Column("content", "内容", ("信访内容", "诉求内容", "主要内容")),
    Column("category", "信访类别", ("类别",)),
    Column("topic", "问题分类", ("内容分类", "问题类别")),
    Column("organ", "责任单位", ("承办单位", "办理单位", "责任部门")),
    Column("status", "办理状态", ("状态", "state")),
    Column("replied_at", "答复日期", ("答复时间", "办结日期")),
    Column("reply", "答复意见", ("答复内容", "处理意见", "reply_text")),
    Column("satisfaction", "满意度", ("评价", "满意度评价")),
]
# What export adds: the system's own judgements and number. Import reads them back as extra data.
EXPORT_EXTRA = [
    Column("system_no", "系统编号"),
    Column("duplicate_of", "疑似重复编号"),
    Column("duplicate_score", "重复相似度"),
    Column("category_suggested", "建议信访类别"),
    Column("topic_suggested", "建议问题分类"),
    Column("topic_confidence", "建议分类置信度"),
    Column("organ_suggested", "建议责任单位"),
]
REQUIRED = ("case_no", "received_at", "channel", "content", "category")

_BY_NAME: dict[str, str] = {}
for _c in COLUMNS:
    for _n in (_c.zh, _c.key, *_c.aliases):
        _BY_NAME[_n.lower()] = _c.key
LABELS = {c.key: c.zh for c in COLUMNS + EXPORT_EXTRA}

MAX_CELL = 100_000  # characters; longer is a row error (content itself is limited to 20,000)
MAX_FILE_CELL = 10 * 1024 * 1024  # a cell this large means a broken file (an unclosed quote)


def normalise_header(name) -> str:
    return re.sub(r"\s+", "", str(name if name is not None else "")).lstrip("\ufeff").strip("*").strip()


def match_header(name: str) -> str | None:
    """The ledger column a header names, or None (an extra column kept as data)."""
    return _BY_NAME.get(normalise_header(name).lower())


class CellError(Exception):
    def __init__(self, column: str, reason: str):
        self.column, self.reason = column, str(reason)
        super().__init__(self.reason)


def text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO, CSV-injection quote removed
    (export writes a leading ' before = + - @, import takes it away again)."""
    if type(value) is str:  # nearly every cell (all of a CSV's): no conversion to try
        value = value.strip()
    elif value is None:
        return ""
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        value = str(value).strip()
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        value = value[1:]
    return value


# --------------------------------------------------------------------------- choices

CHANNELS = {
    Channel.ONLINE: ("网上", "网上信访", "网信", "网络", "互联网", "网上投诉", "online"),
    Channel.LETTER: ("来信", "信件", "书信", "letter"),
    Channel.CALL: ("来电", "电话", "call", "phone"),
    Channel.FAX: ("传真", "fax"),
    Channel.VISIT: ("走访", "来访", "上访", "visit"),
}
CATEGORIES = {
    Category.SUGGESTION: ("建议意见类", "建议意见", "建议", "意见建议", "suggestion"),
    Category.REPORT: ("检举控告类", "检举控告", "检举", "控告", "举报", "report"),
    Category.CLAIM: ("申诉求决类", "申诉求决", "申诉", "求决", "claim"),
}
SATISFACTIONS = {
    Satisfaction.SATISFIED: ("满意", "非常满意", "satisfied"),
    Satisfaction.BASIC: ("基本满意", "比较满意", "basic"),
    Satisfaction.UNSATISFIED: ("不满意", "unsatisfied"),
}


def _lookup(table: dict) -> dict:
    return {alias.lower(): code for code, aliases in table.items() for alias in (*aliases, code.value)}


_CHANNEL, _CATEGORY, _SATISFACTION = _lookup(CHANNELS), _lookup(CATEGORIES), _lookup(SATISFACTIONS)


def choice(key: str, value: str, table: dict, lookup: dict) -> str:
    found = lookup.get(value.strip().lower())
    if found is None:
        allowed = " / ".join(aliases[0] for aliases in table.values())
        raise CellError(key, _("“%(value)s”不是有效的%(label)s,应为:%(allowed)s。") % {
            "value": value[:50], "label": LABELS[key], "allowed": allowed})
    return found


def channel(value: str) -> str:
    return choice("channel", value, CHANNELS, _CHANNEL)


def category(value: str) -> str:
    return choice("category", value, CATEGORIES, _CATEGORY)


def satisfaction(value: str) -> str:
    return choice("satisfaction", value, SATISFACTIONS, _SATISFACTION)


# Imported status → what the history is rebuilt to (import.ImportedHistory).
STATUSES = {
    "registered": ("待转送", "已登记", "登记", "待处理", "待交转", "异议退回待确认", "registered", "returned"),
    "pending": ("待受理", "已转送", "已交办", "转送", "交办", "pending"),
    "handling": ("办理中", "已受理", "受理", "正在办理", "在办", "handling"),
    # 复查/复核 stages are not rebuilt: the history is kept up to the reply (docs/ledger.md).
    "replied": ("已答复", "答复", "已回复", "复查中", "已复查", "复核中", "replied", "review", "reviewed", "re_review"),
    "closed": ("已办结", "办结", "已结案", "结案", "已完成", "已办结(答复后办结)", "已办结(复查后办结)",
               "已办结(复核终结)", "closed"),
    "not_accepted": ("不予受理", "不再受理", "已办结(不予受理)", "已办结(不再受理)", "not_accepted"),
    "informed": ("告知其他法定途径", "告知", "已告知", "已办结(告知其他法定途径)", "informed"),
}
REVIEW_STATUSES = {"复查中", "已复查", "复核中", "review", "reviewed", "re_review"}
_STATUS = {alias.lower(): code for code, aliases in STATUSES.items() for alias in aliases}


# Full-width brackets (what a Chinese ledger usually has: 已办结（答复后办结）) read as ASCII ones.
_BRACKETS = str.maketrans({"\uff08": "(", "\uff09": ")"})


def status(value: str) -> str:
    # Every whitespace character removed (str.split() splits at exactly the characters \s matches).
    key = "".join(str(value).split()).translate(_BRACKETS).lower()
    found = _STATUS.get(key)
    if found is None:
        allowed = " / ".join(aliases[0] for aliases in STATUSES.values())
        raise CellError("status", _("“%(value)s”不是可导入的办理状态,应为:%(allowed)s。") % {
            "value": value[:50], "allowed": allowed})
    return found


# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:时]\s*(\d{1,2})\s*(?:[:分]\s*(\d{1,2}(?:\.\d+)?)\s*秒?)?\s*分?)?\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT]*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")


_PARSED: dict[str, tuple[dt.datetime, bool] | None] = {}  # date text → _parse_date_text(text)
_PARSED_MAX = 4096  # entries; then it starts afresh (a ledger's rows share a few hundred dates)
_PARSED_LONGEST = 40  # characters: longer texts are parsed every time, never kept


def _parse_date_text(raw: str) -> tuple[dt.datetime, bool] | None:
    """The naive moment a date cell's text names and whether it has a time of day, or None."""
    m = _DATE.match(raw) or _COMPACT.match(raw)
    try:
        if m:
            y, mo, d, h, mi, s = m.groups()
            sec = float(s) if s else 0.0
            return dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec)), h is not None
        if _SERIAL.match(raw) and 1 <= float(raw) < 2958466:
            serial = float(raw)
            moment = _EXCEL_EPOCH + dt.timedelta(days=serial)
            return moment.replace(microsecond=0), not serial.is_integer()
    except (ValueError, OverflowError):
        pass
    return None


def parse_datetime(key: str, value) -> tuple[dt.datetime, bool]:
    """An aware local datetime from a cell, and whether the cell held a time of day.

    Accepts 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, 20260105, Excel serial dates (45662 or
    45662.5), each optionally with a time (14:30, 14:30:00, 14时30分), and real date cells."""
    if isinstance(value, dt.datetime):
        moment, has_time = value, value.time() != dt.time(0)
    elif isinstance(value, dt.date):
        moment, has_time = dt.datetime.combine(value, dt.time(0)), False
    else:
        raw = text(value)
        # The rows of a ledger share their dates: each text is parsed once (its naive moment;
        # the time zone, and any error message in the active language, are applied per call).
        parsed = _PARSED.get(raw, False)
        if parsed is False:
            parsed = _parse_date_text(raw)
            if len(raw) <= _PARSED_LONGEST:
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[raw] = parsed
        if parsed is None:
            raise CellError(key, _("“%(value)s”不是可识别的日期(可用 2026-01-05、2026/1/5、2026年1月5日、20260105 或 Excel 日期)。")
                            % {"value": raw[:40]}) from None
        moment, has_time = parsed
    if moment.year < 1950:
        raise CellError(key, _("日期“%(value)s”早于1950年,请核对。") % {"value": moment.date()})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, has_time


_COUNT = re.compile(r"\d{1,6}")


def parse_count(value) -> int:
    raw = text(value)
    if not raw:
        return 1
    if not _COUNT.fullmatch(raw):
        raise CellError("people_count", _("人数应为正整数,当前为“%(value)s”。") % {"value": raw[:20]})
    return max(1, int(raw))


MESSAGES = {
    "required": gettext_lazy("必填,不能为空。"),
}
