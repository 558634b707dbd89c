"""The list indexes (docs/architecture.md, "Case lists over a million cases"): the partial inbox
index must hold exactly the states the inbox and the home page count, or PostgreSQL could no longer
use it for them (a partial index serves a query only when its condition follows from the query's)."""
from __future__ import annotations

from xinfang.cases.models import Case
from xinfang.handling.views import INBOX_STATES


def _index(name):
    return next(index for index in Case._meta.indexes if index.name == name)


def test_the_inbox_index_holds_exactly_the_inbox_states():
    (lookup, states), = _index("cases_case_inbox_idx").condition.children
    assert lookup == "state__in" and set(states) == set(INBOX_STATES)


def test_the_list_indexes_cover_what_visibility_reads():
    """cases_visible_to reads state, category, current/handling/accused organ and the id."""
    needed = {"state", "category", "current_organ", "handling_organ", "accused_organ"}
    assert needed | {"id"} <= set(_index("cases_case_inbox_idx").fields)
    assert needed | {"-id"} <= set(_index("cases_case_newest_idx").fields)


# (table, column): single-column indexes dropped because an index starting with the column serves
# the same lookups (migrations cases.0011, deadlines.0006, dedup.0002, ledger.0003).
SERVED_BY_ANOTHER = [("cases_case", "bureau_id"), ("cases_case", "state"), ("cases_caseorgan", "organ_id"),
                     ("ledger_ledgerrow", "bureau_id"), ("ledger_ledgerrow", "job_id"),
                     ("dedup_link", "case_id"), ("dedup_link", "root_id")]
# Exact lookups only: one index each, without PostgreSQL's pattern (`_like`) twin.
EXACT_ONLY = [("cases_petitioner", "id_number"), ("cases_petitioner", "phone"), ("deadlines_deadline", "rule_id")]


def _indexes(table):
    from django.db import connection

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c for c in found.values() if c["index"] or c["unique"] or c["primary_key"]]


def test_no_index_repeats_the_start_of_another(db):
    """Every case written updates every index of its rows: an import pays for each one."""
    for table, column in SERVED_BY_ANOTHER:
        indexes = _indexes(table)
        assert not [c for c in indexes if c["columns"] == [column]], (table, column)
        assert [c for c in indexes if len(c["columns"]) > 1 and c["columns"][0] == column], (table, column)
    for table, column in EXACT_ONLY:
        assert len([c for c in _indexes(table) if c["columns"] == [column]]) == 1, (table, column)
    # Deadlines by due date are always open ones (is_open, due_on) or one case's.
    assert not [c for c in _indexes("deadlines_deadline") if c["columns"] == ["due_on"]]
    assert [c for c in _indexes("deadlines_deadline") if c["columns"] == ["is_open", "due_on"]]
