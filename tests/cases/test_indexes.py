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
