"""红黑榜: the monthly ranking of organs by the core metrics (REGULATION §5 Art.39 通报, §7).

Each organ's score is the weighted mean of its metric rates, with the weights of the active
`RankingMetric` rows (admin-editable):

    score = Σ wᵢ·sᵢ ÷ Σ wᵢ   over the metrics the organ has data for (denominator > 0),
    sᵢ = rate when higher is better, 1 − rate when lower is better (e.g. 重复信访率).

The rates come from `xinfang.analytics.metrics.compute_metrics(user, organ=…, start=…, end=…)`,
the same function behind the dashboards and the API, so the ranking agrees with them.

Two kinds of organ are listed apart, unranked, with the reason (page, exports and CLI alike):
- 无数据: no data for any weighted metric (every denominator is 0);
- 样本不足: fewer than `SUPERVISION_RANKING_MIN_CASES` cases in the month (default 10; 0 turns the
  minimum off). The count is `compute_metrics`'s 信访总量 (`received`): the cases received in the
  month whose responsible organ (责任机关) is the organ or below it, as the user sees them. A rate
  over one or two cases (1 of 1 = 100%) says little, so such an organ is shown with its figures and
  score but never ranked nor put on either list.

The best `SUPERVISION_RANKING_LIST_SIZE` ranked organs form the red list and the worst the black
list (at most half the ranked organs each; organs tied at a cut are listed together, and an organ
tied across both cuts is on neither).
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from xinfang.orgs.models import Organ

from . import conf
from .models import RankingMetric


@dataclass
class RankRow:
    organ: Organ
    metrics: dict  # code -> Metric (numerator, denominator, rate) or None
    score: float | None
    rank: int | None = None
    board: str = ""  # "red", "black" or ""
    cases: int = 0  # cases received in the month (信访总量), the base of the minimum
    reason: str = ""  # why the organ is unranked: NO_DATA or FEW_CASES; "" when ranked

    @property
    def board_label(self) -> str:
        return {"red": _("红榜"), "black": _("黑榜")}.get(self.board, "")

    @property
    def reason_label(self) -> str:
        return {NO_DATA: _("无数据,不参与排名"), FEW_CASES: _("样本不足,不参与排名")}.get(self.reason, "")

    @property
    def status_label(self) -> str:
        """The list the organ is on, or why it is not ranked (the exports' 榜单 column)."""
        return self.reason_label or self.board_label


NO_DATA, FEW_CASES = "no_data", "few_cases"


@dataclass
class Ranking:
    month: dt.date
    start: dt.date
    end: dt.date
    metrics: list[RankingMetric]
    rows: list[RankRow] = field(default_factory=list)  # ranked, best first
    unranked: list[RankRow] = field(default_factory=list)  # 样本不足 first, then 无数据; by name
    min_cases: int = 0  # SUPERVISION_RANKING_MIN_CASES when the ranking was built

    @property
    def red(self) -> list[RankRow]:
        return [r for r in self.rows if r.board == "red"]

    @property
    def black(self) -> list[RankRow]:
        return [r for r in self.rows if r.board == "black"]

    @property
    def too_few(self) -> list[RankRow]:
        return [r for r in self.unranked if r.reason == FEW_CASES]

    @property
    def no_data(self) -> list[RankRow]:
        return [r for r in self.unranked if r.reason == NO_DATA]


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the month of `month`."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def ranked_organs(user) -> list[Organ]:
    """The organs a ranking covers: the active organs below the user's organ (the organs whose
    figures `compute_metrics` gives the user). The user's own organ is left out: its figures
    cover all of them, so it is not their peer."""
    below = user.organ.descendant_ids() - {user.organ_id}
    return list(Organ.objects.filter(pk__in=below, is_active=True).order_by("name"))


def _compute(user, organ, start, end):
    # Imported on use: the analytics app owns the formulas (and tests may stand in for it).
    from xinfang.analytics import metrics

    return metrics.compute_metrics(user, organ=organ, start=start, end=end)


def _rate(metric) -> float | None:
    if metric is None or not getattr(metric, "denominator", 0):
        return None
    rate = getattr(metric, "rate", None)
    if rate is None:
        rate = metric.numerator / metric.denominator
    return float(rate)


def _case_count(values) -> int:
    """The organ's cases in the month: 信访总量 (`received`, a plain count). Missing, it counts as
    none, so an organ whose sample size is unknown is never ranked on it."""
    received = values.get("received")
    return int(getattr(received, "numerator", 0) or 0)


def build_ranking(user, month: dt.date, organs=None) -> Ranking:
    """The 红黑榜 of `month` for the organs under `user` (see the module docstring)."""
    start, end = month_bounds(month)
    weights = [m for m in RankingMetric.objects.filter(is_active=True, weight__gt=0)]
    min_cases = conf.ranking_min_cases()
    ranking = Ranking(month=start, start=start, end=end, metrics=weights, min_cases=min_cases)
    scored = []
    for organ in organs if organs is not None else ranked_organs(user):
        values = _compute(user, organ, start, end)
        picked = {m.code: values.get(m.code) for m in weights}
        num = den = 0.0
        for m in weights:
            rate = _rate(picked[m.code])
            if rate is None:
                continue
            num += m.weight * (rate if m.higher_is_better else 1 - rate)
            den += m.weight
        row = RankRow(organ=organ, metrics=picked, score=round(100 * num / den, 2) if den else None,
                      cases=_case_count(values))
        if not den:
            row.reason = NO_DATA
        elif row.cases < min_cases:
            row.reason = FEW_CASES
        (ranking.unranked if row.reason else scored).append(row)
    ranking.unranked.sort(key=lambda r: (r.reason != FEW_CASES, r.organ.name))
    scored.sort(key=lambda r: (-r.score, r.organ.name))
    previous, rank = None, 0
    for i, row in enumerate(scored, 1):
        rank = rank if row.score == previous else i  # ties share a rank (1, 2, 2, 4)
        row.rank, previous = rank, row.score
    size = min(conf.ranking_list_size(), len(scored) // 2)
    if size:
        top, bottom = scored[size - 1].score, scored[len(scored) - size].score
        # Ties at a cut go on the list together; an organ tied across both cuts goes on neither.
        for row in scored:
            red, black = row.score >= top, row.score <= bottom
            row.board = "red" if red and not black else "black" if black and not red else ""
    ranking.rows = scored
    return ranking


# --------------------------------------------------------------------------- export


def table(ranking: Ranking) -> tuple[list[str], list[list]]:
    """Header and rows for the exports: rank, organ, score, list (or why the organ is unranked),
    cases in the month, then each metric's rate and numerator/denominator, as the page shows them."""
    header = [_("排名"), _("单位"), _("综合得分"), _("榜单"), _("信访件数")]
    for m in ranking.metrics:
        header += [f"{m.name}(%)", _("%(name)s分子/分母") % {"name": m.name}]
    rows = []
    for row in ranking.rows + ranking.unranked:
        line = [row.rank or "", row.organ.name, "" if row.score is None else row.score, row.status_label, row.cases]
        for m in ranking.metrics:
            metric = row.metrics.get(m.code)
            rate = _rate(metric)
            line += ["" if rate is None else round(100 * rate, 2),
                     f"{metric.numerator}/{metric.denominator}" if metric is not None else ""]
        rows.append(line)
    return header, rows


def to_csv(ranking: Ranking) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    header, rows = table(ranking)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(ranking: Ranking) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    header, rows = table(ranking)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{ranking.month:%Y-%m}"
    ws.append([_("%(month)s 红黑榜") % {"month": f"{ranking.month.year}年{ranking.month.month}月"}])
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    fills = {_("红榜"): PatternFill("solid", fgColor="F8D7DA"), _("黑榜"): PatternFill("solid", fgColor="D6D8DB")}
    for line in rows:
        ws.append(line)
        fill = fills.get(line[3])
        if fill:
            for cell in ws[ws.max_row]:
                cell.fill = fill
    if ranking.min_cases:
        ws.append([])
        ws.append([_("本月信访件数少于%(n)s件的单位样本不足,列出其数据但不参与排名。") % {"n": ranking.min_cases}])
    ws.column_dimensions["B"].width = 30
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
