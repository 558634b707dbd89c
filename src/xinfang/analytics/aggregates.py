"""Daily aggregates so a dashboard over a million cases reads a few thousand rows, not the cases.

Each case counts on the local day it was received, for its responsible organ, in five breakdowns
("all", channel, category, topic, region). The counters are exactly `metrics.counters()`; a day's
rows are rebuilt from the cases (delete + insert in one transaction), so a rebuild is idempotent.
Months are rolled up from their days (grain "m") so a year-long period reads 12 rows per slice.

What makes a day stale, and how it is refreshed:
- a case saved or deleted (signal) or created in bulk (`cases_created`) marks its received day
  in DirtyDay; a duplicate-detection link does the same for both cases it links;
- a limit running out changes "overdue" with nothing saved: `refresh()` also marks the days of
  cases whose open limit ran out since the last refresh;
- `refresh()` rebuilds the marked days (the job every few minutes; the dashboard on opening when
  few days are marked); `refresh(full=True)` / `xinfang analytics refresh --full` rebuilds all.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, Min, Max, Q, Sum
from django.utils import timezone

from xinfang.cases.models import Case
from xinfang.deadlines.models import Deadline

from .metrics import (
    COUNTER_NAMES, accused_key, counters, day_bounds, local_day, organ_scope, responsible_organ,
)
from .models import DailyStat, DirtyDay, Grain, JobState

BREAKDOWNS = {"channel": "channel", "category": "category", "topic": "topic_id", "region": "region_id"}
CHUNK_DAYS = 31


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# --------------------------------------------------------------------------- marking


def mark_days(days) -> None:
    """Mark `days` stale, inside the caller's transaction: plain inserts, which never wait for
    another transaction (see DirtyDay)."""
    days = {d for d in days if d}
    if days:
        # The bulk Inserter, not bulk_create: an import batch marks hundreds of days, and building
        # a model instance and its SQL per mark cost more than the insert.
        from xinfang.demo.writer import Inserter

        Inserter(DirtyDay, ["day"]).insert([(d,) for d in sorted(days)])


def mark_cases(case_ids) -> None:
    ids = list(case_ids)
    for i in range(0, len(ids), 5000):
        days = (Case.objects.filter(pk__in=ids[i:i + 5000]).annotate(d=local_day())
                .values_list("d", flat=True).distinct())
        mark_days(days)


def _mark_newly_overdue(today: dt.date) -> None:
    """Mark the days of cases whose open limit ran out since the last check (nothing was saved,
    yet their 超期 counters changed)."""
    state, _created = JobState.objects.get_or_create(key="overdue_checked", defaults={"value": ""})
    last = dt.date.fromisoformat(state.value) if state.value else None
    if last is not None and last >= today:
        return
    qs = Deadline.objects.filter(is_open=True, due_on__lt=today)
    if last is not None:
        qs = qs.filter(due_on__gte=last - dt.timedelta(days=1))
    days = (Case.objects.filter(pk__in=qs.values("case_id")).annotate(d=local_day())
            .values_list("d", flat=True).distinct())
    mark_days(days)
    JobState.objects.filter(key="overdue_checked").update(value=today.isoformat())


# --------------------------------------------------------------------------- rebuilding


def _fine_rows(lo_day: dt.date, hi_day: dt.date, today: dt.date):
    """Counters grouped by (day, organ, accused, channel, category, topic, region)."""
    lo, hi = day_bounds(lo_day, hi_day)
    qs = (Case.objects.filter(received_at__gte=lo, received_at__lt=hi)
          .annotate(d=local_day(), org=responsible_organ(), acc=accused_key())
          .values("d", "org", "acc", "channel", "category", "topic_id", "region_id").order_by())
    annotations = {name: Count("pk", filter=q) if q else Count("pk") for name, q in counters(today).items()}
    return qs.annotate(**annotations)


def _rebuild_range(lo_day: dt.date, hi_day: dt.date, today: dt.date) -> int:
    """Replace the day rows of [lo_day, hi_day] with the counters of the cases received then.

    One `INSERT … SELECT` in the database: the fine rows (`_fine_rows`, the ORM's own SQL of
    `counters()`) are computed once as a CTE and summed into the five breakdowns there. Fetching
    them into Python and sending the sums back as multi-row INSERTs cost ~1 s per 1,000 rows on
    PostgreSQL (client-side binding of 28,000 parameters), i.e. hours for a million cases."""
    fine_sql, params = _fine_rows(lo_day, hi_day, today).query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(DailyStat._meta.db_table)
    head = f"{qn('d')} AS b_day, {qn('org')} AS b_org, COALESCE({qn('acc')}, 0) AS b_acc"
    values = ", ".join(qn(n) for n in COUNTER_NAMES)
    # Keys as the dashboard reads them: the value as text, "" when empty (str() of an id is its
    # digits, as CAST … AS TEXT gives on both engines). The first branch names the columns.
    branches = [f"SELECT {head}, 'all' AS b_dim, '' AS b_key, {values} FROM fine"]
    branches += [f"SELECT {head}, '{dim}', COALESCE(CAST({qn(f)} AS TEXT), ''), {values} FROM fine"
                 for dim, f in BREAKDOWNS.items()]
    sums = ", ".join(f"SUM({qn(n)})" for n in COUNTER_NAMES)
    DailyStat.objects.filter(grain=Grain.DAY, day__gte=lo_day, day__lte=hi_day).delete()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A month of a million cases costs the planner ~10^6: PostgreSQL then JIT-compiles the
            # 22 counters (10 s of a 19 s query), and 4 MB of work_mem sends the sorts to disk.
            # SET LOCAL: both end with the transaction.
            cur.execute("SET LOCAL jit = off")
            cur.execute("SET LOCAL work_mem = '128MB'")
        cur.execute(
            # INSERT first: Python's sqlite3 reports rowcount only for statements starting so.
            f"INSERT INTO {table} ({', '.join(qn(c) for c in _columns())}) "
            f"WITH fine AS ({fine_sql}) "
            f"SELECT %s, b_day, b_org, b_acc, b_dim, b_key, {sums} "
            f"FROM ({' UNION ALL '.join(branches)}) AS b "
            f"GROUP BY b_day, b_org, b_acc, b_dim, b_key",
            [*params, Grain.DAY.value])
        return max(cur.rowcount, 0)


def _columns() -> list[str]:
    return ["grain", "day", "organ_id", "accused_id", "dim", "key", *COUNTER_NAMES]


def _rollup_month(month: dt.date) -> None:
    """The month's rows (grain m) as sums of its days, in one INSERT … SELECT."""
    end = _next_month(month) - dt.timedelta(days=1)
    DailyStat.objects.filter(grain=Grain.MONTH, day=month).delete()
    qn = connection.ops.quote_name
    table = qn(DailyStat._meta.db_table)
    group = ", ".join(qn(c) for c in ("organ_id", "accused_id", "dim", "key"))
    sums = ", ".join(f"SUM({qn(n)})" for n in COUNTER_NAMES)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} ({', '.join(qn(c) for c in _columns())}) "
            f"SELECT %s, %s, {group}, {sums} FROM {table} "
            f"WHERE {qn('grain')} = %s AND {qn('day')} >= %s AND {qn('day')} <= %s GROUP BY {group}",
            [Grain.MONTH.value, adapt(month), Grain.DAY.value, adapt(month), adapt(end)])


def refresh_days(days, today: dt.date | None = None, *, marks: dict | None = None) -> int:
    """Rebuild the aggregates of `days` and the months they fall in. Returns rows written.
    `marks` ({day: [DirtyDay ids]}, as read by `refresh`) are the marks to clear; without it,
    every mark of the rebuilt days is cleared."""
    today = today or timezone.localdate()
    days = sorted(set(days))
    written = 0
    # Consecutive days are rebuilt together, CHUNK_DAYS at a time (one grouped query each).
    runs: list[list[dt.date]] = []
    for d in days:
        if runs and (d - runs[-1][-1]).days == 1 and len(runs[-1]) < CHUNK_DAYS:
            runs[-1].append(d)
        else:
            runs.append([d])
    months = set()
    for run in runs:
        with transaction.atomic():
            written += _rebuild_range(run[0], run[-1], today)
            if marks is None:
                DirtyDay.objects.filter(day__in=run).delete()
            else:
                # Only the marks read before the rebuild: one committed meanwhile may be for a
                # change the rebuild did not see, and stays for the next refresh.
                read = [pk for d in run for pk in marks.get(d, ())]
                for i in range(0, len(read), 5000):
                    DirtyDay.objects.filter(pk__in=read[i:i + 5000]).delete()
        months.update(_month(d) for d in run)
    for m in sorted(months):
        with transaction.atomic():
            _rollup_month(m)
    return written


def refresh(*, full: bool = False, max_days: int | None = None, today: dt.date | None = None) -> int:
    """Rebuild what is stale (or, with full=True, every day that has cases). With `max_days`,
    only when at most that many days are stale (returns -1 otherwise). Idempotent."""
    today = today or timezone.localdate()
    if full:
        span = Case.objects.aggregate(lo=Min("received_at"), hi=Max("received_at"))
        DailyStat.objects.all().delete()
        JobState.objects.update_or_create(key="overdue_checked", defaults={"value": today.isoformat()})
        if span["lo"] is None:
            DirtyDay.objects.all().delete()
            return 0
        lo, hi = timezone.localdate(span["lo"]), timezone.localdate(span["hi"])
        days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
        DirtyDay.objects.all().delete()
        return refresh_days(days, today)
    _mark_newly_overdue(today)
    marks: dict[dt.date, list[int]] = defaultdict(list)
    for pk, day in DirtyDay.objects.values_list("pk", "day"):
        marks[day].append(pk)
    if max_days is not None and len(marks) > max_days:
        return -1
    if not marks:
        return 0
    return refresh_days(list(marks), today, marks=marks)


def stale_days() -> int:
    return DirtyDay.objects.values("day").distinct().count()


def last_refresh():
    return JobState.objects.filter(key="overdue_checked").values_list("updated_at", flat=True).first()


# --------------------------------------------------------------------------- reading


def _period_pieces(start: dt.date, end: dt.date) -> list[Q]:
    """Rows covering [start, end]: whole months from the monthly roll-up, the edges from days.
    Each piece is queried on its own so every query is a plain range on the (grain, dim, day)
    index (an OR of the pieces makes SQLite scan the whole table)."""
    first_month = _month(start) if start.day == 1 else _next_month(start)
    month, months = first_month, []
    while _next_month(month) - dt.timedelta(days=1) <= end:
        months.append(month)
        month = _next_month(month)
    if not months:
        return [Q(grain=Grain.DAY, day__gte=start, day__lte=end)]
    pieces = [Q(grain=Grain.MONTH, day__in=months)]
    head_end, tail_start = months[0] - dt.timedelta(days=1), _next_month(months[-1])
    if start <= head_end:
        pieces.append(Q(grain=Grain.DAY, day__gte=start, day__lte=head_end))
    if tail_start <= end:
        pieces.append(Q(grain=Grain.DAY, day__gte=tail_start, day__lte=end))
    return pieces


def _scoped(user, organ):
    qs = DailyStat.objects.all()
    scope = organ_scope(user, organ)
    if scope is not None:
        qs = qs.filter(organ_id__in=scope)
    if not getattr(user, "is_superuser", False) and getattr(user, "organ_id", None):
        qs = qs.exclude(accused_id=user.organ_id)
    return qs


def _grouped(user, organ, start, end, dims, group: tuple[str, ...], fields) -> dict[tuple, dict[str, int]]:
    """{group values: {counter: sum}} over the period's rows of `dims`."""
    base = _scoped(user, organ).filter(dim__in=list(dims))
    out: dict[tuple, dict[str, int]] = {}
    for piece in _period_pieces(start, end):
        qs = base.filter(piece)
        if group:
            rows = qs.values(*group).order_by().annotate(**{f"s_{f}": Sum(f) for f in fields})
        else:
            rows = [qs.aggregate(**{f"s_{f}": Sum(f) for f in fields})]
        for r in rows:
            key = tuple(r[g] for g in group)
            acc = out.setdefault(key, {f: 0 for f in fields})
            for f in fields:
                acc[f] += int(r[f"s_{f}"] or 0)
    return out


def sum_counters(user, *, organ=None, start: dt.date, end: dt.date) -> dict[str, int]:
    return _grouped(user, organ, start, end, ["all"], (), COUNTER_NAMES).get((), {n: 0 for n in COUNTER_NAMES})


def breakdowns(user, *, organ=None, start: dt.date, end: dt.date, fields=("received",)) -> dict[str, dict[str, dict]]:
    """{dimension: {key: {counter: n}}} for channel, category, topic, region and organ."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for (dim, key), sums in _grouped(user, organ, start, end, list(BREAKDOWNS), ("dim", "key"), fields).items():
        out[dim][key] = sums
    for (organ_id,), sums in _grouped(user, organ, start, end, ["all"], ("organ_id",), fields).items():
        out["organ"][str(organ_id)] = sums
    return out


def trend(user, *, organ=None, start: dt.date, end: dt.date, fields=("received",)) -> tuple[str, list[tuple[str, dict]]]:
    """("day", [(YYYY-MM-DD, {counter: n})…]) for periods up to 62 days, else ("month", …)."""
    by_day = _grouped(user, organ, start, end, ["all"], ("day",), fields)
    if (end - start).days <= 62:
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        return "day", [(d.isoformat(), by_day.get((d,), {f: 0 for f in fields})) for d in days]
    found: dict[dt.date, dict] = defaultdict(lambda: {f: 0 for f in fields})
    for (day,), sums in by_day.items():
        m = _month(day)
        for f in fields:
            found[m][f] += sums[f]
    out, month = [], _month(start)
    while month <= end:
        out.append((month.strftime("%Y-%m"), dict(found[month])))
        month = _next_month(month)
    return "month", out
