"""Screening a large import in a second process (xinfang.dedup.screener).

These tests commit for real (the other process sees only committed rows), so they use a
transactional database.
"""
from __future__ import annotations

import random

import pytest
from django.db import connection

from xinfang.cases import search
from xinfang.cases.models import Case
from xinfang.cases.signals import cases_created
from xinfang.dedup import screener
from xinfang.dedup.models import Band, Link, PersonKey, Signature
from xinfang.ledger.models import LedgerRow
from tests.ledger.conftest import row, run, write_csv  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

_CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


def _texts(n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(content, name, phone) per row: distinct random matters, every fifth row a repeat of an
    earlier row (the same person, a few characters changed)."""
    out = []
    for i in range(n):
        if i % 5 == 4:
            content, name, phone = out[rng.randrange(i)]
            chars = list(content)
            for _ in range(3):
                chars[rng.randrange(len(chars))] = rng.choice(_CHARS)
            out.append(("".join(chars), name, phone))
        else:
            out.append(("".join(rng.choice(_CHARS) for _ in range(80)), f"张{i}", f"138{i:08d}"))
    return out


def _ledger(write_csv, n=60):
    rows = [row(f"S-{i:03d}", 内容=content, 标题=content[:10], 信访人=name, 联系电话=phone, 证件号码="")
            for i, (content, name, phone) in enumerate(_texts(n, random.Random(7)))]
    return write_csv(rows)


def _links() -> set[tuple]:
    number = dict(LedgerRow.objects.values_list("case_id", "source_no"))
    return {(number[c], number[e], kind, round(score, 4))
            for c, e, kind, score in Link.objects.values_list("case_id", "earlier_id", "kind", "score")}


def _text_index_complete() -> None:
    """SQLite: no batch's text index is left deferred, the FTS5 index is sound, and every
    imported case is found in it by its own content. PostgreSQL: the import left nothing in the
    trigram indexes' pending lists."""
    if connection.vendor == "postgresql":
        assert search.merge_pending(connection) == 0
    if connection.vendor != "sqlite":
        return
    assert search.deferred_ranges(connection) == 0
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        for pk, content in Case.objects.values_list("pk", "content"):
            cursor.execute(f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
                           [search.fts_phrase(content[:20])])
            assert pk in {r[0] for r in cursor.fetchall()}


def _spy_processes(monkeypatch) -> list:
    started = []
    real = screener.multiprocessing.get_context

    def get_context(method):
        started.append(method)
        return real(method)

    monkeypatch.setattr(screener.multiprocessing, "get_context", get_context)
    return started


def test_an_import_screened_alongside_links_as_the_inline_screening(monkeypatch, write_csv, run):
    monkeypatch.setattr(screener, "MIN_ROWS", 1)
    started = _spy_processes(monkeypatch)
    left, real_catch_up = [], screener.catch_up
    monkeypatch.setattr(screener, "catch_up", lambda job_id: left.append(real_catch_up(job_id)) or left[-1])
    deferred = []
    real_defer = search.defer_text_index
    monkeypatch.setattr(search, "defer_text_index", lambda c, lo, hi: deferred.append((lo, hi)) or real_defer(c, lo, hi))
    job, _ = run(_ledger(write_csv), batch_size=15)
    assert (job.status, job.created) == ("done", 60)
    assert started == ["spawn"] and left == [0]  # the other process screened every case
    assert Signature.objects.count() == 60  # every case screened before the job is done
    # SQLite: the process indexed the text of the batches the importer left to it.
    assert bool(deferred) == (connection.vendor == "sqlite")
    _text_index_complete()
    alongside = _links()
    assert len(alongside) >= 12  # the twelve planted repeats at least
    # The same cases screened again inline (the receiver's path), oldest first.
    for model in (Link, Band, PersonKey, Signature):
        model.objects.all().delete()
    assert screener.catch_up(job.pk) == 60
    assert _links() == alongside


@pytest.mark.parametrize("target", ["fail", "hang"])
def test_a_failed_or_stuck_screening_process_is_made_good_by_the_importer(monkeypatch, write_csv, run, target):
    from tests.dedup import screener_targets

    monkeypatch.setattr(screener, "MIN_ROWS", 1)
    monkeypatch.setattr(screener, "STUCK_SECONDS", 2)
    monkeypatch.setattr(screener, "_TARGET", getattr(screener_targets, target))
    started = _spy_processes(monkeypatch)
    job, _ = run(_ledger(write_csv), batch_size=15)
    assert (job.status, job.created) == ("done", 60) and started == ["spawn"]
    assert Signature.objects.count() == 60
    assert len(_links()) >= 12
    _text_index_complete()  # the batches left to the process are indexed by the importer


def test_a_small_import_screens_inline(monkeypatch, write_csv, run):
    def no_process(*args, **kwargs):
        raise AssertionError("no screening process for a small import")

    monkeypatch.setattr(screener.multiprocessing, "get_context", no_process)
    job, _ = run(_ledger(write_csv, n=20))
    assert job.created == 20 and Signature.objects.count() == 20 and len(_links()) >= 4


def test_the_receiver_leaves_only_imports_to_the_screening_process(monkeypatch, register):
    imported, typed = register(content="小区电梯长期故障无人维修,请求督促物业维修。"), register(content="路灯坏了两个月无人修复。")
    Signature.objects.all().delete()
    monkeypatch.setattr(screener._local, "deferred", True, raising=False)
    cases_created.send(sender=Case, case_ids=[imported.pk], source="import")
    cases_created.send(sender=Case, case_ids=[typed.pk], source="form")
    assert set(Signature.objects.values_list("case_id", flat=True)) == {typed.pk}


def test_catch_up_screens_the_cases_a_killed_run_left(write_csv, run):
    job, _ = run(_ledger(write_csv, n=20))
    left = list(LedgerRow.objects.filter(job=job).order_by("case_id").values_list("case_id", flat=True)[10:])
    Signature.objects.filter(case_id__in=left).delete()
    assert screener.catch_up(job.pk) == 10
    assert Signature.objects.count() == 20


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_following_a_job_reads_only_the_next_cases():
    """The process asks for the job's next cases after the last it screened, every round: the
    (job, case) index answers in order, without reading and sorting the whole job each time."""
    plan = LedgerRow.objects.filter(job_id=1, case_id__gt=0).order_by("case_id").values_list("case_id")[:10].explain()
    assert "ledger_row_job_case" in plan and "TEMP B-TREE" not in plan, plan
