"""红黑榜: monthly ranking of organs by the core metrics (weights configurable), exportable."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import openpyxl
import pytest
from django.urls import reverse

from xinfang.supervision import ranking as rk
from xinfang.supervision.models import RankingMetric


@dataclass
class FakeMetric:
    numerator: int
    denominator: int | None

    @property
    def rate(self):
        return self.numerator / self.denominator if self.denominator else None


def received(n: int) -> FakeMetric:
    """信访总量 as compute_metrics gives it: a plain count (no denominator)."""
    return FakeMetric(n, None)


@pytest.fixture
def metrics(db):
    RankingMetric.objects.all().delete()
    return [RankingMetric.objects.create(code="timely_acceptance", name="及时受理率", weight=60, sort=0),
            RankingMetric.objects.create(code="repeat_rate", name="重复信访率", weight=40, higher_is_better=False, sort=1)]


class Calls(list):
    """The (organ, start, end) of each compute call, with the fixture's `table` and `sizes`."""


@pytest.fixture
def figures(monkeypatch, cast):
    """Stand-in for analytics.compute_metrics: per organ, (timely n/d, repeat n/d), each organ with
    10 cases received in the month (the default minimum) unless `sizes` says otherwise."""
    table = {
        cast.housing.pk: ((9, 10), (1, 10)),   # 0.6*0.9 + 0.4*0.9 = 0.90
        cast.labour.pk: ((10, 10), (5, 10)),   # 0.6*1.0 + 0.4*0.5 = 0.80
        cast.urban.pk: ((5, 10), (0, 10)),     # 0.6*0.5 + 0.4*1.0 = 0.70
        cast.bureau.pk: ((6, 10), (2, 10)),    # 0.36 + 0.32 = 0.68
        cast.district_bureau.pk: ((0, 0), (0, 0)),  # no data: unranked
    }
    calls = Calls()

    def compute(user, organ, start, end):
        calls.append((organ.pk, start, end))
        (tn, td), (rn, rd) = table.get(organ.pk, ((0, 0), (0, 0)))
        return {"timely_acceptance": FakeMetric(tn, td), "repeat_rate": FakeMetric(rn, rd),
                "received": received(sizes.get(organ.pk, 10 if td else 0))}

    sizes = {}
    monkeypatch.setattr(rk, "_compute", compute)
    calls.table, calls.sizes = table, sizes
    return calls


def test_ranking_order_and_the_red_and_black_lists(cast, metrics, figures, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 17))
    assert (board.start, board.end) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert {(s, e) for _o, s, e in figures} == {(dt.date(2026, 5, 1), dt.date(2026, 5, 31))}
    assert [(r.organ, r.score, r.rank) for r in board.rows] == [
        (cast.housing, 90.0, 1), (cast.labour, 80.0, 2), (cast.urban, 70.0, 3), (cast.bureau, 68.0, 4)]
    assert [r.organ for r in board.red] == [cast.housing] and [r.organ for r in board.black] == [cast.bureau]
    assert [r.organ for r in board.unranked] == [cast.district_bureau]


def test_weights_are_configurable(cast, metrics, figures):
    RankingMetric.objects.filter(code="repeat_rate").update(is_active=False)
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1))
    assert [(r.organ, r.score) for r in board.rows][:2] == [(cast.labour, 100.0), (cast.housing, 90.0)]


def test_lists_never_overlap_and_ties_share_a_rank(cast, metrics, monkeypatch):
    monkeypatch.setattr(rk, "_compute", lambda user, organ, start, end: {
        "timely_acceptance": FakeMetric(1, 2), "repeat_rate": FakeMetric(1, 2), "received": received(10)})
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1), organs=[cast.housing, cast.labour, cast.urban])
    assert [r.rank for r in board.rows] == [1, 1, 1]
    assert not board.red and not board.black  # all tied: nobody is better or worse


def test_ties_at_a_cut_are_listed_together(cast, metrics, monkeypatch, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    rates = {cast.housing.pk: 9, cast.labour.pk: 5, cast.urban.pk: 5, cast.bureau.pk: 7}
    monkeypatch.setattr(rk, "_compute", lambda user, organ, start, end: {
        "timely_acceptance": FakeMetric(rates[organ.pk], 10), "repeat_rate": FakeMetric(0, 10),
        "received": received(10)})
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1),
                             organs=[cast.housing, cast.labour, cast.urban, cast.bureau])
    assert [r.organ for r in board.red] == [cast.housing]
    assert {r.organ for r in board.black} == {cast.labour, cast.urban}
    assert [r.rank for r in board.rows] == [1, 2, 3, 3]


def test_ranking_page_and_exports(cast, metrics, figures, as_user):
    client = as_user(cast.leader)
    page = client.get(reverse("supervision:ranking"), {"month": "2026-05"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "红榜" in html and "黑榜" in html and cast.housing.name in html

    response = client.get(reverse("supervision:ranking_export", args=["csv"]), {"month": "2026-05"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["排名", "单位", "综合得分", "榜单", "信访件数"]
    assert [r[1] for r in rows[1:]] == [cast.housing.name, cast.labour.name, cast.urban.name, cast.bureau.name,
                                        cast.district_bureau.name]
    assert rows[1][2] == "90.0" and rows[1][3] == "红榜" and rows[1][4] == "10"
    assert rows[1][5] == "90.0" and rows[1][6] == "9/10"
    assert rows[5][:5] == ["", cast.district_bureau.name, "", "无数据,不参与排名", "0"]

    response = client.get(reverse("supervision:ranking_export", args=["xlsx"]), {"month": "2026-05"})
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert ws.title == "2026-05" and ws["A2"].value == "排名" and ws["B3"].value == cast.housing.name
    assert ws["D3"].value == "红榜" and ws["D6"].value == "黑榜"


@pytest.mark.parametrize("who", ["handler", "registrar", "head"])
def test_ranking_is_for_supervisors_leaders_and_analysts(cast, metrics, figures, as_user, who):
    response = as_user(getattr(cast, who)).get(reverse("supervision:ranking"))
    assert response.status_code == 403 and "红黑榜仅供" in response.content.decode()
    assert as_user(getattr(cast, who)).get(reverse("supervision:ranking_export", args=["csv"])).status_code == 403


def test_bad_month_is_refused(cast, metrics, figures, as_user):
    response = as_user(cast.leader).get(reverse("supervision:ranking"), {"month": "2026-13"})
    assert response.status_code == 400 and "YYYY-MM" in response.content.decode()


def test_ranking_with_the_real_metrics(cast, make_case, settings):
    """Against xinfang.analytics: the seeded metric codes exist there and an organ with cases ranks."""
    from xinfang.analytics.metrics import compute_metrics

    make_case("handling")
    codes = set(compute_metrics(cast.leader, organ=cast.housing, start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30)))
    seeded = {"timely_acceptance", "on_time_completion", "satisfaction_organ", "first_resolution", "repeat_rate"}
    assert seeded <= codes
    RankingMetric.objects.all().delete()
    for code in seeded:
        RankingMetric.objects.create(code=code, name=code, weight=10, higher_is_better=code != "repeat_rate")
    board = rk.build_ranking(cast.leader, dt.date(2026, 6, 1))
    # One case in June: 样本不足 under the default minimum of 10, counted by 信访总量.
    assert [(r.organ, r.cases, r.reason) for r in board.too_few] == [(cast.housing, 1, rk.FEW_CASES)]
    assert cast.labour in [r.organ for r in board.no_data]  # no cases at all
    settings.SUPERVISION_RANKING_MIN_CASES = 1
    board = rk.build_ranking(cast.leader, dt.date(2026, 6, 1))
    assert cast.housing in [r.organ for r in board.rows]
    assert cast.labour in [r.organ for r in board.unranked]


# --------------------------------------------------------------------------- minimum case count


@pytest.fixture
def tiny_perfect_organ(cast, figures):
    """城管局 with a single case in the month, and that one perfect: 100 on every metric."""
    figures.table[cast.urban.pk] = ((1, 1), (0, 1))
    figures.sizes[cast.urban.pk] = 1
    return cast.urban


def test_default_minimum_is_ten_cases():
    assert rk.conf.ranking_min_cases() == 10


def test_an_organ_with_one_perfect_case_is_not_ranked_nor_on_the_red_list(cast, metrics, tiny_perfect_organ, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1))
    assert tiny_perfect_organ not in [r.organ for r in board.rows + board.red + board.black]
    # The best organ with enough cases heads the red list instead.
    assert [r.organ for r in board.red] == [cast.housing] and [r.organ for r in board.black] == [cast.bureau]
    assert [(r.organ, r.rank) for r in board.rows] == [(cast.housing, 1), (cast.labour, 2), (cast.bureau, 3)]
    # Still shown, with its figures, apart and with the reason; 样本不足 before 无数据.
    (row,) = board.too_few
    assert (row.organ, row.cases, row.score, row.rank, row.board) == (tiny_perfect_organ, 1, 100.0, None, "")
    assert row.reason_label == "样本不足,不参与排名" == row.status_label
    assert [r.organ for r in board.unranked] == [tiny_perfect_organ, cast.district_bureau]


def test_an_organ_at_exactly_the_minimum_is_ranked(cast, metrics, figures, tiny_perfect_organ, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    settings.SUPERVISION_RANKING_MIN_CASES = 5
    figures.sizes[tiny_perfect_organ.pk] = 4
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1))
    assert [r.organ for r in board.too_few] == [tiny_perfect_organ]
    figures.sizes[tiny_perfect_organ.pk] = 5
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1))
    assert not board.too_few
    assert [(r.organ, r.rank, r.board) for r in board.rows][0] == (tiny_perfect_organ, 1, "red")


def test_minimum_zero_restores_ranking_every_organ_with_data(cast, metrics, tiny_perfect_organ, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    settings.SUPERVISION_RANKING_MIN_CASES = 0
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1))
    assert [r.organ for r in board.red] == [tiny_perfect_organ] and board.red[0].score == 100.0
    assert not board.too_few and [r.organ for r in board.unranked] == [cast.district_bureau]
    assert len(board.rows) == 4


@pytest.mark.parametrize("value", [-1, "ten", 100001])
def test_a_bad_minimum_is_refused(settings, value):
    from django.core.exceptions import ImproperlyConfigured

    settings.SUPERVISION_RANKING_MIN_CASES = value
    with pytest.raises(ImproperlyConfigured, match="SUPERVISION_RANKING_MIN_CASES"):
        rk.conf.ranking_min_cases()


def test_too_few_cases_shown_unranked_in_the_page_and_exports(cast, metrics, tiny_perfect_organ, as_user):
    client = as_user(cast.leader)
    html = client.get(reverse("supervision:ranking"), {"month": "2026-05"}).content.decode()
    assert "样本不足,不参与排名" in html and "少于 10 件" in html
    assert html.index(tiny_perfect_organ.name) > html.index(cast.bureau.name)  # after the ranked organs
    assert "100.0% <span class=\"muted\">1/1</span>" in html  # its figures are shown

    response = client.get(reverse("supervision:ranking_export", args=["csv"]), {"month": "2026-05"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    (line,) = [r for r in rows if r[1] == tiny_perfect_organ.name]
    assert line[:7] == ["", tiny_perfect_organ.name, "100.0", "样本不足,不参与排名", "1", "100.0", "1/1"]
    assert "红榜" not in line

    response = client.get(reverse("supervision:ranking_export", args=["xlsx"]), {"month": "2026-05"})
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    (cells,) = [[c.value for c in r] for r in ws.iter_rows() if r[1].value == tiny_perfect_organ.name]
    assert cells[0] is None and cells[3] == "样本不足,不参与排名" and cells[4] == 1
    assert any("少于10件" in str(r[0].value) for r in ws.iter_rows() if r[0].value)
