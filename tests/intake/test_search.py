"""Text search of the case list (xinfang.cases.search): the indexed filter gives exactly what the
naive `contains` filter gives, treats the user's text as text, stays in step with every writer
(the database maintains the index), and a 2-character query keeps to its documented window."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse

from xinfang.cases import workflow
from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import Case, Category
from xinfang.cases.search import (FTS_TABLE, PENDING_LIST_KB, POSTGRES_INDEXES, SHORT_QUERY_DAYS, defer_text_index,
                                  deferred_ranges, ensure_triggers, index_deferred, merge_pending, text_filter)
from xinfang.intake.forms import CaseFilterForm

from tests.conftest import NOW

SQLITE = pytest.mark.skipif("connection.vendor != 'sqlite'")
POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'")

TEXTS = [
    ("小区电梯长期故障无人维修", "电梯自今年3月起多次故障,物业拖延不修。"),
    ("物业费收费不透明", "要求公示物业费明细 Property Fee 100% 收取_不合理"),
    ("反映拖欠工资", "某公司拖欠农民工工资三个月,工资条写着 say \"pay me\" now。"),
    ("拆迁补偿", "拆迁补偿款 a*b 未到位;NEAR(补偿 到位) 与 A AND B、-abc 均为原文。"),
    ("ＡＢＣ全角", "全角字母ＡＢＣ和半角abc、ABC混排"),
    ("古树名木被砍伐", "村口的古树名木被砍伐,请求查处。  两个空格"),
]

QUERIES = [
    "电梯自", "物业费", "拖欠农民工工资", "property fee", "Property Fee", "100%", "% 收", "_不合", "收取_",
    "\"pay me\"", "say \"", "a*b", "*b ", "NEAR(补偿", "NEAR", "A AND B", "AND", "-abc", "abc", "ABC", "ａｂｃ", "ＡＢＣ",
    "  两个", "古树名木", "不存在的词", "\"\"\"", "***", "'; DROP TABLE cases_case; --", "工资。",
]


def register(cast, title, content, **over):
    data = {"channel": "letter", "received_at": NOW - dt.timedelta(hours=1), "title": title, "content": content,
            "category": Category.CLAIM}
    data.update(over)
    return workflow.register_case(cast.registrar, data, [workflow.PetitionerData(name="刘市民")])


def naive(qs, q):
    return qs.filter(Q(title__contains=q) | Q(content__contains=q))


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.fixture
def texts(cast):
    return [register(cast, title, content) for title, content in TEXTS]


@pytest.mark.parametrize("q", QUERIES)
def test_indexed_search_equals_the_naive_filter(cast, texts, q):
    """Every query of 3+ characters, operators and quotes included, finds exactly what `contains`
    finds on this engine (SQLite folds ASCII case in LIKE, PostgreSQL does not)."""
    everything = Case.objects.all()
    assert ids(text_filter(everything, q)) == ids(naive(everything, q))


def test_the_fixture_exercises_both_hits_and_misses(cast, texts):
    """Guard for the comparison above: it would pass vacuously if nothing matched."""
    everything = Case.objects.all()
    hits = [q for q in QUERIES if ids(naive(everything, q))]
    assert len(hits) >= 15 and len(hits) < len(QUERIES)
    assert ids(text_filter(everything, "a*b")) == {texts[3].pk}
    assert ids(text_filter(everything, "\"pay me\"")) == {texts[2].pk}
    assert ids(text_filter(everything, "NEAR(补偿")) == {texts[3].pk}
    assert ids(text_filter(everything, "-abc")) == {texts[3].pk}


@pytest.mark.parametrize("q", ["a*b", "NEAR(补偿 到位)", "\"", "\"\"\"", "A AND B", "-abc", "OR NOT"])
def test_operators_in_the_query_are_text_on_the_page(as_user, cast, texts, q):
    response = as_user(cast.registrar).get(reverse("case_list"), {"q": q})
    assert response.status_code in (200, 400)  # 400: a 1-character query is refused with a message
    if response.status_code == 200:
        listed = {c.pk for c in response.context["cases"]}
        assert listed == ids(naive(cases_visible_to(cast.registrar), q))


def test_search_respects_visibility_and_other_filters(as_user, cast, make_case):
    mine = make_case("handling", title="电梯困人", content="电梯困人半小时。")  # at housing
    other = register(cast, "电梯困人", "电梯困人一小时。", channel="visit")  # at the bureau
    listed = lambda user, **params: [c.pk for c in as_user(user).get(reverse("case_list"), params).context["cases"]]  # noqa: E731
    assert listed(cast.handler, q="电梯困人") == [mine.pk]
    assert listed(cast.other, q="电梯困人") == []
    assert sorted(listed(cast.registrar, q="电梯困人")) == sorted([mine.pk, other.pk])
    assert listed(cast.registrar, q="电梯困人", channel="visit") == [other.pk]
    assert listed(cast.registrar, q="电梯困人", state="handling") == [mine.pk]


def test_search_pages(as_user, cast, monkeypatch):
    from xinfang.intake import views

    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    made = [register(cast, f"噪音扰民{i}", "夜间施工噪音扰民。", received_at=NOW - dt.timedelta(hours=10 - i)) for i in range(5)]
    register(cast, "其他事项", "与此无关。")
    client = as_user(cast.registrar)
    pages = [[c.pk for c in client.get(reverse("case_list"), {"q": "施工噪音", "page": p}).context["cases"]] for p in (1, 2, 3)]
    assert pages == [[made[4].pk, made[3].pk], [made[2].pk, made[1].pk], [made[0].pk]]


# --------------------------------------------------------------------------- 2-character queries


def test_a_two_character_query_searches_the_recent_window(as_user, cast):
    recent = register(cast, "电梯故障", "电梯停运。")
    old = register(cast, "电梯故障", "电梯停运。")
    Case.objects.filter(pk=old.pk).update(received_at=NOW - dt.timedelta(days=SHORT_QUERY_DAYS + 5))
    client = as_user(cast.registrar)

    def listed(**params):
        return [c.pk for c in client.get(reverse("case_list"), params).context["cases"]]

    assert listed(q="电梯") == [recent.pk]
    # With a start date the user chose, the 2-character query covers it.
    since = (NOW - dt.timedelta(days=SHORT_QUERY_DAYS + 30)).date().isoformat()
    assert listed(q="电梯", received_from=since) == [recent.pk, old.pk]
    # 3 characters or more: the whole history, through the index.
    assert listed(q="电梯故") == [recent.pk, old.pk]


def test_the_page_says_how_a_short_query_is_searched(as_user, cast):
    page = as_user(cast.registrar).get(reverse("case_list")).content.decode()
    assert f"只检索最近{SHORT_QUERY_DAYS}天" in page


def test_a_one_character_query_is_refused_with_a_message(as_user, cast):
    response = as_user(cast.registrar).get(reverse("case_list"), {"q": "电"})
    assert response.status_code == 400
    assert "关键词至少2个字。" in response.content.decode()


def test_the_form_filter_combines_the_window_with_the_query(cast):
    form = CaseFilterForm({"q": "工资"})
    assert form.is_valid()
    sql = str(form.filter(Case.objects.all()).query)
    assert "received_at" in sql


# --------------------------------------------------------------------------- the index follows every writer


def fts_ids(q: str) -> set[int]:
    """What the SQLite index itself answers (no recheck), to see stale entries."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", ['"' + q + '"'])
        return {row[0] for row in cursor.fetchall()}


def found(q: str) -> set[int]:
    return ids(text_filter(Case.objects.all(), q))


def test_index_follows_orm_insert_update_and_delete(cast):
    case = register(cast, "路灯不亮", "幸福里路灯损坏多日。")
    assert found("路灯损坏") == {case.pk}
    case.content = "幸福里下水道堵塞。"
    case.save()
    assert found("路灯损坏") == set() and found("下水道堵塞") == {case.pk}
    Case.objects.filter(pk=case.pk).update(title="井盖缺失")
    assert found("井盖缺失") == {case.pk} and found("路灯不亮") == set()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET content = %s WHERE id = %s", ["raw SQL 写入的内容", case.pk])
    assert found("写入的内容") == {case.pk} and found("下水道") == set()
    if connection.vendor == "sqlite":
        assert fts_ids("下水道") == set() and fts_ids("写入的内容") == {case.pk}
    Case.objects.filter(pk=case.pk).delete()  # the ORM cascades to petitioners, events, …
    assert found("写入的内容") == set()
    if connection.vendor == "sqlite":
        assert fts_ids("写入的内容") == set() and fts_ids("井盖缺失") == set()


def test_a_workflow_step_does_not_reindex(cast, make_case):
    """Only a change of title or content touches the index (the UPDATE trigger's WHEN)."""
    case = make_case("handling", title="占道经营", content="菜市场占道经营。")
    assert found("占道经营") == {case.pk}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT sql FROM sqlite_master WHERE name = '{FTS_TABLE}_au'")
            assert "old.content IS NOT new.content" in cursor.fetchone()[0]


def test_index_follows_the_demo_bulk_inserter(cast):
    from xinfang.demo.writer import Inserter, reserve_ids

    columns = ["id", "number", "bureau_id", "year", "seq", "channel", "received_at", "registered_at", "title",
               "content", "category", "state", "current_organ_id"]
    with transaction.atomic():
        new_ids = reserve_ids(Case, 3)
        Inserter(Case, columns).insert([
            (pk, f"BULK-2026-{i:06d}", cast.bureau.pk, 2026, 900 + i, "letter", NOW, NOW, f"批量写入{i}",
             f"批量写入的事项,关键词 垃圾分类站{i}号", "claim", "registered", cast.bureau.pk)
            for i, pk in enumerate(new_ids)])
    assert found("垃圾分类站") == set(new_ids)
    assert found("垃圾分类站1号") == {new_ids[1]}
    if connection.vendor == "sqlite":
        assert fts_ids("垃圾分类站") == set(new_ids)


@SQLITE
def test_triggers_lost_in_a_table_rebuild_are_restored_after_migrate(cast):
    """SQLite's ALTER through Django copies cases_case into a new table: the triggers are dropped
    with the old one. The post_migrate repair recreates them and rebuilds the index."""
    case = register(cast, "油烟扰民", "餐馆油烟扰民。")
    with connection.cursor() as cursor:
        for t in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER {FTS_TABLE}_{t}")
        cursor.execute("UPDATE cases_case SET content = '餐馆噪音扰民。' WHERE id = %s", [case.pk])
    assert fts_ids("餐馆噪音") == set()  # stale while the triggers are missing
    assert ensure_triggers(connection) is True
    assert fts_ids("餐馆噪音") == {case.pk} and fts_ids("餐馆油烟") == set()
    assert ensure_triggers(connection) is False  # nothing left to repair
    other = register(cast, "夜市噪音", "夜市噪音扰民。")
    assert fts_ids("夜市噪音") == {other.pk}


def _integrity_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")


def _bulk_cases(cast, texts: list[str], *, defer: bool) -> list[int]:
    """Cases written as an import writes them; with `defer`, their text index left for later."""
    from xinfang.demo.writer import Inserter, reserve_ids

    columns = ["id", "number", "bureau_id", "year", "seq", "channel", "received_at", "registered_at", "title",
               "content", "category", "state", "current_organ_id"]
    with transaction.atomic():
        new_ids = reserve_ids(Case, len(texts))
        if defer:
            defer_text_index(connection, new_ids[0], new_ids[-1])
        Inserter(Case, columns).insert([
            (pk, f"DEFER-2026-{pk:06d}", cast.bureau.pk, 2026, 5000 + pk, "letter", NOW, NOW, "导入的事项", text,
             "claim", "registered", cast.bureau.pk)
            for pk, text in zip(new_ids, texts)])
    return new_ids


@SQLITE
def test_cases_whose_text_index_is_deferred_are_found_before_and_after_indexing(cast):
    """A large import leaves its batches' text index to its screening process: meanwhile search
    still finds them (the deferred ranges are scanned), and edits and deletions of such cases
    before they are indexed leave the index sound."""
    indexed = register(cast, "井盖缺失", "幸福里井盖缺失多日。")
    first = _bulk_cases(cast, ["幸福里井盖缺失,请修复。", "菜市场占道经营严重。", "夜市噪音扰民到深夜。"], defer=True)
    second = _bulk_cases(cast, ["学校门口井盖缺失。"], defer=True)
    assert deferred_ranges(connection) == 2 and fts_ids("井盖缺失") == {indexed.pk}
    assert found("井盖缺失") == {indexed.pk, first[0], second[0]}
    for q in ("占道经营", "噪音扰民", "不存在的词", "幸福里"):
        assert found(q) == ids(naive(Case.objects.all(), q))
    # Edited and deleted before their batch is indexed: nothing stale is left in the index.
    Case.objects.filter(pk=first[1]).update(content="菜市场油烟扰民。")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case WHERE id = %s", [first[2]])
    assert found("油烟扰民") == {first[1]} and found("噪音扰民") == set()
    assert index_deferred(connection, limit=1) == 1 and deferred_ranges(connection) == 1
    assert fts_ids("井盖缺失") == {indexed.pk, first[0]} and fts_ids("油烟扰民") == {first[1]}
    assert index_deferred(connection) == 1 and index_deferred(connection) == 0
    assert fts_ids("井盖缺失") == {indexed.pk, first[0], second[0]} and fts_ids("噪音扰民") == set()
    assert found("井盖缺失") == {indexed.pk, first[0], second[0]}
    _integrity_check()
    # Once indexed, a case follows the triggers again.
    Case.objects.filter(pk=second[0]).update(content="学校门口路灯不亮。")
    assert fts_ids("井盖缺失") == {indexed.pk, first[0]} and fts_ids("路灯不亮") == {second[0]}
    _integrity_check()


@SQLITE
def test_a_rebuild_leaves_nothing_deferred(cast):
    deferred = _bulk_cases(cast, ["垃圾清运不及时。"], defer=True)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {FTS_TABLE}_ai")
    assert ensure_triggers(connection) is True  # repairs and rebuilds the whole index
    assert deferred_ranges(connection) == 0 and fts_ids("垃圾清运") == set(deferred)
    _integrity_check()


def test_deferring_is_nothing_on_postgres_and_immediate_elsewhere(cast):
    """Only SQLite keeps a text index outside the table's own indexes; elsewhere the calls are
    no-ops and a deferred batch is searchable at once."""
    new_ids = _bulk_cases(cast, ["河道垃圾堆积发臭。"], defer=True)
    assert found("垃圾堆积") == set(new_ids)
    index_deferred(connection)
    assert deferred_ranges(connection) == 0 and found("垃圾堆积") == set(new_ids)


@POSTGRES
def test_postgres_cases_wait_in_the_pending_list_and_are_found_before_and_after_the_merge(cast):
    """The trigram indexes keep a long pending list (migration cases.0010): a registration only
    appends to it, and `merge_pending` moves the entries into the indexes in bulk. The server
    searches the list too, so the index answers the same before and after."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [POSTGRES_INDEXES])
        options = dict(cursor.fetchall())
    assert options == {name: [f"gin_pending_list_limit={PENDING_LIST_KB}"] for name in POSTGRES_INDEXES}
    merge_pending(connection)  # whatever the fixtures wrote
    assert merge_pending(connection) == 0
    case = register(cast, "井盖缺失", "幸福里井盖缺失多日。")
    bulk = _bulk_cases(cast, ["学校门口井盖缺失。", "菜市场占道经营严重。"], defer=False)

    def through_the_index(q):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        return found(q)

    assert through_the_index("井盖缺失") == {case.pk, bulk[0]} and through_the_index("占道经营") == {bulk[1]}
    assert merge_pending(connection) > 0  # the three cases' entries were waiting in the lists
    assert merge_pending(connection) == 0
    assert through_the_index("井盖缺失") == {case.pk, bulk[0]} and through_the_index("占道经营") == {bulk[1]}
    Case.objects.filter(pk=bulk[1]).update(content="菜市场油烟扰民。")
    assert through_the_index("占道经营") == set() and through_the_index("油烟扰民") == {bulk[1]}


@POSTGRES
def test_a_role_that_does_not_own_the_indexes_is_warned_and_its_transaction_goes_on(cast, caplog):
    """gin_clean_pending_list needs the indexes' owner. An application role without it gets 0 and
    a warning; the inserts' own cleanups keep the lists bounded, and nothing it did is lost."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test role cannot create a role")
        cursor.execute("CREATE ROLE xinfang_test_clerk")  # rolled back with the test's transaction
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO xinfang_test_clerk")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO xinfang_test_clerk")
        cursor.execute("SET LOCAL ROLE xinfang_test_clerk")
    case = register(cast, "井盖缺失", "幸福里井盖缺失多日。")
    assert merge_pending(connection) == 0
    assert "needs the owner" in caplog.text
    assert found("井盖缺失") == {case.pk}  # the transaction is still usable
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert merge_pending(connection) > 0


def test_the_periodic_merge_empties_the_pending_lists(cast):
    from xinfang.cases.tasks import merge_text_index

    merge_pending(connection)
    register(cast, "路灯不亮", "幸福里路灯损坏多日。")
    emptied = merge_text_index.call_local()
    assert (emptied > 0) == (connection.vendor == "postgresql")  # SQLite's index has no pending list
    assert merge_text_index.call_local() == 0


@POSTGRES
def test_postgres_indexes_cjk_trigrams_and_uses_them(cast, texts):
    with connection.cursor() as cursor:
        # Under a C/ASCII-only ctype pg_trgm would drop CJK characters and index nothing useful.
        cursor.execute("SELECT array_length(show_trgm('电梯故障'), 1)")
        assert cursor.fetchone()[0] == 5
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cases_case' AND indexname LIKE %s",
                       ["%trgm"])
        assert {r[0] for r in cursor.fetchall()} == {"cases_case_title_trgm", "cases_case_content_trgm"}
        sql, params = text_filter(Case.objects.order_by(), "物业费").only("pk").query.sql_with_params()
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "cases_case_content_trgm" in plan and "cases_case_title_trgm" in plan


@SQLITE
def test_a_very_common_word_is_scanned_with_the_same_result(cast, texts, monkeypatch):
    from xinfang.cases import search

    monkeypatch.setattr(search, "COMMON_HITS", 2)
    everything = Case.objects.all()
    for q in ("物业费", "abc", "古树名木"):
        qs = text_filter(everything, q)
        assert ids(qs) == ids(naive(everything, q))
    assert FTS_TABLE not in str(text_filter(everything, "abc").query)  # 3 hits ≥ 2: scanned
    assert FTS_TABLE in str(text_filter(everything, "古树名木").query)  # 1 hit: through the index


SHORT_QUERIES = ["电梯", "物业", "古树", "ab", "AB", "ａｂ", "%收", "_不", "收取", "\"p", "不存", "  ", "。"]


@pytest.mark.parametrize("q", SHORT_QUERIES)
def test_a_short_query_equals_the_naive_filter(cast, texts, q):
    """A query below the trigram length is phrased differently on PostgreSQL (strpos), with the
    same result as `contains` on either engine."""
    everything = Case.objects.all()
    assert ids(text_filter(everything, q)) == ids(naive(everything, q))


@POSTGRES
def test_postgres_never_reads_the_trigram_indexes_for_a_short_query(cast, texts):
    """They hold nothing to look a 2-character query up by: read, every case is a candidate."""
    sql, params = text_filter(Case.objects.order_by(), "古树").only("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "trgm" not in plan
