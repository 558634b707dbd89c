"""xinfang supervision letters | ranking."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command

from xinfang.supervision import ranking as rk
from xinfang.supervision import services as sv
from xinfang.supervision.models import LetterKind, RankingMetric


def run(*args) -> str:
    out = io.StringIO()
    call_command("supervision", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_letters_lists_open_letters_and_marks_overdue(cast, make_case, travel):
    case = make_case("handling")
    first = sv.issue_letter(cast.supervisor, case, kind=LetterKind.SUPERVISE, organ=cast.housing, reason="超期")
    travel(dt.date(2026, 6, 10))
    second = sv.issue_letter(cast.supervisor, case, kind=LetterKind.REMIND, organ=cast.housing, reason="提醒")
    travel(dt.date(2026, 6, 20))
    lines = run("letters").splitlines()
    assert [line.split("\t")[0] for line in lines] == [first.document.number, second.document.number]
    assert lines[0].endswith("OVERDUE") and lines[1].endswith("open")
    assert run("letters", "--overdue").splitlines() == lines[:1]
    assert run("letters", "--organ", "JZRS") == ""


def test_ranking_export(cast, tmp_path, monkeypatch):
    RankingMetric.objects.all().delete()
    RankingMetric.objects.create(code="timely_acceptance", name="及时受理率", weight=1)
    monkeypatch.setattr(rk, "_compute", lambda user, organ, start, end: {})
    out = tmp_path / "board.csv"
    assert "0 ranked" in run("ranking", "leader", str(out), "--month", "2026-05")
    assert out.read_bytes().startswith("\ufeff排名".encode())
    with pytest.raises(CommandError):
        run("ranking", "handler", str(out))
    with pytest.raises(CommandError):
        run("ranking", "leader", str(tmp_path / "board.txt"))


def test_ranking_lists_organs_with_too_few_cases(cast, tmp_path, monkeypatch):
    RankingMetric.objects.all().delete()
    RankingMetric.objects.create(code="timely_acceptance", name="及时受理率", weight=1)

    @dataclass
    class Figure:
        numerator: int
        denominator: int | None

    sizes = {cast.housing.pk: 12, cast.labour.pk: 12, cast.urban.pk: 1}
    monkeypatch.setattr(rk, "_compute", lambda user, organ, start, end: {
        "timely_acceptance": Figure(sizes.get(organ.pk, 0), sizes.get(organ.pk, 0)),
        "received": Figure(sizes.get(organ.pk, 0), None)})
    out = tmp_path / "board.xlsx"
    lines = run("ranking", "leader", str(out), "--month", "2026-05").splitlines()
    assert "2 ranked, 1 with too few cases (under 10)" in lines[0]
    assert f"{cast.urban.name}\t1\t100.0\t样本不足,不参与排名" in lines
