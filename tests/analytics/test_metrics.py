"""Metric formulas of REGULATION.md §7 on hand-built cases (docs/metrics.md)."""
import datetime as dt

import pytest

from xinfang.analytics import aggregates
from xinfang.analytics.metrics import compute_metrics, live_breakdowns
from xinfang.cases import workflow
from xinfang.cases.models import Channel, RouteKind

from tests.conftest import NOW
from .conftest import END, START


def metrics(user, **kw):
    return compute_metrics(user, start=kw.pop("start", START), end=kw.pop("end", END), **kw)


def test_timely_acceptance_buckets(cast, register, route, travel):
    """Art.23: acceptance notice within 15 days — 及时, 超期受理, 超期未受理; a limit not yet run out
    is not counted."""
    travel(dt.date(2026, 5, 4))
    on_time = route(register(received_at=NOW.replace(month=5, day=4) - dt.timedelta(hours=1)))
    late = route(register(received_at=NOW.replace(month=5, day=4) - dt.timedelta(hours=1)))
    never = route(register(received_at=NOW.replace(month=5, day=4) - dt.timedelta(hours=1)))
    workflow.accept_case(cast.handler, on_time, route="r6")
    travel(dt.date(2026, 5, 25))  # 21 days after routing: past the 15-day limit
    workflow.accept_case(cast.handler, late, route="r6")
    fresh = route(register(received_at=NOW.replace(month=5, day=25) - dt.timedelta(hours=1)))
    m = metrics(cast.admin)["timely_acceptance"]
    assert (m.numerator, m.denominator) == (1, 3)
    assert m.buckets == {"timely": 1, "late": 1, "overdue": 1}
    assert set(m.cases("late")) == {late} and set(m.cases("overdue")) == {never}
    assert fresh not in set(m.cases("denominator"))
    assert m.rate == pytest.approx(1 / 3)


def test_on_time_completion_with_extension(cast, make_case, travel):
    """Art.34: 60 days, extended once by ≤30 days — an extended case replied on day 80 is on time."""
    extended = make_case("handling")
    plain = make_case("handling")
    overdue = make_case("handling")
    travel(NOW + dt.timedelta(days=50))
    workflow.extend_deadline(cast.head, extended, days=30, reason="需进一步调查")
    travel(NOW + dt.timedelta(days=80))
    for case in (extended, plain):
        workflow.reply_case(cast.handler, case, outcome="support", opinion="已处理", facts="属实", basis="依据")
    m = metrics(cast.admin, end=dt.date(2026, 8, 31))["on_time_completion"]
    assert m.buckets == {"timely": 1, "late": 1, "overdue": 1}
    assert set(m.cases("numerator")) == {extended}
    assert set(m.cases("late")) == {plain} and set(m.cases("overdue")) == {overdue}


def test_pending_limit_is_not_overdue(cast, make_case, travel):
    case = make_case("handling")
    from xinfang.deadlines.models import Deadline

    Deadline.objects.filter(case=case, rule_id="handle").update(due_on=None, pending_year=2027)
    travel(NOW + dt.timedelta(days=200))
    m = metrics(cast.admin)["on_time_completion"]
    assert m.denominator == 0 and m.rate is None


def test_satisfaction_bureau_and_organ_apart(cast, make_case):
    a, b, c = make_case("replied"), make_case("replied"), make_case("replied")
    make_case("handling")
    workflow.evaluate_case(cast.registrar, a, organ_satisfaction="satisfied", bureau_satisfaction="unsatisfied")
    workflow.evaluate_case(cast.registrar, b, organ_satisfaction="unsatisfied", bureau_satisfaction="basic")
    m = metrics(cast.admin)
    assert (m["participation"].numerator, m["participation"].denominator) == (2, 3)
    assert (m["satisfaction_organ"].numerator, m["satisfaction_organ"].denominator) == (1, 2)
    assert (m["satisfaction_bureau"].numerator, m["satisfaction_bureau"].denominator) == (1, 2)
    assert set(m["satisfaction_organ"].cases()) == {a}
    assert c in set(m["participation"].cases("denominator"))


def test_rates_of_repeat_online_skip_level(cast, register):
    first = register()
    register(related_case=first)
    register(channel=Channel.ONLINE)
    register(channel=Channel.VISIT, skip_level=True)
    register(channel=Channel.VISIT)
    m = metrics(cast.admin)
    assert (m["received"].numerator, m["received"].denominator) == (5, None)
    assert (m["repeat_rate"].numerator, m["repeat_rate"].denominator) == (1, 5)
    assert (m["online_share"].numerator, m["online_share"].denominator) == (1, 5)
    assert (m["skip_level_rate"].numerator, m["skip_level_rate"].denominator) == (1, 2)


def test_first_resolution(cast, make_case, travel):
    """一次性化解: a closed first petition with no repeat, no 复查 request and no 不满意."""
    good, unhappy, repeated = make_case("replied"), make_case("replied"), make_case("replied")
    reviewed = make_case("reviewed")
    workflow.evaluate_case(cast.registrar, unhappy, organ_satisfaction="unsatisfied")
    workflow.register_case(cast.registrar, {**__import__("tests.conftest", fromlist=["x"]).petition_data(), "related_case": repeated},
                           [workflow.PetitionerData(name="刘市民")])
    travel(NOW + dt.timedelta(days=45))
    assert workflow.sweep_closable() == 4
    m = metrics(cast.admin, end=dt.date(2026, 7, 31))["first_resolution"]
    assert m.denominator == 4  # the repeat petition itself is not a first petition (and is open)
    assert set(m.cases()) == {good}
    assert reviewed in set(m.cases("denominator"))


def test_assigned_resolution_and_transfer(cast, register, route):
    """交办件化解率; a transferred case counts for the organ that handles it."""
    due = dt.date(2026, 6, 20)
    a = route(register(), kind=RouteKind.ASSIGN, assigned_due=due)
    b = route(register(), kind=RouteKind.ASSIGN, assigned_due=due)
    a = workflow.accept_case(cast.handler, a, route="r6")
    workflow.reply_case(cast.handler, a, outcome="support", opinion="已办", facts="属实", basis="依据", report="办结报告")
    register()  # still at the bureau
    m = metrics(cast.admin)
    assert (m["assigned_resolution"].numerator, m["assigned_resolution"].denominator) == (1, 2)
    housing = metrics(cast.admin, organ=cast.housing)
    assert housing["received"].numerator == 2  # b waits at housing (current organ); a handled there
    assert set(housing["assigned_resolution"].cases("denominator")) == {a, b}
    bureau = metrics(cast.admin, organ=cast.bureau)
    assert bureau["received"].numerator == 1 and bureau["assigned_resolution"].denominator == 0


def test_claim_mediation_rate(cast, make_case):
    from xinfang.cases.models import Event

    a, b = make_case("replied"), make_case("replied")
    Event.objects.create(case=a, action="mediation_agreement", to_state=a.state)
    m = metrics(cast.admin)["mediation_rate"]
    assert (m.numerator, m.denominator) == (1, 2)
    assert set(m.cases()) == {a}


def test_period_selects_by_received_day(cast, register, travel):
    register(received_at=NOW.replace(month=4, day=30, hour=23))
    register(received_at=NOW.replace(month=5, day=1, hour=0, minute=30))
    assert metrics(cast.admin, end=dt.date(2026, 5, 1))["received"].numerator == 1
    assert metrics(cast.admin, start=dt.date(2026, 4, 30), end=dt.date(2026, 4, 30))["received"].numerator == 1


def test_visibility_never_leaks(cast, make_case, register, route):
    make_case("handling")  # at housing
    route(register(), organ=cast.labour)  # at labour
    register(category="report", accused_organ=cast.urban)
    other = metrics(cast.other)
    assert other["received"].numerator == 1
    # The accused organ's staff never count the report against them, nor see it in a drill-down.
    assert metrics(cast.accused)["received"].numerator == 0
    from django.http import Http404

    with pytest.raises(Http404):
        metrics(cast.other, organ=cast.housing)
    with pytest.raises(Http404):
        metrics(cast.supervisor, organ=cast.housing)  # housing is not under the bureau
    assert metrics(cast.citizen)["received"].numerator == 0


@pytest.mark.parametrize("who", ["admin", "supervisor", "other", "accused", "handler", "leader"])
def test_aggregates_equal_live_figures(cast, make_case, register, route, travel, who):
    make_case("replied")
    make_case("handling", channel=Channel.ONLINE)
    route(register(), organ=cast.labour)
    register(category="report", accused_organ=cast.urban)
    register(channel=Channel.VISIT, skip_level=True, received_at=NOW - dt.timedelta(days=20))
    travel(NOW + dt.timedelta(days=20))
    aggregates.refresh()
    user = getattr(cast, who)
    live = metrics(user, end=dt.date(2026, 8, 1))
    fast = metrics(user, end=dt.date(2026, 8, 1), fast=True)
    assert {k: m.as_dict() for k, m in live.items()} == {k: m.as_dict() for k, m in fast.items()}
    for m in live.values():
        assert m.cases("numerator").count() == m.numerator
    lb = live_breakdowns(user, start=START, end=dt.date(2026, 8, 1))
    fb = aggregates.breakdowns(user, start=START, end=dt.date(2026, 8, 1))
    for dim, values in lb.items():
        assert {k: v for k, v in values.items()} == {k: v["received"] for k, v in fb.get(dim, {}).items() if v["received"]}


def test_refresh_is_idempotent_and_follows_changes(cast, make_case, travel):
    case = make_case("handling")
    aggregates.refresh()
    first = list(aggregates.DailyStat.objects.order_by("pk").values_list("grain", "day", "dim", "key", "received", "done_overdue"))
    aggregates.refresh(full=True)
    again = list(aggregates.DailyStat.objects.order_by("pk").values_list("grain", "day", "dim", "key", "received", "done_overdue"))
    assert sorted(first) == sorted(again)
    travel(NOW + dt.timedelta(days=70))  # the handling limit runs out with nothing saved
    aggregates.refresh()
    fast = compute_metrics(cast.admin, start=START, end=END, fast=True)["on_time_completion"]
    assert fast.buckets["overdue"] == 1
    workflow.reply_case(cast.handler, case, outcome="support", opinion="已处理", facts="属实", basis="依据")
    aggregates.refresh()
    fast = compute_metrics(cast.admin, start=START, end=END, fast=True)["on_time_completion"]
    assert fast.buckets == {"timely": 0, "late": 1, "overdue": 0}


def test_case_spanning_periods_counts_where_it_was_received(cast, make_case, travel):
    case = make_case("handling", received_at=NOW.replace(month=5, day=31, hour=8))
    travel(dt.date(2026, 6, 10))
    workflow.reply_case(cast.handler, case, outcome="support", opinion="已处理", facts="属实", basis="依据")
    workflow.evaluate_case(cast.registrar, case, organ_satisfaction="basic")
    may = metrics(cast.admin, start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 31))
    june = metrics(cast.admin, start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30))
    assert may["received"].numerator == 1 and may["satisfaction_organ"].numerator == 1
    assert may["on_time_completion"].buckets["timely"] == 1
    assert june["received"].numerator == 0 and june["satisfaction_organ"].denominator == 0


def test_objection_refused_latest_acceptance_limit_decides(cast, register, route, travel):
    """Art.23 ¶3: labour objects in time, the bureau refuses; labour's new 15-day limit decides."""
    case = route(register(), organ=cast.labour)
    workflow.object_case(cast.other, case, reason="不属于本机关职责")
    workflow.decide_objection(cast.registrar, case, agree=False, note="属于贵单位职责")
    travel(NOW + dt.timedelta(days=20))
    m = metrics(cast.admin)["timely_acceptance"]
    assert m.buckets == {"timely": 0, "late": 0, "overdue": 1}
    assert metrics(cast.admin, organ=cast.labour)["timely_acceptance"].denominator == 1


def test_confirmed_duplicate_link_is_a_repeat(cast, register):
    from xinfang.dedup.models import Kind, Link, Status

    first, later, suspected = register(), register(), register()
    Link.objects.all().delete()  # the receiver's own suspicions; this test sets the links itself
    Link.objects.create(case=later, earlier=first, root=first, kind=Kind.REPEAT, score=0.9, status=Status.CONFIRMED)
    Link.objects.create(case=suspected, earlier=first, root=first, kind=Kind.REPEAT, score=0.8, status=Status.SUSPECTED)
    m = metrics(cast.admin)["repeat_rate"]
    assert (m.numerator, m.denominator) == (1, 3) and set(m.cases()) == {later}
    # The link marks both days stale, so the dashboard follows.
    aggregates.refresh()
    assert compute_metrics(cast.admin, start=START, end=END, fast=True)["repeat_rate"].numerator == 1


def test_mediation_desk_agreements_count(cast, make_case):
    """调解协议率 follows the mediation desk (Art.33): an agreement counts even before a reply."""
    from xinfang.mediation.models import Mediation

    replied, agreed_open, failed = make_case("replied"), make_case("handling"), make_case("replied")
    common = dict(organ=cast.urban, referring_organ=cast.housing, referred_by=cast.handler, stage="handling")
    Mediation.objects.create(case=agreed_open, status="settled", **common)
    Mediation.objects.create(case=failed, status="failed", **common)
    m = metrics(cast.admin)["mediation_rate"]
    assert (m.numerator, m.denominator) == (1, 3)
    assert set(m.cases()) == {agreed_open} and replied in set(m.cases("denominator"))
    aggregates.refresh()
    assert compute_metrics(cast.admin, start=START, end=END, fast=True)["mediation_rate"].as_dict() == m.as_dict()


def test_full_rebuild_equals_incremental_refresh(cast, make_case, register, route, travel):
    """`refresh(full=True)` writes exactly the rows the day-by-day refreshes left behind (every
    counter, breakdown and month), after changes made between refreshes."""
    from xinfang.dedup.models import Kind, Link, Status
    from xinfang.mediation.models import Mediation

    handling = make_case("handling", channel=Channel.ONLINE)
    first = make_case("replied")
    route(register(), organ=cast.labour)
    register(category="report", accused_organ=cast.urban)
    register(channel=Channel.VISIT, skip_level=True, received_at=NOW - dt.timedelta(days=20))
    make_case("handling", received_at=NOW - dt.timedelta(days=40))
    settled = make_case("replied", received_at=NOW - dt.timedelta(days=45))
    aggregates.refresh()
    # Changes between refreshes: a reply, a confirmed repeat, a mediation agreement, limits running out.
    travel(NOW + dt.timedelta(days=3))
    later = register()
    Link.objects.update_or_create(case=later, earlier=first, defaults=dict(  # screening may have suspected it already
        root=first, kind=Kind.REPEAT, score=0.9, status=Status.CONFIRMED))
    travel(NOW + dt.timedelta(days=70))
    aggregates.refresh()  # the limits that ran out are counted here; what follows is marked by saving
    Mediation.objects.create(case=settled, status="agreed", organ=cast.urban, referring_organ=cast.housing,
                             referred_by=cast.handler, stage="handling")
    workflow.reply_case(cast.handler, handling, outcome="support", opinion="已处理", facts="属实", basis="依据")
    aggregates.refresh()
    columns = aggregates._columns()
    incremental = sorted(aggregates.DailyStat.objects.values_list(*columns))
    assert aggregates.refresh(full=True) > 0
    assert incremental and sorted(aggregates.DailyStat.objects.values_list(*columns)) == incremental
    assert {g for g, *_rest in incremental} == {"d", "m"}
    assert aggregates.stale_days() == 0
    live = metrics(cast.admin, start=dt.date(2026, 4, 1), end=dt.date(2026, 8, 31))
    fast = metrics(cast.admin, start=dt.date(2026, 4, 1), end=dt.date(2026, 8, 31), fast=True)
    assert {k: m.as_dict() for k, m in live.items()} == {k: m.as_dict() for k, m in fast.items()}
    assert live["on_time_completion"].buckets["overdue"] >= 1 and live["repeat_rate"].numerator == 1
    assert live["mediation_rate"].numerator == 1
