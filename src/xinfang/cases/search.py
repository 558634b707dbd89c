"""Text search over case titles and contents ("标题或内容包含"), indexed by the database itself.

Contract: `text_filter(qs, q)` returns the cases of `qs` whose title or content contains `q`, with
exactly the semantics of Django's `Q(title__contains=q) | Q(content__contains=q)` on the engine in
use; the index only narrows the candidates and the `contains` predicate is always applied on top.
`q` is data, never query syntax: quotes, `*`, `-`, `NEAR`, `AND`… are searched for literally.

The index is kept in step by the database, so every writer (the ORM, the demo's bulk `Inserter`,
the ledger importer, raw SQL) is covered without Python code (migration cases.0006_text_search):

- SQLite: an FTS5 external-content table `cases_case_fts` (trigram tokenizer) over
  `cases_case(title, content)`, maintained by AFTER INSERT/UPDATE/DELETE triggers. A phrase of
  trigrams matches exactly the texts containing the query (case-folded, so a superset of LIKE).
  A large import may defer the indexing of its batches (`defer_text_index`, `index_deferred`):
  the cases of a deferred batch are candidates of every query until they are indexed.
  A word found in more than COMMON_HITS cases is found faster by scanning newest first.
- PostgreSQL: pg_trgm GIN indexes on `title` and `content`; the planner answers `LIKE '%q%'`
  from them (CJK characters are word characters under the UTF-8 locales we deploy with, so their
  trigrams are indexed). New entries wait in the indexes' pending lists, which the server searches
  too, until `merge_pending` moves them into the indexes in bulk.

Trigram indexes cannot answer a query shorter than 3 characters (no trigram to look up). Such a
query (电梯, 拆迁, 工资 — common in Chinese) is searched by scanning the newest cases instead, and
only within a window: the last SHORT_QUERY_DAYS days unless the user gives a received-from date
(`short_query_since`). On PostgreSQL it is phrased as `strpos(…) > 0` (the same test), so the
planner cannot pick the trigram indexes for it. docs/architecture.md, "Text search", explains the
choice.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, connections, transaction
from django.db.models import Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan
from django.utils import timezone

log = logging.getLogger(__name__)

FTS_TABLE = "cases_case_fts"
MIN_INDEXED = 3  # trigram: shorter queries cannot use the index
SHORT_QUERY_DAYS = 30
# SQLite: a word in more cases than this is searched by scanning the newest cases, not through the
# index (collecting and sorting that many hits costs more than finding 10,001 of them newest first;
# the two costs meet near 100·sqrt(cases), i.e. 50,000–100,000 hits at 250,000–1,000,000 cases).
COMMON_HITS = 50_000

# SQLite: the FTS5 table and the triggers that keep it equal to cases_case. An UPDATE that leaves
# title and content alone (every workflow step) does not touch the index.
#
# A large import defers the indexing of its cases (`defer_text_index`): it records the id range of
# a batch in PENDING_TABLE before inserting it, the triggers leave the cases of a recorded range
# alone, and `index_deferred` indexes a range and removes its record in one transaction (the
# import's duplicate screening process does this while the import writes on). Until then
# `text_filter` finds those cases by scanning their ranges, so search results never change.
PENDING_TABLE = "cases_case_fts_pending"


def _not_deferred(ref: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM {PENDING_TABLE} WHERE {ref}.id BETWEEN lo AND hi)"


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON cases_case
        WHEN {_not_deferred("new")} BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON cases_case
        WHEN {_not_deferred("old")} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);
    END""",
    # A case whose indexing is deferred is not in the index yet: nothing to delete, and its range is
    # indexed from the table as it is then. (Case ids never change.)
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF id, title, content ON cases_case
        WHEN (old.id IS NOT new.id OR old.title IS NOT new.title OR old.content IS NOT new.content)
         AND {_not_deferred("old")} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);
        INSERT INTO {FTS_TABLE}(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
]
SQLITE_TRIGGER_NAMES = [f"{FTS_TABLE}_{t}" for t in ("ai", "ad", "au")]
SQLITE_PENDING = f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (lo INTEGER NOT NULL, hi INTEGER NOT NULL)"
# The whole index from the table: nothing is left deferred.
SQLITE_REBUILD = [f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')", f"DELETE FROM {PENDING_TABLE}"]
SQLITE_CREATE = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        title, content, content='cases_case', content_rowid='id', tokenize='trigram')""",
    SQLITE_PENDING,
    *SQLITE_TRIGGERS,
    *SQLITE_REBUILD,
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGER_NAMES] + [
    f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP TABLE IF EXISTS {PENDING_TABLE}"]

# PostgreSQL: a GIN index adds new entries to its "pending list" and moves them into the index
# proper in bulk ("cleanup") once the list outgrows `gin_pending_list_limit`. The writer that
# finds the list too long does the cleanup in its own statement with `work_mem` (4 MB by
# default), in small steps: most of what inserting a case costs (about 1.5 ms of the server's
# time per case, against 0.2 ms to append it to the list). `gin_clean_pending_list`, called on
# its own, works with `maintenance_work_mem` and sorts many cases' entries at once: about a third
# of that. So the trigram indexes keep a long pending list (PENDING_LIST_KB, migration
# cases.0010), and `merge_pending` empties it: a large import's screening process every
# MERGE_ROWS cases, the importer every MERGE_ROWS rows when no screening process runs and after
# its last batch, the demo loader likewise, and a periodic task (`cases.tasks.merge_text_index`)
# for the cases registered one at a time. The list is part of
# the index (queries read it too), so nothing changes for search but where the work is done.
POSTGRES_INDEXES = ["cases_case_title_trgm", "cases_case_content_trgm"]
PENDING_LIST_KB = 128 * 1024
# About 7 KB of list per case with the public messages' length: 10,000 cases fill about half of
# PENDING_LIST_KB. Merging 10,000 at once cost 7.1 s, 5,000 twice 8.2 s, 1,000 ten times 18 s
# (on 100,000 cases; the inserts' own cleanups: 30 s).
MERGE_ROWS = 10_000
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of "must be owner of index"
POSTGRES_CREATE = [
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cases_case_title_trgm ON cases_case USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cases_case_content_trgm ON cases_case USING gin (content gin_trgm_ops)",
]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {name}" for name in POSTGRES_INDEXES]


def create_index(connection) -> None:
    """Create the text index on `connection` (migration forwards). Other engines: nothing, the
    search then falls back to a scan."""
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop_index(connection) -> None:
    """Remove the text index (migration backwards). pg_trgm stays: other indexes may use it."""
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def ensure_triggers(connection) -> bool:
    """SQLite rebuilds a table to alter it (Django's schema editor copies cases_case into a new
    table and drops the old one), and the triggers go with the dropped table. Called after every
    `migrate`: recreate missing triggers and rebuild the index from the table. Returns True when
    something was repaired."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE %s",
                       [FTS_TABLE + "%"])
        names = {row[0] for row in cursor.fetchall()}
        if FTS_TABLE not in names:
            return False  # migration not applied yet (or rolled back)
        if set(SQLITE_TRIGGER_NAMES) <= names:
            return False
        _create_triggers(cursor)
        for sql in SQLITE_REBUILD:
            cursor.execute(sql)
    return True


def upgrade_triggers(connection) -> None:
    """Migration cases.0009: the deferrable triggers (and their table) replace the first ones."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        _create_triggers(cursor)


def _create_triggers(cursor) -> None:
    """The deferred-ranges table and the triggers, where missing (SQLite)."""
    cursor.execute(SQLITE_PENDING)
    for sql in SQLITE_TRIGGERS:
        cursor.execute(sql)


def defer_text_index(connection, lo: int, hi: int) -> None:
    """SQLite: leave the cases with ids lo..hi, about to be inserted in the caller's transaction,
    out of the text index until `index_deferred` indexes them. Elsewhere: nothing."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {PENDING_TABLE} (lo, hi) VALUES (%s, %s)", [lo, hi])


def deferred_ranges(connection) -> int:
    """SQLite: how many recorded ranges wait for `index_deferred`."""
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {PENDING_TABLE}")
        return cursor.fetchone()[0]


def index_deferred(connection, limit: int | None = None) -> int:
    """SQLite: index the text of deferred cases, one recorded range per transaction (the write lock
    is held for one batch's indexing at a time), oldest first; at most `limit` ranges. Returns the
    number of ranges indexed. Safe to call from several processes at once."""
    if connection.vendor != "sqlite":
        return 0
    done = 0
    while limit is None or done < limit:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # Read under the write lock (IMMEDIATE transactions): no two callers index a range twice.
            cursor.execute(f"SELECT rowid, lo, hi FROM {PENDING_TABLE} ORDER BY lo LIMIT 1")
            row = cursor.fetchone()
            if row is None:
                break
            key, lo, hi = row
            cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, title, content) "
                           f"SELECT id, title, content FROM cases_case WHERE id BETWEEN %s AND %s", [lo, hi])
            cursor.execute(f"DELETE FROM {PENDING_TABLE} WHERE rowid = %s", [key])
        done += 1
    return done


def tune_pending_lists(connection, kilobytes: int | None = PENDING_LIST_KB) -> None:
    """PostgreSQL: let the trigram indexes' pending lists grow to `kilobytes` (None: back to the
    server's `gin_pending_list_limit`) before a writer must empty them (migration cases.0010)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in POSTGRES_INDEXES:
            if kilobytes is None:
                cursor.execute(f"ALTER INDEX IF EXISTS {name} RESET (gin_pending_list_limit)")
            else:
                cursor.execute(f"ALTER INDEX IF EXISTS {name} SET (gin_pending_list_limit = {int(kilobytes)})")


def merge_pending(connection) -> int:
    """PostgreSQL: move the entries waiting in the trigram indexes' pending lists into the indexes
    proper, in bulk (`gin_clean_pending_list`). Returns the number of list pages emptied (0: there
    was nothing to move). Waits for a cleanup another session is doing. Elsewhere: 0.

    Only the indexes' owner may merge. A deployment whose application role does not own its
    tables gets a warning and 0, and the server's own cleanups (by the inserts, by autovacuum)
    keep the lists bounded as before; the caller's transaction is left usable."""
    if connection.vendor != "postgresql":
        return 0
    try:
        # A savepoint inside the caller's transaction, so a refusal does not abort it.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # to_regclass: NULL for a missing index (migration rolled back), and the strict
            # function then gives NULL too.
            cursor.execute("SELECT " + " + ".join("coalesce(gin_clean_pending_list(to_regclass(%s)), 0)"
                                                  for _ in POSTGRES_INDEXES), POSTGRES_INDEXES)
            return int(cursor.fetchone()[0])
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        log.warning("text index pending lists not merged: %s (the merge needs the owner of %s)",
                    exc, ", ".join(POSTGRES_INDEXES))
        return 0


def fts_phrase(q: str) -> str:
    """An FTS5 string literal for `q`: one phrase, so the user's text is never FTS5 syntax
    ("" is the only escape inside a string)."""
    return '"' + q.replace('"', '""') + '"'


def short_query_since() -> dt.datetime:
    """Start of the window a query shorter than MIN_INDEXED characters searches by default."""
    start = timezone.localdate() - dt.timedelta(days=SHORT_QUERY_DAYS)
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min))


def text_filter(qs, q: str):
    """Cases of `qs` whose title or content contains `q` (see the module docstring). The caller
    limits a short query to a window (`short_query_since`)."""
    contains = Q(title__contains=q) | Q(content__contains=q)
    connection = connections[qs.db]
    if len(q) >= MIN_INDEXED and connection.vendor == "sqlite":
        phrase = fts_phrase(q)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
                           [phrase, COMMON_HITS])
            common = cursor.fetchone()[0] >= COMMON_HITS
        if not common:
            # The FTS5 table yields the candidate ids; `contains` rechecks them (LIKE folds ASCII
            # case only, FTS5 folds all of Unicode, so the candidates are a superset).
            # Cases whose indexing an import deferred are candidates too (their ranges are scanned).
            qs = qs.filter(pk__in=RawSQL(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s UNION ALL "
                f"SELECT c.id FROM {PENDING_TABLE} p JOIN cases_case c ON c.id BETWEEN p.lo AND p.hi", [phrase]))
    if len(q) < MIN_INDEXED and connection.vendor == "postgresql":
        # The trigram indexes hold nothing to look a short query up by, yet the planner, taking a
        # rare word for a selective one, reads both whole (every case a candidate, 2–6 s at a
        # million cases). strpos is the same case-sensitive substring test as LIKE '%q%' but no
        # index answers it, so the short query's window is walked newest first instead.
        return qs.filter(GreaterThan(StrIndex("title", Value(q)), 0) | GreaterThan(StrIndex("content", Value(q)), 0))
    # PostgreSQL: the trigram GIN indexes answer the LIKE of `contains` themselves.
    return qs.filter(contains)
