"""网上抽查: a reproducible random sample of closed cases per organ, scored against the checklist,
pass rates published."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError
from xinfang.supervision import services as sv
from xinfang.supervision.models import ChecklistItem, SpotCheck, SpotCheckItem


def test_draw_sample_is_reproducible_with_its_seed():
    population = {7: list(range(100, 160)), 3: list(range(1, 40)), 9: [500, 501]}
    first = sv.draw_sample(population, 5, "seed-2026")
    assert first == sv.draw_sample({k: list(reversed(v)) for k, v in population.items()}, 5, "seed-2026")
    assert [len(first[k]) for k in (3, 7, 9)] == [5, 5, 2]  # all of an organ with fewer cases
    assert all(set(first[k]) <= set(population[k]) for k in population)
    assert first != sv.draw_sample(population, 5, "another-seed")


@pytest.fixture
def closed_cases(cast, make_case):
    """Four closed cases at 住建局 (not accepted there) and two at the bureau (told the legal channel)."""
    housing = [workflow.not_accept_case(cast.handler, make_case("pending"), reason="不属于本机关职权范围") for _ in range(4)]
    bureau = [workflow.inform_case(cast.registrar, make_case(), channel="仲裁", reason="应当申请仲裁") for _ in range(2)]
    return {"housing": housing, "bureau": bureau}


def draw(cast, **kw):
    return sv.draw_spot_check(cast.supervisor, start=kw.pop("start", dt.date(2026, 6, 1)),
                              end=kw.pop("end", dt.date(2026, 6, 30)), per_organ=kw.pop("per_organ", 3), **kw)


def test_draw_records_the_seed_and_samples_per_organ(cast, closed_cases, checklist):
    check = draw(cast, seed="abc")
    by_organ = {}
    for item in check.items.all():
        by_organ.setdefault(item.organ_id, []).append(item.case_id)
    assert {k: len(v) for k, v in by_organ.items()} == {cast.housing.pk: 3, cast.bureau.pk: 2}
    assert check.seed == "abc" and [p["weight"] for p in check.checklist] == [50, 30, 20]
    # The same seed over the same period draws the same cases.
    again = draw(cast, seed="abc")
    assert sorted(again.items.values_list("case_id", flat=True)) == sorted(check.items.values_list("case_id", flat=True))
    # No seed given: one is generated and recorded.
    assert len(draw(cast).seed) == 16


def test_draw_refuses_bad_input(cast, closed_cases, checklist):
    with pytest.raises(WorkflowError, match="起始日"):
        draw(cast, start=dt.date(2026, 7, 1))
    with pytest.raises(WorkflowError, match="1到200"):
        draw(cast, per_organ=0)
    with pytest.raises(WorkflowError, match="没有可抽查"):
        draw(cast, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ChecklistItem.objects.update(is_active=False)
    with pytest.raises(WorkflowError, match="检查项"):
        draw(cast)
    assert not SpotCheck.objects.exists()


@pytest.mark.parametrize("who", ["handler", "leader", "registrar"])
def test_only_supervisors_draw(cast, closed_cases, checklist, as_user, who):
    response = as_user(getattr(cast, who)).post(reverse("supervision:spot_checks"),
                                                {"start": "2026-06-01", "end": "2026-06-30", "per_organ": 3})
    assert response.status_code == 403 and "网上抽查须由督查员办理。" in response.content.decode()
    assert not SpotCheck.objects.exists()


def test_scoring_against_the_checklist_and_publishing_pass_rates(cast, closed_cases, checklist, as_user):
    client = as_user(cast.supervisor)
    response = client.post(reverse("supervision:spot_checks"),
                           {"start": "2026-06-01", "end": "2026-06-30", "per_organ": 2, "seed": "s1"})
    check = SpotCheck.objects.get()
    assert response.status_code == 302 and check.items.count() == 4
    housing_items = list(check.items.filter(organ=cast.housing))
    bureau_items = list(check.items.filter(organ=cast.bureau))
    a, b, c = (str(i.pk) for i in checklist)
    # Publishing before every case is scored is refused.
    assert client.post(reverse("supervision:spot_publish", args=[check.pk])).status_code == 400

    def score(item, met):
        prefix = f"i{item.pk}"
        data = {f"{prefix}-met": met, f"{prefix}-note": "评查"}
        assert client.post(reverse("supervision:spot_score", args=[item.pk]), data).status_code == 302
        item.refresh_from_db()
        return item

    assert score(housing_items[0], [a, b, c]).score == Decimal("100.0")
    second = score(housing_items[1], [a, c])  # 70 < 80: fails
    assert (second.score, second.passed) == (Decimal("70.0"), False)
    score(bureau_items[0], [a, b])  # 80: passes
    score(bureau_items[1], [a, b, c])
    # A checklist item edited now does not change this check's scoring.
    ChecklistItem.objects.filter(pk=checklist[2].pk).update(weight=90)
    assert score(housing_items[1], [a, c]).score == Decimal("70.0")

    rates = {r.organ: (r.sampled, r.passed, r.rate) for r in sv.pass_rates(check)}
    assert rates == {cast.housing: (2, 1, 0.5), cast.bureau: (2, 2, 1.0)}
    assert client.post(reverse("supervision:spot_publish", args=[check.pk])).status_code == 302
    check.refresh_from_db()
    assert check.published_at
    # Scores are frozen once published.
    with pytest.raises(WorkflowError, match="已经公布"):
        sv.score_item(cast.supervisor, housing_items[1], met=[a])
    # Published pass rates are open to every organ's staff (the numbers, not the cases).
    results = as_user(cast.handler).get(reverse("supervision:spot_results")).content.decode()
    assert cast.housing.name in results and "50%" in results and "100%" in results


def test_bad_checklist_ids_and_other_supervisors_are_refused(cast, closed_cases, checklist, as_user):
    check = draw(cast, seed="x")
    item = check.items.first()
    with pytest.raises(WorkflowError, match="检查项无效"):
        sv.score_item(cast.supervisor, item, met=[999999])
    # A supervisor of 东湖区信访局 does not oversee this check: missing.
    from tests.conftest import _user
    from xinfang.orgs.models import Role

    district_sup = _user("dh_sup", cast.district_bureau, Role.SUPERVISOR)
    assert as_user(district_sup).get(reverse("supervision:spot_check", args=[check.pk])).status_code == 404
    assert as_user(district_sup).post(reverse("supervision:spot_score", args=[item.pk]), {}).status_code == 404
    item.refresh_from_db()
    assert item.score is None
    assert SpotCheckItem.objects.filter(score__isnull=False).count() == 0
