"""The demo generator (xinfang.demo) and `xinfang demo`.

The central test replays simulated cases through the real workflow services, step by step at the
simulated moments, and checks that the services write exactly the rows the generator writes.
Time is frozen at 2026-06-01 09:00 (conftest), so the past twelve months lie in calendar years
2025–2026, which the seeded calendar covers.
"""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from xinfang.cases import workflow
from xinfang.cases.models import OPEN_STATES, Case, CaseCounter, CaseOrgan, Event, Petitioner, State
from xinfang.cases.validators import validate_id_number
from xinfang.cases.workflow import MAX_REPRESENTATIVES, PetitionerData
from xinfang.deadlines.engine import Calendar
from xinfang.deadlines.models import Deadline, Rule
from xinfang.demo import DEFAULT_SEED, DEMO_PASSWORD, demo_user_queryset, load_demo
from xinfang.demo.simulate import CaseSim, Context, PoolEntry, plan_case
from xinfang.demo.world import ORGANS, USERS, ensure_world
from xinfang.demo.writer import BatchWriter, number_documents, save_case_counters
from xinfang.documents.models import Document, DocumentCounter
from xinfang.orgs.models import Organ, Region, Role, User

CASE_NUMBER = re.compile(r"^[A-Z]+-\d{4}-\d{6}$")


def run_demo(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def new_context(world, total: int) -> Context:
    return Context(world=world, calendar=Calendar.load(), rules={r.code: r for r in Rule.objects.all()},
                   now=timezone.now(), seed=DEFAULT_SEED, offset=0, total=total)


# --------------------------------------------------------------------------- snapshots of written rows


def snapshot() -> dict:
    """Every row a case owns, keyed by case number, without primary keys (so two databases built
    in different ways can be compared)."""
    cases = {}
    skip = {"id", "updated_at", "related_case"}
    fields = [f.attname for f in Case._meta.concrete_fields if f.name not in skip]
    numbers = dict(Case.objects.values_list("pk", "number"))
    for case in Case.objects.order_by("number"):
        row = {name: getattr(case, name) for name in fields}
        row["related"] = numbers.get(case.related_case_id)
        row["petitioners"] = list(Petitioner.objects.filter(case=case).order_by("order").values_list(
            "name", "id_number", "phone", "address", "is_representative", "order"))
        row["organs"] = sorted(CaseOrgan.objects.filter(case=case).values_list("organ_id", "since"))
        row["events"] = list(Event.objects.filter(case=case).order_by("at", "pk").values_list(
            "action", "at", "actor_id", "organ_id", "target_organ_id", "from_state", "to_state", "note", "data"))
        row["deadlines"] = list(Deadline.objects.filter(case=case).order_by("started_on", "pk").values_list(
            "rule_id", "organ_id", "started_on", "days", "extra_days", "fixed_due", "due_on", "pending_year", "met_at",
            "is_open"))
        row["documents"] = list(Document.objects.filter(case=case).order_by("issued_at", "pk").values_list(
            "kind", "organ_id", "year", "seq", "number", "title", "addressee", "fields", "issued_at", "issued_by_id",
            "for_petitioner", "event__action", "event__at"))
        cases[case.number] = row
    return {
        "cases": cases,
        "case_counters": sorted(CaseCounter.objects.values_list("bureau_id", "year", "last")),
        "document_counters": sorted(DocumentCounter.objects.values_list("organ_id", "kind", "year", "last")),
    }


def wipe_cases() -> None:
    Document.objects.all().delete()
    Case.objects.update(related_case=None)
    Case.objects.all().delete()
    CaseCounter.objects.all().delete()
    DocumentCounter.objects.all().delete()


def replay(sims: list[CaseSim], frozen_time) -> None:
    """Drive every simulated step through the real service, in the order the moments occurred."""
    steps = sorted(((step.at, sim.index, i, sim, step) for sim in sims for i, step in enumerate(sim.steps)),
                   key=lambda s: s[:3])
    real: dict[int, Case] = {}
    for at, _k, _i, sim, step in steps:
        frozen_time.move_to(at)
        service = getattr(workflow, step.name)
        if step.name == "register_case":
            data = dict(step.kwargs["data"])
            if isinstance(data["related_case"], PoolEntry):
                data["related_case"] = real[data["related_case"].sim.index]
            pets = [PetitionerData(**p.__dict__) for p in step.kwargs["petitioners"]]
            real[sim.index] = service(step.actor, data, pets)
        else:
            service(step.actor, real[sim.index], **step.kwargs)


def chosen_cases(world, candidates: int) -> list[int]:
    """Indices of cases that together use every service at least once (greedy), in order."""
    ctx = new_context(world, candidates)
    ctx.counters = {}
    uses = {}
    for k in range(candidates):
        sim = plan_case(ctx, k).sim
        if sim is not None:
            uses[k] = {s.name for s in sim.steps} | {("closed-by-sweep" if s.actor is None else "") for s in sim.steps}
    wanted = set().union(*uses.values()) - {""}
    chosen, covered = [], set()
    while not wanted <= covered:
        best = max(uses, key=lambda k: len(uses[k] - covered))
        chosen.append(best)
        covered |= uses.pop(best)
    return sorted(chosen)


def test_simulated_cases_are_exactly_what_the_services_write(db, frozen_time):
    world = ensure_world()
    indices = chosen_cases(world, 2000)
    # A second pass over just those cases (plus every fiftieth one, for variety): its numbering is
    # the one both sides must reproduce.
    indices = sorted(set(indices) | set(range(0, 2000, 50)))
    ctx = new_context(world, 2000)
    ctx.counters = {}
    sims = [r.sim for r in (plan_case(ctx, k) for k in indices) if r.sim is not None]
    names = {s.name for sim in sims for s in sim.steps}
    assert names == {
        "register_case", "route_case", "inform_case", "not_accept_case", "decide_objection", "accept_case",
        "object_case", "extend_deadline", "reply_case", "evaluate_case", "request_review", "issue_review_opinion",
        "request_re_review", "record_hearing", "issue_re_review_opinion", "close_case",
    }
    assert any(s.actor is None for sim in sims for s in sim.steps), "the nightly sweep files some cases"

    BatchWriter().write(sims)
    save_case_counters({}, ctx.counters)
    number_documents()
    written = snapshot()
    wipe_cases()
    replay(sims, frozen_time)
    served = snapshot()

    assert written["case_counters"] == served["case_counters"]
    assert written["document_counters"] == served["document_counters"]
    assert written["cases"].keys() == served["cases"].keys()
    for number, row in served["cases"].items():
        for key, value in row.items():
            assert written["cases"][number][key] == value, (number, key)


def test_a_refused_step_is_planned_nowhere(db):
    """The generator never plans a step the services would refuse (it raises SimError instead):
    a large sample of cases simulates without error."""
    world = ensure_world()
    ctx = new_context(world, 3000)
    ctx.counters = {}
    for k in range(0, 3000, 3):
        plan_case(ctx, k)


# --------------------------------------------------------------------------- the command


@pytest.fixture
def demo300(db):
    out, err = run_demo("--cases", "300")
    return out, err


def test_demo_builds_a_consistent_city(demo300):
    out, err = demo300
    assert Organ.objects.count() == len(ORGANS) and 28 <= len(ORGANS) <= 36
    assert User.objects.count() == len(USERS)
    assert Region.objects.filter(code__startswith="99").exclude(level="village").count() >= 1 + 1 + 4 + 8
    assert Case.objects.count() == 300
    assert err == ""  # nothing on stderr: the past year is covered
    # Every state, channel and category occurs, and so do overdue and near-due running duties.
    assert set(Case.objects.values_list("state", flat=True)) == set(State.values)
    assert set(Case.objects.values_list("channel", flat=True)) == {"online", "letter", "call", "fax", "visit"}
    assert set(Case.objects.values_list("category", flat=True)) == {"claim", "suggestion", "report"}
    today = timezone.localdate()
    assert Case.objects.filter(state__in=OPEN_STATES, due_on__lt=today).exists()
    assert Case.objects.filter(state__in=OPEN_STATES, due_on__gte=today).exists()
    for flag in ("skip_level", "group_visit", "law_related", "major_urgent", "extended", "report_required"):
        assert Case.objects.filter(**{flag: True}).exists(), flag
    assert Case.objects.exclude(satisfaction_organ="").exists()
    assert {"replied", "reviewed", "informed", "not_accepted"} <= set(Case.objects.values_list("closure", flat=True))
    # The logins and the shared password.
    assert DEMO_PASSWORD in out and "ljxf_dj" in out and "登记员" in out
    assert authenticate(username="ljxf_dj", password=DEMO_PASSWORD) is not None
    assert authenticate(username="ljxf_dj", password="wrong-password") is None
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    for role in Role.values:
        assert any(role in u.roles for u in User.objects.all()), role


def test_every_case_is_what_the_rules_say(demo300):
    calendar = Calendar.load()
    rules = {r.code: r for r in Rule.objects.all()}
    cases = list(Case.objects.all())
    # Numbers: the documented format, unique, without gaps, counters where the last one is.
    assert all(CASE_NUMBER.match(c.number) for c in cases)
    assert len({c.number for c in cases}) == len(cases)
    for counter in CaseCounter.objects.all():
        seqs = sorted(Case.objects.filter(bureau_id=counter.bureau_id, year=counter.year).values_list("seq", flat=True))
        assert seqs == list(range(1, counter.last + 1))
    for case in cases:
        events = list(case.events.all())
        assert events[0].action == "register" and events[0].from_state == ""
        assert events[-1].to_state == case.state
        assert case.version == len(events)
        assert all(e.from_state == p.to_state for p, e in zip(events, events[1:]))
        assert case.registered_at >= case.received_at
        # Each deadline is what the engine computes.
        for d in case.deadlines.all():
            if d.fixed_due:
                assert d.due_on == d.fixed_due
            else:
                assert d.due_on == calendar.due(d.started_on, d.days, rules[d.rule_id].unit, d.extra_days)
        # The running duty is what sync_due says.
        due_on, warn_on = case.due_on, case.due_warn_on
        workflow.sync_due(case, rules)
        assert (case.due_on, case.due_warn_on) == (due_on, warn_on), case.number
        # The case is linked to every organ it went through.
        visited = {case.bureau_id} | {e.target_organ_id for e in events if e.target_organ_id}
        assert visited <= set(case.organ_links.values_list("organ_id", flat=True))
        assert case.current_organ_id in visited
        pets = list(case.petitioners.all())
        assert pets and case.head_count >= len(pets)
        assert sum(p.is_representative for p in pets) <= MAX_REPRESENTATIVES
        for p in pets:
            if p.id_number:
                assert validate_id_number(p.id_number) == p.id_number
        if case.state == State.CLOSED:
            assert case.closure and case.closed_at
        else:
            assert not case.closure
    # Documents: numbered per organ, kind and year in the order they were issued, counters at the end.
    for counter in DocumentCounter.objects.all():
        docs = list(Document.objects.filter(organ_id=counter.organ_id, kind=counter.kind, year=counter.year)
                    .order_by("seq"))
        assert [d.seq for d in docs] == list(range(1, counter.last + 1))
        assert [d.issued_at for d in docs] == sorted(d.issued_at for d in docs)
        assert all(d.number.endswith(f"〔{d.year}〕{d.seq}号") and not d.docx and not d.pdf for d in docs)
        assert all(d.event.case_id == d.case_id for d in docs)
    assert not Document.objects.filter(seq__gte=1_000_000).exists()


def test_the_demo_is_reproducible(db):
    run_demo("--cases", "40", "--no-logins")
    first = snapshot()["cases"]
    run_demo("--cases", "40", "--reset", "--no-logins")
    second = snapshot()["cases"]
    strip = lambda rows: {n: {k: v for k, v in r.items() if k not in {  # noqa: E731
        "registered_by_id", "bureau_id", "current_organ_id", "routed_by_id", "returned_from_id", "handling_organ_id",
        "accused_organ_id", "topic_id", "region_id", "organs", "events", "deadlines", "documents"}} for n, r in rows.items()}
    # Organ and user ids differ after --reset; everything else is drawn from the same seed.
    assert strip(first) == strip(second)


def test_running_the_demo_again_adds_cases_only(db):
    run_demo("--cases", "30", "--no-logins")
    organs, users = Organ.objects.count(), User.objects.count()
    out, _err = run_demo("--cases", "20", "--no-logins")
    assert "只添加信访事项" in out
    assert (Organ.objects.count(), User.objects.count()) == (organs, users)
    assert Case.objects.count() == 50
    assert Case.objects.values("number").distinct().count() == 50
    # The second run drew new cases, not the same ones again.
    assert Case.objects.values("title", "content").distinct().count() == 50
    for counter in CaseCounter.objects.all():
        top = Case.objects.filter(bureau_id=counter.bureau_id, year=counter.year).aggregate(m=Max("seq"))["m"]
        assert counter.last == top


def test_reset_removes_the_demo_and_nothing_else(db, cast, make_case):
    own = make_case("handling")
    run_demo("--cases", "25", "--no-logins")
    out, _err = run_demo("--cases", "10", "--reset", "--no-logins")
    assert "已删除原有演示数据:25件信访事项" in out
    assert Case.objects.count() == 11
    assert Case.objects.filter(pk=own.pk).exists() and own.events.count() == 3
    assert User.objects.filter(username="registrar").exists()  # the cast's users survive
    # The cast already has an "admin": the demo leaves that account alone and does without its own.
    assert "用户名 admin 已被非演示账号使用" in out
    assert demo_user_queryset().count() == len(USERS) - 1
    assert authenticate(username="admin", password=DEMO_PASSWORD) is None


LATE_IN_THE_YEAR = dt.datetime(2026, 12, 20, 10, 0, tzinfo=timezone.get_current_timezone())


def test_an_uncovered_year_leaves_limits_pending_and_cases_go_on(db, travel):
    """On 2026-12-20 a 15-day limit started today ends in 2027, which the official calendar does
    not cover yet. As in the services, such limits are pending (no date, the missing year noted)
    and the cases go on through their states; nothing is refused and nothing is guessed."""
    travel(LATE_IN_THE_YEAR)
    out, err = run_demo("--cases", "120", "--no-logins")
    assert err == ""  # no warning: pending limits are normal, nothing is dropped
    assert Case.objects.count() == 120
    # Petitions received in the last days of December are registered, their limits pending on 2027.
    recent = Case.objects.filter(received_at__date__gte=dt.date(2026, 12, 14))
    assert recent.exists()
    pending = Deadline.objects.filter(due_on__isnull=True, pending_year=2027)
    assert pending.filter(case__in=recent).exists()
    assert not Deadline.objects.filter(due_on__isnull=True, pending_year__isnull=True).exists()
    assert not Deadline.objects.filter(due_on__isnull=False, pending_year__isnull=False).exists()
    # No computed deadline ends in 2027 (a 交办 date chosen by the assigner may: it is not computed).
    assert not Deadline.objects.filter(due_on__year=2027, fixed_due__isnull=True).exists()
    # Recent cases went on past the steps whose limits are pending: routed, accepted, replied.
    since = timezone.now() - dt.timedelta(days=45)
    moved_on = Event.objects.filter(at__gte=since, case__deadlines__pending_year=2027).exclude(action="register")
    assert {"route", "accept"} <= set(moved_on.values_list("action", flat=True))
    # An open case whose running limit is pending has no due date, only the pending year.
    waiting = Case.objects.filter(state__in=OPEN_STATES, due_pending_year=2027)
    assert waiting.exists() and not waiting.filter(due_on__isnull=False).exists()
    rules = {r.code: r for r in Rule.objects.all()}
    for case in Case.objects.filter(state__in=OPEN_STATES):
        before = (case.due_on, case.due_warn_on, case.due_pending_year)
        workflow.sync_due(case, rules)
        assert (case.due_on, case.due_warn_on, case.due_pending_year) == before, case.number


def test_pending_limits_are_what_the_services_write(db, frozen_time):
    """Late in a covered year, the simulated cases whose limits run into the uncovered year are,
    row for row, what the real services write when replayed at the same moments."""
    frozen_time.move_to(LATE_IN_THE_YEAR)
    world = ensure_world()
    total = 600
    ctx = new_context(world, total)
    ctx.counters = {}
    # The last two months of the run: every case of it, all registered in order.
    first = total * 5 // 6
    sims = [plan_case(ctx, k).sim for k in range(first, total)]
    assert all(sim is not None for sim in sims)
    assert any(d.due_on is None and d.pending_year == 2027 for sim in sims for d in sim.deadlines)
    names = {s.name for sim in sims for s in sim.steps if any(d.pending_year for d in sim.deadlines)}
    assert {"register_case", "route_case", "accept_case", "reply_case"} <= names

    BatchWriter().write(sims)
    save_case_counters({}, ctx.counters)
    number_documents()
    written = snapshot()
    assert Deadline.objects.filter(pending_year=2027, due_on__isnull=True).exists()
    assert Case.objects.filter(due_pending_year=2027).exists()
    wipe_cases()
    replay(sims, frozen_time)
    served = snapshot()

    assert written["case_counters"] == served["case_counters"]
    assert written["document_counters"] == served["document_counters"]
    assert written["cases"].keys() == served["cases"].keys()
    for number, row in served["cases"].items():
        for key, value in row.items():
            assert written["cases"][number][key] == value, (number, key)


def test_a_name_taken_by_a_real_account_is_refused(db):
    User.objects.create_user("ljxf_dj", password="Someone-else-2026")
    with pytest.raises(Exception, match="ljxf_dj"):
        run_demo("--cases", "5", "--no-logins")
    assert not Organ.objects.exists() and not Case.objects.exists()


def test_bad_arguments_are_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("demo", "--cases", "-5")
    with pytest.raises(CommandError):
        call_command("demo", "--cases", "many")
    assert not Case.objects.exists()


def test_batches_change_nothing(db):
    """Writing in batches of 10 (each its own transaction, nothing kept between them) gives the
    same database as writing everything at once: numbering continues across batches."""
    seen = []
    report = load_demo(45, batch_size=10, progress=lambda done, total: seen.append(done))
    assert report.written == 45 and seen == [10, 20, 30, 40, 45]
    in_batches = snapshot()
    wipe_cases()
    load_demo(45, batch_size=1000)
    assert snapshot() == in_batches
