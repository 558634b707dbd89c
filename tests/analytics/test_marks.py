"""Stale-day marks (aggregates.mark_days / refresh): append-only, never waited on, and a refresh
clears only the marks it read."""
from __future__ import annotations

import datetime as dt

from xinfang.analytics import aggregates
from xinfang.analytics.models import DailyStat, DirtyDay

DAY = dt.date(2026, 5, 4)


def test_every_mark_is_a_row_and_a_day_is_counted_once(db):
    aggregates.mark_days([DAY, DAY, None])
    aggregates.mark_days([DAY, DAY + dt.timedelta(days=1)])
    assert DirtyDay.objects.count() == 3  # plain inserts: no unique day to wait on
    assert aggregates.stale_days() == 2


def test_a_mark_written_after_the_refresh_read_its_marks_stays_for_the_next(cast, register, monkeypatch):
    """A mark committed while a refresh rebuilds may be for a change that rebuild did not see: the
    refresh clears only what it read, so the next one rebuilds the day again."""
    register()
    day = DirtyDay.objects.values_list("day", flat=True).first()
    real = aggregates._rebuild_range

    def rebuild_then_someone_marks(lo, hi, today):
        written = real(lo, hi, today)
        aggregates.mark_days([day])  # another transaction marks the day meanwhile
        return written

    monkeypatch.setattr(aggregates, "_rebuild_range", rebuild_then_someone_marks)
    aggregates.refresh()
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [day]
    monkeypatch.setattr(aggregates, "_rebuild_range", real)
    aggregates.refresh()
    assert not DirtyDay.objects.exists() and DailyStat.objects.filter(day=day).exists()
