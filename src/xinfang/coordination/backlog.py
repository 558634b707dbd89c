"""The 积案 ledger: long-running and repeat cases, progress in reducing them (减存) and the watch
list of cases at risk (防变). Every figure is over the cases the user may see.

Definitions (docs/coordination.md):
- a case is *unfinished* on day D when it was registered on or before D and was not filed
  (办结) by the end of D;
- it is *long-running* on D when unfinished and registered more than COORDINATION_BACKLOG_DAYS
  days before D;
- it is a *repeat* when duplicate detection links it to an earlier case (suspected or confirmed)
  or a later case repeats it (the chain's first petition);
- 积案 on D = unfinished cases that are long-running or repeats.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import OPEN_STATES, Case, State

from . import conf


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def unfinished_on(qs, day: dt.date):
    end = _end_of(day)
    return qs.filter(registered_at__lt=end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))


def _repeat_q():
    """A case in a repeat chain: it repeats an earlier case, or a later case repeats it (links not
    dismissed, `xinfang.dedup.service.live_links`), as SQL subqueries so the ledger stays one
    query over a million cases."""
    from xinfang.dedup.service import live_links

    live = live_links()
    return Q(Exists(live.filter(case_id=OuterRef("pk")))) | Q(Exists(live.filter(earlier_id=OuterRef("pk"))))


def _long_q(day: dt.date):
    days = conf.get("COORDINATION_BACKLOG_DAYS")
    return Q(registered_at__lt=_end_of(day - dt.timedelta(days=days + 1)))


def backlog_queryset(user, day: dt.date):
    """积案 on `day` among the cases `user` may see."""
    return unfinished_on(cases_visible_to(user), day).filter(_long_q(day) | _repeat_q())


def backlog_ids_on(user, day: dt.date) -> tuple[set[int], set[int], set[int]]:
    """(积案 ids, long-running ids, repeat ids) on `day` among the cases `user` may see."""
    base = unfinished_on(cases_visible_to(user), day)
    long_ids = set(base.filter(_long_q(day)).values_list("pk", flat=True))
    repeats = set(base.filter(_repeat_q()).values_list("pk", flat=True))
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
    before = backlog_queryset(user, start)
    now = backlog_queryset(user, end)
    base_now = unfinished_on(cases_visible_to(user), end)
    return Progress(
        start=start, end=end, at_start=before.count(),
        resolved=before.filter(closed_at__gte=_end_of(start), closed_at__lt=_end_of(end)).count(),
        added=now.exclude(pk__in=before.values("pk")).count(), now=now.count(),
        long_now=base_now.filter(_long_q(end)).count(), repeat_now=base_now.filter(_repeat_q()).count())


def backlog_cases(user, day: dt.date | None = None, limit: int | None = None):
    """The 积案 now, oldest first (the first `limit`), with `is_long`, `is_repeat` and `age_days`."""
    day = day or timezone.localdate()
    qs = (backlog_queryset(user, day).annotate(is_repeat=_repeat_exists())
          .select_related("current_organ", "region").order_by("registered_at", "pk"))
    if limit:
        qs = qs[:limit]
    cutoff = _end_of(day - dt.timedelta(days=conf.get("COORDINATION_BACKLOG_DAYS") + 1))
    rows = list(qs.iterator(chunk_size=2000)) if not limit else list(qs)
    for c in rows:
        c.is_long = c.registered_at < cutoff
        c.age_days = (day - timezone.localdate(c.registered_at)).days
    return rows


def _repeat_exists():
    from django.db.models import ExpressionWrapper, BooleanField

    return ExpressionWrapper(_repeat_q(), output_field=BooleanField())


@dataclass
class Watch:
    case: Case
    reasons: list[str] = field(default_factory=list)


def watch_list(user, day: dt.date | None = None, limit: int = 500) -> list[Watch]:
    """防变: open cases at risk — many petitioners (or a group visit), repeated petitions, overdue,
    or 挂牌督办 — most reasons first (the first `limit`)."""
    from django.db.models import BooleanField, ExpressionWrapper, IntegerField, Value
    from django.db.models.functions import Cast

    from xinfang.supervision.models import CaseListing

    day = day or timezone.localdate()
    heads = conf.get("COORDINATION_WATCH_HEAD_COUNT")
    crowd_q = Q(head_count__gte=heads) | Q(group_visit=True)
    overdue_q = Q(due_on__lt=day)
    listed_q = Q(Exists(CaseListing.objects.filter(case_id=OuterRef("pk"), cleared_at__isnull=True)))
    repeat_q = _repeat_q()

    def flag(q):
        return Cast(ExpressionWrapper(q, output_field=BooleanField()), IntegerField())

    qs = (cases_visible_to(user).filter(state__in=OPEN_STATES).filter(crowd_q | overdue_q | repeat_q | listed_q)
          .annotate(w_crowd=flag(crowd_q), w_repeat=flag(repeat_q), w_overdue=flag(overdue_q), w_listed=flag(listed_q))
          .annotate(w_n=F("w_crowd") + F("w_repeat") + F("w_overdue") + F("w_listed") + Value(0))
          .select_related("current_organ", "region").order_by("-w_n", F("due_on").asc(nulls_last=True), "pk")[:limit])
    out = []
    for c in qs:
        w = Watch(c)
        if c.w_crowd:
            w.reasons.append(_("集体访") if c.group_visit else _("%(n)s人联名") % {"n": c.head_count})
        if c.w_repeat:
            w.reasons.append(_("重复信访"))
        if c.w_overdue:
            w.reasons.append(_("超期"))
        if c.w_listed:
            w.reasons.append(_("挂牌督办"))
        out.append(w)
    return out


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
    wb = Workbook(write_only=True)  # streams rows: a ledger of many thousand cases stays light
    ws = wb.create_sheet(_("减存进度"))
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
