"""The 积案 ledger: long-running and repeat cases, progress in reducing them (减存) and the watch
list of cases at risk (防变). Every figure is over the cases the user may see.

Definitions (docs/coordination.md):
- a case is *unfinished* on day D when it was registered on or before D and was not filed
  (办结) by the end of D;
- it is *long-running* on D when unfinished and registered more than COORDINATION_BACKLOG_DAYS
  days before D;
- it is a *repeat* when duplicate detection links it to an earlier case (suspected or confirmed)
  or an earlier case repeats it (the chain's first petition);
- 积案 on D = unfinished cases that are long-running or repeats.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import OPEN_STATES, Case, State

from . import conf


CHUNK = 5000  # ids per IN (...) query: SQLite limits the number of bound variables


def _chunks(ids):
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _cases(ids, *related):
    """The cases with these ids, fetched chunk by chunk."""
    out = []
    for part in _chunks(ids):
        out += list(Case.objects.filter(pk__in=part).select_related(*related))
    return out


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def repeat_case_ids(case_ids) -> set[int]:
    """Cases among `case_ids` in a repeat chain, through the duplicate-detection app (read-only)."""
    from xinfang.dedup.models import Link, Status

    from xinfang.dedup.service import duplicate_ids

    found: set[int] = set()
    for part in _chunks(case_ids):
        found |= duplicate_ids(part)  # this case repeats an earlier one
        found |= set(Link.objects.filter(earlier_id__in=part).exclude(status=Status.DISMISSED)
                     .values_list("earlier_id", flat=True))  # a later case repeats this one
    return found


def unfinished_on(qs, day: dt.date):
    end = _end_of(day)
    return qs.filter(registered_at__lt=end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))


def backlog_ids_on(user, day: dt.date) -> tuple[set[int], set[int], set[int]]:
    """(积案 ids, long-running ids, repeat ids) on `day` among the cases `user` may see."""
    days = conf.get("COORDINATION_BACKLOG_DAYS")
    base = unfinished_on(cases_visible_to(user), day)
    long_ids = set(base.filter(registered_at__lt=_end_of(day - dt.timedelta(days=days + 1))).values_list("pk", flat=True))
    repeats = repeat_case_ids(base.values_list("pk", flat=True))
    return long_ids | repeats, long_ids, repeats


@dataclass
class Progress:
    """减存 over a period: the 积案 at its start and now, and what was filed in between."""

    start: dt.date
    end: dt.date
    at_start: int
    resolved: int  # 积案 at the start that were filed during the period
    added: int  # 积案 now that were not 积案 at the start
    now: int
    long_now: int
    repeat_now: int

    @property
    def reduction_percent(self) -> float | None:
        return round(100 * self.resolved / self.at_start, 1) if self.at_start else None


def progress(user, start: dt.date, end: dt.date | None = None) -> Progress:
    end = end or timezone.localdate()
    before, _l, _r = backlog_ids_on(user, start)
    now, long_now, repeat_now = backlog_ids_on(user, end)
    resolved = sum(Case.objects.filter(pk__in=part, closed_at__gte=_end_of(start), closed_at__lt=_end_of(end)).count()
                   for part in _chunks(before))
    return Progress(start=start, end=end, at_start=len(before), resolved=resolved, added=len(now - before),
                    now=len(now), long_now=len(long_now), repeat_now=len(repeat_now))


def backlog_cases(user, day: dt.date | None = None):
    """The 积案 now, oldest first, with `is_long` and `is_repeat` set on each."""
    day = day or timezone.localdate()
    ids, long_ids, repeats = backlog_ids_on(user, day)
    rows = sorted(_cases(ids, "current_organ", "region"), key=lambda c: (c.registered_at, c.pk))
    for c in rows:
        c.is_long, c.is_repeat = c.pk in long_ids, c.pk in repeats
        c.age_days = (day - timezone.localdate(c.registered_at)).days
    return rows


@dataclass
class Watch:
    case: Case
    reasons: list[str] = field(default_factory=list)


def watch_list(user, day: dt.date | None = None, limit: int = 500) -> list[Watch]:
    """防变: open cases at risk — many petitioners (or a group visit), repeated petitions, overdue,
    or 挂牌督办 — most reasons first."""
    from xinfang.supervision.services import listed_ids

    day = day or timezone.localdate()
    heads = conf.get("COORDINATION_WATCH_HEAD_COUNT")
    open_qs = cases_visible_to(user).filter(state__in=OPEN_STATES)
    crowd = set(open_qs.filter(Q(head_count__gte=heads) | Q(group_visit=True)).values_list("pk", flat=True))
    overdue = set(open_qs.filter(due_on__lt=day).values_list("pk", flat=True))
    open_ids = list(open_qs.values_list("pk", flat=True))
    repeats = repeat_case_ids(open_ids)
    listed: set[int] = set()
    for part in _chunks(open_ids):
        listed |= listed_ids(part)
    ids = crowd | overdue | repeats | listed
    out = []
    for c in _cases(ids, "current_organ", "region"):
        w = Watch(c)
        if c.pk in crowd:
            w.reasons.append(_("集体访") if c.group_visit else _("%(n)s人联名") % {"n": c.head_count})
        if c.pk in repeats:
            w.reasons.append(_("重复信访"))
        if c.pk in overdue:
            w.reasons.append(_("超期"))
        if c.pk in listed:
            w.reasons.append(_("挂牌督办"))
        out.append(w)
    out.sort(key=lambda w: (-len(w.reasons), w.case.due_on or dt.date.max, w.case.pk))
    return out[:limit]


def period_start(value: str | None, today: dt.date) -> dt.date:
    """The start of the 减存 period: a given ISO date (not after today), else 1 January."""
    if value:
        try:
            day = dt.date.fromisoformat(value)
            if day <= today:
                return day
        except ValueError:
            pass
    return today.replace(month=1, day=1)


def _state_label(case: Case) -> str:
    return str(case.state_label)


def export_xlsx(user, start: dt.date, today: dt.date | None = None) -> bytes:
    """The ledger as a workbook: 减存 summary, 积案 list, 防变 watch list."""
    import io

    from openpyxl import Workbook

    today = today or timezone.localdate()
    p = progress(user, start, today)
    wb = Workbook()
    ws = wb.active
    ws.title = _("减存进度")
    ws.append([_("项目"), _("数量")])
    for label, value in ((_("统计起始日"), p.start.isoformat()), (_("统计截止日"), p.end.isoformat()),
                         (_("期初积案"), p.at_start), (_("本期化解(期初积案已办结)"), p.resolved),
                         (_("本期新增积案"), p.added), (_("当前积案"), p.now), (_("其中:长期未办结"), p.long_now),
                         (_("其中:重复信访"), p.repeat_now),
                         (_("化解率(%)"), p.reduction_percent if p.reduction_percent is not None else "")):
        ws.append([label, value])
    ws2 = wb.create_sheet(_("积案台账"))
    ws2.append([_("信访事项编号"), _("标题"), _("登记日期"), _("已历时(日)"), _("长期未办结"), _("重复信访"),
                _("状态"), _("当前机关"), _("问题属地"), _("当前期限")])
    for c in backlog_cases(user, today):
        ws2.append([c.number, c.title, timezone.localdate(c.registered_at).isoformat(), c.age_days,
                    _("是") if c.is_long else "", _("是") if c.is_repeat else "", _state_label(c),
                    c.current_organ.name, c.region.name if c.region_id else "", c.due_on.isoformat() if c.due_on else ""])
    ws3 = wb.create_sheet(_("防变清单"))
    ws3.append([_("信访事项编号"), _("标题"), _("风险因素"), _("人数"), _("状态"), _("当前机关"), _("当前期限")])
    for w in watch_list(user, today):
        c = w.case
        ws3.append([c.number, c.title, "、".join(w.reasons), c.head_count, _state_label(c), c.current_organ.name,
                    c.due_on.isoformat() if c.due_on else ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["progress", "backlog_cases", "watch_list", "export_xlsx", "State"]
