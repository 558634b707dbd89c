"""A 检举控告 against an organ gives that organ no duplicate refusal either (条例第30条第3款).

The refusal of a repeated petition (Art.19 ¶3) is normally told even when the earlier case is at
an organ the registrar may not see. For the accused organ of a report it would tell that this
person has reported it, so it is left out there, and only there.
"""
from __future__ import annotations

from django.urls import reverse

from xinfang.cases import workflow
from xinfang.cases.models import Category, RouteKind
from xinfang.dedup import service

from .conftest import PERSON

CONTENT = "城管局执法人员在东湖区夜市多次收受摊贩好处费,对违规占道经营视而不见,请求调查处理。"


def _report(cast, register):
    case = register(category=Category.REPORT, accused_organ=cast.urban, title="举报城管执法人员收受好处", content=CONTENT)
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.DISCIPLINE, organ=cast.discipline)
    return workflow.accept_case(cast.discipline_handler, case, route="report")


def _refusals(user):
    found = service.screen_draft(user, title="举报城管执法人员收受好处", content=CONTENT, petitioners=[PERSON])
    return [c.refusal for c in found if c.case is None and c.refusal]


def test_the_accused_organ_gets_no_refusal_from_a_report_against_it_art30(cast, register):
    _report(cast, register)
    assert _refusals(cast.other)  # another organ is told why, without the case (Art.19 ¶3)
    assert _refusals(cast.accused) == []


def test_the_accused_organ_gets_no_hidden_refusal_on_its_own_case_art30(cast, register, client):
    report = _report(cast, register)
    # The same person then petitions 城管局 itself about the same facts.
    own = workflow.register_case(cast.accused, {**_data(), "category": Category.CLAIM}, [workflow.PetitionerData(**PERSON)])
    assert service.Link.objects.filter(case=own, earlier=report).exists()
    assert service.hidden_refusals(cast.accused, own) == []
    client.force_login(cast.accused)
    assert "内容不予显示" not in client.get(reverse("dedup:case_panel", args=[own.pk])).content.decode()


def _data():
    from tests.conftest import petition_data
    return petition_data(title="举报城管执法人员收受好处", content=CONTENT)
