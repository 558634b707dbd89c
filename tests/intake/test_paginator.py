"""CappedPaginator (intake.views): pages found as ids first, then rows, equal what Django's
Paginator gives; a short first page is counted without a COUNT query."""
from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinfang.cases.models import Case
from xinfang.intake.views import CappedPaginator


@pytest.fixture
def cases(make_case):
    return [make_case("pending") for _ in range(7)]


def newest_first():
    return Case.objects.select_related("current_organ").prefetch_related("petitioners").order_by("-received_at", "-id")


@pytest.mark.parametrize("per_page,orphans", [(2, 0), (3, 1), (7, 0), (10, 0)])
def test_every_page_equals_djangos(cases, per_page, orphans):
    ours = CappedPaginator(newest_first(), per_page, cap=100, orphans=orphans)
    theirs = Paginator(newest_first(), per_page, orphans=orphans)
    assert ours.count == theirs.count == 7 and ours.num_pages == theirs.num_pages
    for number in theirs.page_range:
        page = ours.page(number)
        assert [c.pk for c in page] == [c.pk for c in theirs.page(number)]
        assert all(c.current_organ.pk for c in page)  # the joins of the list are kept


@pytest.mark.parametrize("per_page", [7, 10])
def test_a_short_first_page_is_counted_from_its_rows(cases, per_page):
    paginator = CappedPaginator(newest_first(), per_page, cap=100)
    with CaptureQueriesContext(connection) as ctx:
        page = paginator.get_page("1")
    assert len(page) == 7 and paginator.count == 7 and not paginator.capped
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def test_a_full_first_page_is_still_counted_and_capped(cases):
    paginator = CappedPaginator(newest_first(), 2, cap=5)
    page = paginator.get_page(1)
    assert len(page) == 2 and paginator.count == 5 and paginator.capped and paginator.num_pages == 3
    short = CappedPaginator(newest_first(), 10, cap=5)
    assert len(short.get_page(1)) == 5 and short.count == 5 and short.capped  # same answer as counting


def test_an_empty_list_has_one_empty_page(db):
    paginator = CappedPaginator(Case.objects.none(), 10)
    page = paginator.get_page(1)
    assert list(page) == [] and paginator.count == 0 and paginator.num_pages == 1


@pytest.mark.parametrize("number", [None, "", "x", 1, "1"])
def test_the_first_page_is_read_once(cases, number):
    """get_page(None) (no ?page=) turns into page(1): the first ids are not read twice."""
    paginator = CappedPaginator(newest_first(), 2, cap=100)
    with CaptureQueriesContext(connection) as ctx:
        page = paginator.get_page(number)
    assert page.number == 1 and len(page) == 2 and paginator.count == 7
    id_queries = [q for q in ctx.captured_queries if "LIMIT 3" in q["sql"]]
    assert len(id_queries) == 1, [q["sql"] for q in ctx.captured_queries]
