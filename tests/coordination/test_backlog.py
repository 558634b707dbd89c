"""积案 ledger: counts on hand-built fixtures, the watch list and the XLSX export."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from xinfang.cases.models import Case
from xinfang.coordination import backlog as bl


def _aged(case, days_before):
    """Pretend `case` was registered `days_before` days before 2026-06-01 (hand-built fixture)."""
    when = timezone.make_aware(dt.datetime(2026, 6, 1, 9)) - dt.timedelta(days=days_before)
    Case.objects.filter(pk=case.pk).update(registered_at=when, received_at=when)


def _closed(case, day):
    Case.objects.filter(pk=case.pk).update(state="closed", closed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))))


@pytest.fixture
def ledger(cast, make_case, no_links):
    """old: 200 d, open; old_closed: 200 d, closed 2026-03-01 (in the period); young: 10 d;
    repeat: 10 d, repeats `first` (closed long ago, before the period)."""
    from xinfang.dedup.models import Kind, Link

    c = {name: make_case("handling", title=name) for name in ("old", "old_closed", "young", "repeat", "first")}
    no_links()
    _aged(c["old"], 200)
    _aged(c["old_closed"], 200)
    _closed(c["old_closed"], dt.date(2026, 3, 1))
    _aged(c["young"], 10)
    _aged(c["repeat"], 10)
    _aged(c["first"], 400)
    _closed(c["first"], dt.date(2025, 10, 1))
    Link.objects.create(case=c["repeat"], earlier=c["first"], root=c["first"], kind=Kind.REPEAT, score=0.9, same_person=True)
    return c


def test_backlog_now(cast, ledger):
    ids, long_ids, repeats = bl.backlog_ids_on(cast.supervisor, dt.date(2026, 6, 1))
    assert long_ids == {ledger["old"].pk}
    assert repeats == {ledger["repeat"].pk}
    assert ids == {ledger["old"].pk, ledger["repeat"].pk}


def test_progress_over_the_year(cast, ledger):
    p = bl.progress(cast.supervisor, dt.date(2026, 1, 1), dt.date(2026, 6, 1))
    # On 1 January: old and old_closed were registered 2025-11-13 (>90 d? no: 49 d) → not yet 积案;
    # first was filed in 2025; repeat did not exist yet.
    assert (p.at_start, p.resolved, p.added, p.now) == (0, 0, 2, 2)


def test_progress_counts_resolved_backlog(cast, ledger):
    # On 2026-02-20 old and old_closed were 99 days old: both 积案; old_closed was filed 03-01.
    p = bl.progress(cast.supervisor, dt.date(2026, 2, 20), dt.date(2026, 6, 1))
    assert (p.at_start, p.resolved, p.added, p.now) == (2, 1, 1, 2)
    assert p.reduction_percent == 50.0


def test_backlog_days_is_a_setting(cast, ledger, settings):
    settings.COORDINATION_BACKLOG_DAYS = 5
    _ids, long_ids, _r = bl.backlog_ids_on(cast.supervisor, dt.date(2026, 6, 1))
    assert long_ids == {ledger["old"].pk, ledger["young"].pk, ledger["repeat"].pk}


def test_other_organ_sees_no_backlog(cast, ledger):
    ids, _l, _r = bl.backlog_ids_on(cast.other, dt.date(2026, 6, 1))
    assert ids == set()


def test_watch_list_reasons(cast, make_case, no_links, travel):
    from xinfang.supervision.services import list_case

    crowd = make_case("handling", title="集体", head_count=8)
    listed = make_case("handling", title="挂牌")
    quiet = make_case("handling", title="平静")
    no_links()
    list_case(cast.supervisor, listed, reason="久拖不决")
    travel(dt.date(2026, 8, 15))  # past the 60-day limit: every handling case is overdue
    watch = {w.case.pk: w.reasons for w in bl.watch_list(cast.supervisor)}
    assert watch[crowd.pk] == ["8人联名", "超期"]
    assert watch[listed.pk] == ["超期", "挂牌督办"]
    assert watch[quiet.pk] == ["超期"]


def test_watch_list_empty_when_nothing_at_risk(cast, make_case, no_links):
    make_case("handling")
    no_links()
    assert bl.watch_list(cast.supervisor) == []


def test_xlsx_export(as_user, cast, ledger):
    from openpyxl import load_workbook

    r = as_user(cast.supervisor).get("/coordination/backlog.xlsx?start=2026-02-20")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["减存进度", "积案台账", "防变清单"]
    summary = {row[0]: row[1] for row in wb["减存进度"].iter_rows(min_row=2, values_only=True)}
    assert (summary["期初积案"], summary["本期化解(期初积案已办结)"], summary["当前积案"]) == (2, 1, 2)
    numbers = [row[0] for row in wb["积案台账"].iter_rows(min_row=2, values_only=True)]
    assert numbers == [ledger["old"].number, ledger["repeat"].number]


def test_backlog_page(as_user, cast, ledger):
    page = as_user(cast.supervisor).get("/coordination/backlog/").content.decode()
    assert ledger["old"].number in page and "重复信访" in page
    assert ledger["young"].number not in page.split("积案</h2>")[-1] if "积案</h2>" in page else True


def test_backlog_list_is_oldest_first_and_limited(cast, ledger):
    assert [c.pk for c in bl.backlog_cases(cast.supervisor)] == [ledger["old"].pk, ledger["repeat"].pk]
    rows = bl.backlog_cases(cast.supervisor, limit=1)
    assert [(c.pk, c.is_long, c.is_repeat) for c in rows] == [(ledger["old"].pk, True, False)]


def test_dismissed_link_is_no_repeat(cast, ledger):
    from xinfang.dedup.models import Link, Status

    Link.objects.update(status=Status.DISMISSED)
    ids, _l, repeats = bl.backlog_ids_on(cast.supervisor, dt.date(2026, 6, 1))
    assert repeats == set() and ids == {ledger["old"].pk}
