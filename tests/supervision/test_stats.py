"""Supervision figures for the annual report (Art.41)."""
from __future__ import annotations

import datetime as dt

from xinfang.supervision import services as sv
from xinfang.supervision.models import LetterKind
from xinfang.supervision.stats import supervision_figures

JUNE = dict(start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30))


def test_figures_count_letters_answers_adoption_and_leader_work(cast, make_case, travel):
    case = make_case("handling")
    first = sv.issue_letter(cast.supervisor, case, kind=LetterKind.SUPERVISE, organ=cast.housing, reason="超期")
    proposal = sv.issue_letter(cast.supervisor, case, kind=LetterKind.IMPROVE, organ=cast.housing, reason="推诿")
    sv.issue_letter(cast.supervisor, case, kind=LetterKind.POLICY, organ=cast.city_gov, reason="政策")
    sv.answer_letter(cast.handler, first, answer="已办")
    sv.review_answer(cast.supervisor, first, accept=True)
    sv.list_case(cast.supervisor, case, reason="挂牌")
    sv.assign_leader(cast.supervisor, case, leader=cast.leader, assigned_on=dt.date(2026, 6, 1))
    sv.instruct(cast.leader, case, text="抓紧办理")
    travel(dt.date(2026, 6, 20))
    sv.answer_letter(cast.handler, proposal, answer="已整改", adoption="adopted")  # late: due 6-16

    f = supervision_figures(cast.leader, **JUNE)
    assert (f["letters"], f["letters_supervise"], f["letters_improve_advice"], f["letters_policy_advice"]) == (3, 1, 1, 1)
    assert (f["answered"], f["answered_on_time"], f["closed"], f["overdue_open"]) == (2, 1, 1, 1)
    assert (f["proposals"], f["adopted"], f["partly_adopted"], f["not_adopted"]) == (2, 1, 0, 0)
    assert (f["listed"], f["leader_cases"], f["instructions"], f["escalations"]) == (1, 1, 1, 0)
    # Another subtree sees none of it; another period neither.
    assert supervision_figures(cast.other, **JUNE)["letters"] == 0
    assert supervision_figures(cast.leader, start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 31))["letters"] == 0
