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
    denominator: int

    @property
    def rate(self):
        return self.numerator / self.denominator if self.denominator else None


@pytest.fixture
def metrics(db):
    RankingMetric.objects.all().delete()
    return [RankingMetric.objects.create(code="timely_acceptance", name="及时受理率", weight=60, sort=0),
            RankingMetric.objects.create(code="repeat_rate", name="重复信访率", weight=40, higher_is_better=False, sort=1)]


@pytest.fixture
def figures(monkeypatch, cast):
    """Stand-in for analytics.compute_metrics: per organ, (timely n/d, repeat n/d)."""
    table = {
        cast.housing.pk: ((9, 10), (1, 10)),   # 0.6*0.9 + 0.4*0.9 = 0.90
        cast.labour.pk: ((10, 10), (5, 10)),   # 0.6*1.0 + 0.4*0.5 = 0.80
        cast.urban.pk: ((5, 10), (0, 10)),     # 0.6*0.5 + 0.4*1.0 = 0.70
        cast.bureau.pk: ((6, 10), (2, 10)),    # 0.36 + 0.32 = 0.68
        cast.district_bureau.pk: ((0, 0), (0, 0)),  # no data: unranked
    }
    calls = []

    def compute(user, organ, start, end):
        calls.append((organ.pk, start, end))
        (tn, td), (rn, rd) = table.get(organ.pk, ((0, 0), (0, 0)))
        return {"timely_acceptance": FakeMetric(tn, td), "repeat_rate": FakeMetric(rn, rd)}

    monkeypatch.setattr(rk, "_compute", compute)
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
        "timely_acceptance": FakeMetric(1, 2), "repeat_rate": FakeMetric(1, 2)})
    board = rk.build_ranking(cast.leader, dt.date(2026, 5, 1), organs=[cast.housing, cast.labour, cast.urban])
    assert [r.rank for r in board.rows] == [1, 1, 1]
    assert not board.red and not board.black  # all tied: nobody is better or worse


def test_ties_at_a_cut_are_listed_together(cast, metrics, monkeypatch, settings):
    settings.SUPERVISION_RANKING_LIST_SIZE = 1
    rates = {cast.housing.pk: 9, cast.labour.pk: 5, cast.urban.pk: 5, cast.bureau.pk: 7}
    monkeypatch.setattr(rk, "_compute", lambda user, organ, start, end: {
        "timely_acceptance": FakeMetric(rates[organ.pk], 10), "repeat_rate": FakeMetric(0, 10)})
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
    assert rows[0][:4] == ["排名", "单位", "综合得分", "榜单"]
    assert [r[1] for r in rows[1:]] == [cast.housing.name, cast.labour.name, cast.urban.name, cast.bureau.name,
                                        cast.district_bureau.name]
    assert rows[1][2] == "90.0" and rows[1][3] == "红榜" and rows[1][4] == "90.0" and rows[1][5] == "9/10"

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


def test_ranking_with_the_real_metrics(cast, make_case):
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
    assert cast.housing in [r.organ for r in board.rows]
    assert cast.labour in [r.organ for r in board.unranked]  # no cases at all
