"""Ledger import (xinfang.ledger.importer): columns, encodings, history, idempotency, resuming."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection

from xinfang.cases.models import Case, CaseCounter, CaseOrgan, Event, Petitioner, State
from xinfang.cases.signals import cases_created
from xinfang.deadlines.models import Deadline
from xinfang.ledger.models import ImportJob, LedgerRow
from tests.conftest import TZ
from tests.ledger.conftest import ID_B, errors_of, row

pytestmark = pytest.mark.django_db


def test_registered_row_becomes_a_case_numbered_by_the_bureau(cast, write_csv, run, topic):
    path = write_csv([row("A-1", 问题分类="物业管理"), row("A-2", 问题分类="城乡建设›物业管理", 证件号码=ID_B)])
    job, p = run(path)
    assert (job.status, job.total, job.created, job.errors) == ("done", 2, 2, 0), errors_of(job)
    case = Case.objects.get(ledger_row__source_no="A-1")
    assert case.number == "JZXF-2026-000001" and case.bureau == cast.bureau and case.state == State.REGISTERED
    assert case.received_at == dt.datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
    assert case.topic == topic and case.region == cast.district and case.registered_by == cast.registrar
    assert Petitioner.objects.get(case=case).id_number == "110101199003074477"
    assert CaseCounter.objects.get(bureau=cast.bureau, year=2026).last == 2
    # The running duty of a registered case: routing within 15 days (Art.22), from its own date.
    assert case.due_on is not None and Deadline.objects.filter(case=case, rule_id="route", is_open=True).exists()
    assert list(case.events.values_list("action", flat=True)) == ["register"]


def test_english_headers_and_extra_columns(cast, write_csv, run):
    header = ["case_no", "received_at", "channel", "petitioner_name", "content", "category", "备注", "承办人"]
    path = write_csv([["E-1", "2026/1/5", "网上", "李四", "路灯不亮已两周", "建议意见类", "老台账迁移", "小王"]], header=header)
    job, _ = run(path)
    assert job.created == 1, errors_of(job)
    lr = LedgerRow.objects.get(source_no="E-1")
    assert lr.extra == {"备注": "老台账迁移", "承办人": "小王"}
    assert lr.case.title == "路灯不亮已两周" and lr.case.channel == "online" and lr.case.category == "suggestion"


def test_gbk_file(cast, write_csv, run):
    path = write_csv([row("G-1", 信访人="欧阳娜娜")], encoding="gbk")
    job, _ = run(path)
    assert job.created == 1, errors_of(job)
    assert Petitioner.objects.get().name == "欧阳娜娜"


def test_utf8_without_bom(cast, write_csv, run):
    path = write_csv([row("U-1")], encoding="utf-8")
    job, _ = run(path)
    assert job.created == 1, errors_of(job)


def test_xlsx_with_real_dates_and_formula_text(cast, write_xlsx, run):
    path = write_xlsx([row("X-1", 登记日期=dt.datetime(2026, 2, 3, 14, 30), 内容="=HYPERLINK(\"http://evil\")求助")])
    job, _ = run(path)
    assert job.created == 1, errors_of(job)
    case = Case.objects.get()
    assert case.content == '=HYPERLINK("http://evil")求助'  # kept as text, never evaluated
    assert case.received_at == dt.datetime(2026, 2, 3, 14, 30, tzinfo=TZ)


@pytest.mark.parametrize("value,expected", [
    ("2026-01-05", dt.datetime(2026, 1, 5, 9, 0)),
    ("2026/1/5", dt.datetime(2026, 1, 5, 9, 0)),
    ("2026年1月5日", dt.datetime(2026, 1, 5, 9, 0)),
    ("20260105", dt.datetime(2026, 1, 5, 9, 0)),
    ("46027", dt.datetime(2026, 1, 5, 9, 0)),  # Excel serial date
    ("46027.5", dt.datetime(2026, 1, 5, 12, 0)),
    ("2026-01-05 14:30", dt.datetime(2026, 1, 5, 14, 30)),
    ("2026/1/5 8:05:09", dt.datetime(2026, 1, 5, 8, 5, 9)),
    ("2026年1月5日 14时30分", dt.datetime(2026, 1, 5, 14, 30)),
    ("2026-01-05T14:30:00", dt.datetime(2026, 1, 5, 14, 30)),
])
def test_date_formats(cast, write_csv, run, value, expected):
    job, _ = run(write_csv([row("D-1", 登记日期=value)]))
    assert job.created == 1, errors_of(job)
    assert Case.objects.get().received_at == expected.replace(tzinfo=TZ)


def test_history_keeps_dates_states_replies_and_satisfaction(cast, write_csv, run):
    path = write_csv([
        row("H-1", 责任单位="江州市住房和城乡建设局", 办理状态="已办结", 答复日期="2026-02-10",
            答复意见="已责成物业维修。", 满意度="基本满意"),
        row("H-2", 责任单位="江住建", 办理状态="办理中", 证件号码=ID_B),
        row("H-3", 责任单位="JZZJ", 办理状态="已答复", 答复日期="2026-05-20 10:00", 答复意见="正在协调", 证件号码=""),
        row("H-4", 责任单位="江州市住房和城乡建设局", 办理状态="待受理", 证件号码=""),
        row("H-5", 办理状态="不予受理", 答复意见="不属于信访事项", 证件号码=""),
    ])
    job, _ = run(path)
    assert job.created == 5, errors_of(job)
    closed = Case.objects.get(ledger_row__source_no="H-1")
    assert (closed.state, closed.closure) == (State.CLOSED, "replied")
    assert closed.handling_organ == cast.housing and closed.current_organ == cast.housing
    assert closed.replied_at == dt.datetime(2026, 2, 10, 16, 0, tzinfo=TZ)
    assert closed.satisfaction_organ == "basic" and closed.closed_at is not None
    reply = closed.events.get(action="reply")
    assert reply.note == "已责成物业维修。" and reply.at == closed.replied_at
    assert list(closed.events.values_list("action", flat=True)) == ["register", "route", "accept", "reply", "evaluate", "close"]
    assert not closed.deadlines.filter(is_open=True).exists() and closed.due_on is None
    # Organ links: the handling organ sees its cases (access.py).
    assert set(CaseOrgan.objects.filter(case=closed).values_list("organ_id", flat=True)) == {cast.bureau.pk, cast.housing.pk}

    handling = Case.objects.get(ledger_row__source_no="H-2")
    assert handling.state == State.HANDLING and handling.handling_route == "r6"
    handle = handling.deadlines.get(rule_id="handle", is_open=True)
    assert handle.started_on == dt.date(2026, 1, 5) and handling.due_on == handle.due_on
    replied = Case.objects.get(ledger_row__source_no="H-3")
    assert replied.state == State.REPLIED and replied.delivered_on == dt.date(2026, 5, 20)
    assert replied.deadlines.filter(rule_id="evaluate", is_open=True).exists()
    pending = Case.objects.get(ledger_row__source_no="H-4")
    assert pending.state == State.PENDING and pending.deadlines.filter(rule_id="accept", is_open=True).exists()
    refused = Case.objects.get(ledger_row__source_no="H-5")
    assert (refused.state, refused.closure, refused.current_organ) == (State.CLOSED, "not_accepted", cast.bureau)


@pytest.mark.parametrize("written", ["已办结（答复后办结）", "已办结(答复后办结)", " 已办结 （答复后办结） "])
def test_status_with_full_width_or_ascii_brackets(cast, write_csv, run, written):
    path = write_csv([row("W-1", 责任单位="江州市住房和城乡建设局", 办理状态=written, 答复日期="2026-02-10",
                          答复意见="已责成物业维修。")])
    job, _ = run(path)
    assert job.created == 1, errors_of(job)
    assert Case.objects.get(ledger_row__source_no="W-1").state == State.CLOSED


def test_reimport_is_idempotent(cast, write_csv, run):
    path = write_csv([row("R-1"), row("R-2", 证件号码=ID_B)])
    first, _ = run(path)
    second, _ = run(path)
    assert (first.created, second.created, second.skipped, second.errors) == (2, 0, 2, 0)
    assert Case.objects.count() == 2 and LedgerRow.objects.count() == 2


def test_same_number_in_another_bureau_is_another_case(cast, write_csv, run):
    path = write_csv([row("S-1")])
    run(path)
    job, _ = run(path, cast.district_registrar)
    assert job.created == 1 and Case.objects.count() == 2


def test_interrupted_import_resumes_without_duplicates(cast, write_csv, run, monkeypatch):
    path = write_csv([row(f"I-{i}", 证件号码="") for i in range(1, 8)])
    from xinfang.ledger import importer

    real = importer.BatchWriter.write
    calls = {"n": 0}

    def crash_on_third_batch(self, sims, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(self, sims, **kwargs)

    monkeypatch.setattr(importer.BatchWriter, "write", crash_on_third_batch)
    job = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, source_path=str(path), name="x")
    with pytest.raises(RuntimeError):
        importer.run_import(job, batch_size=2)
    job.refresh_from_db()
    assert (job.rows_done, job.created) == (4, 4)  # two committed batches; the third rolled back whole
    assert Case.objects.count() == 4 and CaseCounter.objects.get().last == 4
    monkeypatch.setattr(importer.BatchWriter, "write", real)
    importer.run_import(job, batch_size=2)  # the same job resumes after its last batch
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.skipped) == ("done", 7, 7, 0)
    assert sorted(Case.objects.values_list("seq", flat=True)) == list(range(1, 8))
    # Running the file again (a new job) skips everything.
    again = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, source_path=str(path), name="x")
    importer.run_import(again)
    again.refresh_from_db()
    assert (again.created, again.skipped) == (0, 7) and Case.objects.count() == 7


def test_a_number_taken_while_a_batch_is_prepared_is_not_reused(cast, write_csv, run, make_case, monkeypatch):
    # A batch's histories are replayed before its transaction, numbered from the counter as read
    # then. A clerk registering a case at the bureau meanwhile takes the next number: the batch is
    # replayed again under the lock, after it, and no number is given twice or skipped.
    from xinfang.ledger import importer

    real = importer._replay
    live = []

    def replay_then_register(rows, *args, **kwargs):
        out = real(rows, *args, **kwargs)
        if not live:
            live.append(make_case())
        return out

    monkeypatch.setattr(importer, "_replay", replay_then_register)
    job, _ = run(write_csv([row(f"N-{i}", 证件号码="") for i in range(1, 4)]), batch_size=2)
    assert (job.status, job.created, job.errors) == ("done", 3, 0), errors_of(job)
    assert live[0].seq == 1
    imported = dict(Case.objects.filter(ledger_row__isnull=False).values_list("ledger_row__source_no", "seq"))
    assert imported == {"N-1": 2, "N-2": 3, "N-3": 4}
    assert sorted(Case.objects.values_list("number", flat=True)) == [f"JZXF-2026-{n:06d}" for n in range(1, 5)]
    assert CaseCounter.objects.get(bureau=cast.bureau, year=2026).last == 4


def test_cases_created_is_sent_per_batch_with_import_source(cast, write_csv, run):
    seen = []

    def receiver(sender, case_ids, source, **kw):
        seen.append((source, len(case_ids), Case.objects.filter(pk__in=case_ids).count()))

    cases_created.connect(receiver)
    try:
        run(write_csv([row(f"C-{i}", 证件号码="") for i in range(5)]), batch_size=2)
    finally:
        cases_created.disconnect(receiver)
    assert seen == [("import", 2, 2), ("import", 2, 2), ("import", 1, 1)]


def test_an_import_merges_its_text_index_entries_in_bulk(cast, write_csv, run, monkeypatch):
    """PostgreSQL's trigram indexes keep the import's cases in their pending lists; without a
    screening process the importer merges them every MERGE_ROWS rows and at the end, so a
    search after the import reads no long list (cases.search.merge_pending)."""
    from xinfang.cases import search

    calls = []
    real = search.merge_pending
    monkeypatch.setattr(search, "MERGE_ROWS", 4)
    monkeypatch.setattr(search, "merge_pending", lambda c: calls.append(Case.objects.count()) or real(c))
    job, _ = run(write_csv([row(f"M-{i}", 证件号码="") for i in range(10)]), batch_size=2)
    assert job.created == 10
    assert calls == [4, 8, 10]  # after the batches that reach 4 and 8 rows since the last merge, and at the end
    assert real(connection) == 0  # nothing left waiting
    seventh = LedgerRow.objects.get(source_no="M-7").case_id
    assert list(search.text_filter(Case.objects.all(), "第M-7号").values_list("pk", flat=True)) == [seventh]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_maps_the_database_during_an_import_and_restores_the_settings_after(cast, write_csv, run):
    from xinfang.ledger.importer import MMAP_BYTES

    def pragmas():
        with connection.cursor() as cursor:
            return [cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in ("mmap_size", "cache_size")]

    before, during = pragmas(), []
    receiver = lambda sender, **kw: during.append(pragmas())  # noqa: E731
    cases_created.connect(receiver)
    try:
        run(write_csv([row("P-1"), row("P-2")]))
    finally:
        cases_created.disconnect(receiver)
    assert during and all(p == [MMAP_BYTES, -65536] for p in during)
    assert pragmas() == before


def test_a_failing_receiver_rolls_its_batch_back(cast, write_csv, run):
    def boom(sender, **kw):
        raise RuntimeError("dedup down")

    cases_created.connect(boom)
    try:
        with pytest.raises(RuntimeError):
            run(write_csv([row("F-1")]))
    finally:
        cases_created.disconnect(boom)
    assert not Case.objects.exists() and not LedgerRow.objects.exists() and not Event.objects.exists()


def test_dry_run_writes_nothing(cast, write_csv, run):
    from xinfang.ledger.importer import ErrorSink

    sink = ErrorSink(None)
    job, p = run(write_csv([row("N-1"), row("N-2", 信访形式="飞鸽")]), dry_run=True, error_sink=sink)
    assert (p.created, p.errors) == (1, 1)
    assert not Case.objects.exists() and not CaseCounter.objects.filter(last__gt=0).exists()


def test_review_stages_import_up_to_the_reply_and_keep_the_status(cast, write_csv, run):
    job, _ = run(write_csv([row("RV-1", 办理状态="复查中", 责任单位="江住建", 答复日期="2026-03-01")]))
    assert job.created == 1, errors_of(job)
    lr = LedgerRow.objects.get()
    assert lr.case.state == State.REPLIED and lr.extra == {"原办理状态": "复查中"}


LATE_IN_2026 = dt.datetime(2026, 12, 20, 10, 0, tzinfo=TZ)  # the seeded calendar runs to 2026


def limits(case) -> list[tuple]:
    return list(case.deadlines.order_by("started_on", "rule_id", "pk").values_list(
        "rule_id", "started_on", "days", "due_on", "pending_year", "is_open"))


def test_open_case_whose_limit_falls_in_an_uncovered_year_is_imported_pending(cast, write_csv, run, make_case, travel):
    """Limits started on 2026-12-18 end in 2027, which the holiday calendar does not cover. An open
    imported case is what a live registration writes: its limits pending on 2027 (no date guessed)
    and the case goes on; history that is over is imported on plain weekdays, nothing pending."""
    travel(dt.datetime(2026, 12, 18, 9, 5, tzinfo=TZ))
    live = make_case("handling", received_at=dt.datetime(2026, 12, 18, 9, 0, tzinfo=TZ))
    travel(LATE_IN_2026)
    job, _ = run(write_csv([
        row("CY-1", 登记日期="2026-12-18"),
        row("CY-2", 证件号码=ID_B, 登记日期="2026-12-18", 办理状态="办理中", 责任单位="江住建"),
        row("CY-3", 证件号码="", 登记日期="2026-12-01", 办理状态="已办结", 责任单位="江住建", 答复日期="2026-12-15"),
    ]))
    assert (job.created, job.errors) == (3, 0), errors_of(job)

    registered = Case.objects.get(ledger_row__source_no="CY-1")
    assert registered.state == State.REGISTERED
    assert limits(registered) == [("route", dt.date(2026, 12, 18), 15, None, 2027, True)]
    assert (registered.due_on, registered.due_warn_on, registered.due_pending_year) == (None, None, 2027)
    assert registered.due_pending_label == "期限待定(2027年节假日安排未录入)" and registered.grade is None

    # The 办理中 case: every limit as the services wrote them for the same case registered live.
    handling = Case.objects.get(ledger_row__source_no="CY-2")
    live.refresh_from_db()
    assert handling.state == live.state == State.HANDLING
    assert limits(handling) == limits(live)
    assert ("handle", dt.date(2026, 12, 18), 60, None, 2027, True) in limits(handling)
    assert (handling.due_on, handling.due_warn_on, handling.due_pending_year) == (live.due_on, live.due_warn_on, 2027)
    assert handling.due_on is None

    # History that is over is never left pending: nothing would fill it in.
    closed = Case.objects.get(ledger_row__source_no="CY-3")
    assert closed.state == State.CLOSED and closed.due_pending_year is None
    assert not closed.deadlines.filter(pending_year__isnull=False).exists()
    assert not closed.deadlines.filter(due_on__isnull=True, fixed_due__isnull=True).exists()
    assert CaseCounter.objects.get().last == 4  # the live case took 1, the imported cases 2–4: none skipped


def test_entering_the_missing_year_fills_in_the_imported_pending_limits(cast, write_csv, run, travel, tmp_path):
    """`xinfang calendar import … --complete 2027` recomputes the open limits: the imported cases'
    pending dates are computed as for any live case (Art.22: 15 days, moved off 元旦 and the weekend;
    Art.34: 60 days)."""
    from django.core.management import call_command

    travel(LATE_IN_2026)
    job, _ = run(write_csv([
        row("CY-1", 登记日期="2026-12-18"),
        row("CY-2", 证件号码=ID_B, 登记日期="2026-12-18", 办理状态="办理中", 责任单位="江住建"),
    ]))
    assert (job.created, job.errors) == (2, 0), errors_of(job)
    assert Deadline.objects.filter(is_open=True, due_on__isnull=True, pending_year=2027).count() == 2

    holidays = tmp_path / "2027.csv"
    holidays.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-01-02,休,元旦\n2027-01-03,休,元旦\n", encoding="utf-8")
    call_command("calendar", "import", str(holidays), "--complete", "2027", stdout=io.StringIO())

    registered = Case.objects.get(ledger_row__source_no="CY-1")
    route = registered.deadlines.get(rule_id="route")
    assert (route.due_on, route.pending_year) == (dt.date(2027, 1, 4), None)  # 01-02 is 元旦: the next working day
    assert (registered.due_on, registered.due_warn_on, registered.due_pending_year) == (
        dt.date(2027, 1, 4), dt.date(2027, 1, 2), None)
    handling = Case.objects.get(ledger_row__source_no="CY-2")
    handle = handling.deadlines.get(rule_id="handle", is_open=True)
    assert (handle.due_on, handle.pending_year) == (dt.date(2027, 2, 16), None)
    assert (handling.due_on, handling.due_pending_year) == (dt.date(2027, 2, 16), None)
    assert not Deadline.objects.filter(is_open=True, due_on__isnull=True).exists()


def test_batches_shrink_when_receivers_are_slow():
    from xinfang.ledger.importer import _Sizer

    sizer = _Sizer(1000)
    assert sizer.size == 200
    sizer.measured(200, 10.0)  # 20 rows/s: commit every ~2 s, never below 50 rows
    assert sizer.size == 50
    sizer.measured(50, 0.01)
    assert sizer.size == 1000
