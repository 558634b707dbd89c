"""Who may see and do what (access.py), for every member of the standard cast.

A case is visible to the organs it is or was at, and to supervisors, leaders and analysts above
them; a 检举控告 case never to the accused organ (条例第30条第3款). What a user may not see is
reported as missing (404), never as forbidden.
"""
from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from tests.cases.test_workflow import pet
from tests.conftest import petition_data
from xinfang.cases import access, workflow
from xinfang.cases.models import Case, CaseOrgan, Category, RouteKind


@pytest.fixture
def world(cast, make_case):
    """Three cases spread over the cast:
    - housing: registered by the city bureau, forwarded to 住建局 (pending there);
    - report: a 检举控告 against 城管局, sent to 纪委监委;
    - district: registered by 东湖区信访局 and still there.
    """
    cast.housing_case = make_case("pending")
    report = make_case(category=Category.REPORT, accused_organ=cast.urban, title="举报城管执法人员索要财物")
    cast.report_case = workflow.route_case(cast.registrar, report, kind=RouteKind.DISCIPLINE, organ=cast.discipline)
    cast.district_case = workflow.register_case(cast.district_registrar, petition_data(), [pet()])
    return cast


def visible(user) -> set[str]:
    return set(access.cases_visible_to(user).values_list("number", flat=True))


def numbers(*cases) -> set[str]:
    return {c.number for c in cases}


def test_the_bureau_sees_what_it_registered(world):
    assert visible(world.registrar) == numbers(world.housing_case, world.report_case)


def test_the_handling_organ_sees_what_is_at_it(world):
    assert visible(world.handler) == visible(world.head) == numbers(world.housing_case)
    assert visible(world.discipline_handler) == numbers(world.report_case)


def test_an_organ_keeps_seeing_what_was_at_it(world):
    case = workflow.object_case(world.handler, world.housing_case, reason="不属于本局")
    case = workflow.decide_objection(world.registrar, case, agree=True)
    workflow.route_case(world.registrar, case, kind=RouteKind.FORWARD, organ=world.labour)
    assert numbers(world.housing_case) <= visible(world.handler)
    assert visible(world.other) == numbers(world.housing_case)


def test_another_organ_sees_nothing(world):
    assert visible(world.other) == set()
    assert visible(world.legal_handler) == set()


def test_the_accused_organ_never_sees_the_report_art30(world):
    assert visible(world.accused) == set()
    # Even if some path linked the case to it (a data import, a mistaken link), it stays hidden.
    CaseOrgan.objects.create(case=world.report_case, organ=world.urban)
    assert visible(world.accused) == set()
    with pytest.raises(Http404):
        access.get_case_for_user(world.accused, world.report_case.pk)


def test_a_report_at_the_accused_organ_stays_hidden_from_it_art30(world):
    """Walked, a case now at the user's organ is tested by its current organ before its links;
    the Art.30 exclusion holds over that too (a report never goes to the accused organ, but data
    put there by any other path must not show it)."""
    Case.objects.filter(pk=world.report_case.pk).update(current_organ=world.urban)
    CaseOrgan.objects.create(case=world.report_case, organ=world.urban)
    for from_links in (False, True):
        assert not access.cases_visible_to(world.accused, from_links=from_links).filter(pk=world.report_case.pk).exists()


def test_the_accused_organ_sees_its_other_cases_art30(world, make_case):
    case = workflow.route_case(world.registrar, make_case(), kind=RouteKind.FORWARD, organ=world.urban)
    assert visible(world.accused) == numbers(case)


def test_a_supervisor_sees_the_subtree_of_the_organ(world):
    # 督查员 at the city bureau: the bureau and the district bureau under it.
    assert visible(world.supervisor) == numbers(world.housing_case, world.report_case, world.district_case)
    # 领导 at the city government: everything at the organs below it.
    assert visible(world.leader) == numbers(world.housing_case, world.report_case, world.district_case)


def test_the_district_bureau_does_not_see_the_city_cases(world):
    assert visible(world.district_registrar) == numbers(world.district_case)


def test_citizens_and_anonymous_users_see_nothing(world):
    assert visible(world.citizen) == set()
    assert visible(AnonymousUser()) == set()


def test_the_superuser_sees_everything(world):
    assert visible(world.admin) == numbers(world.housing_case, world.report_case, world.district_case)


def test_get_case_for_user_returns_a_visible_case_and_404s_the_rest(world):
    assert access.get_case_for_user(world.handler, world.housing_case.pk) == world.housing_case
    for user, case in [(world.other, world.housing_case), (world.handler, world.report_case),
                       (world.citizen, world.housing_case), (AnonymousUser(), world.housing_case)]:
        with pytest.raises(Http404) as info:
            access.get_case_for_user(user, case.pk)
        assert "信访事项不存在或无权查看" in str(info.value)  # the same words for missing and forbidden
    for pk in (999999, "abc", None):
        with pytest.raises(Http404):
            access.get_case_for_user(world.handler, pk)


def test_write_access_is_for_the_current_organ_and_the_registering_bureau(world):
    case = world.housing_case
    assert access.get_case_for_user(world.handler, case.pk, write=True) == case
    assert access.get_case_for_user(world.registrar, case.pk, write=True) == case
    with pytest.raises(Http404):
        access.get_case_for_user(world.supervisor, world.district_case.pk, write=True)


def test_allowed_transitions_follow_the_table(world, make_case):
    pending = world.housing_case
    assert access.allowed_transitions(world.handler, pending) == ["not_accept", "accept", "object"]
    assert access.allowed_transitions(world.head, pending) == ["not_accept", "accept", "object"]
    assert access.allowed_transitions(world.registrar, pending) == []
    assert access.allowed_transitions(world.other, pending) == []
    registered = make_case()
    assert access.allowed_transitions(world.registrar, registered) == ["route", "inform", "not_accept"]
    handling = workflow.accept_case(world.handler, pending, route="r6")
    assert access.allowed_transitions(world.head, handling) == ["extend", "reply"]
    assert access.allowed_transitions(world.handler, handling) == ["reply"]


def test_review_requests_are_for_the_organ_one_level_up_art35_art36(world, make_case):
    replied = make_case("replied")
    assert "request_review" in access.allowed_transitions(world.reviewer, replied)
    assert "request_review" not in access.allowed_transitions(world.re_reviewer, replied)
    reviewed = make_case("reviewed")
    assert "request_re_review" in access.allowed_transitions(world.re_reviewer, reviewed)
    assert "request_re_review" not in access.allowed_transitions(world.reviewer, reviewed)


def test_an_organ_without_a_superior_has_no_review_organ_art35(world):
    case = world.report_case
    case = workflow.accept_case(world.discipline_handler, case, route="report")
    case = workflow.reply_case(world.discipline_handler, case, outcome="handled", opinion="已依规处理", facts="查明事实", basis="法律依据")
    assert world.discipline.parent is None
    assert access.transition_refusal(world.reviewer, case, "request_review") is not None


def test_refusal_reasons_are_chinese_and_specific(world):
    case = world.housing_case
    assert access.transition_refusal(world.handler, case, "accept") is None
    assert "只有机关工作人员" in access.transition_refusal(AnonymousUser(), case, "accept")
    assert "只有机关工作人员" in access.transition_refusal(world.citizen, case, "accept")
    assert "当前状态为“待受理”" in access.transition_refusal(world.handler, case, "reply")
    assert "须由承办人办理" in access.transition_refusal(world.registrar, case, "accept")
    assert "不属于本机关的办理权限" in access.transition_refusal(world.other, case, "accept")


def test_may_register_needs_an_organ_and_the_registrar_role(cast):
    assert access.may_register(cast.registrar) and access.may_register(cast.other)
    for user in (cast.handler, cast.supervisor, cast.citizen, cast.admin, AnonymousUser()):
        assert not access.may_register(user)


def test_the_organ_one_level_up_sees_a_decided_case_to_register_review_art35_art36(cast, make_case):
    """The superior organ must open a replied case to register the 复查 request, and the organ above
    it a reviewed case for 复核; other organs still see nothing, and the view ends with the stage."""
    replied = make_case("replied")
    assert access.cases_visible_to(cast.reviewer).filter(pk=replied.pk).exists()  # 市政府 above 住建局
    assert not access.cases_visible_to(cast.re_reviewer).filter(pk=replied.pk).exists()
    assert not access.cases_visible_to(cast.other).filter(pk=replied.pk).exists()
    reviewed = make_case("reviewed")
    assert access.cases_visible_to(cast.re_reviewer).filter(pk=reviewed.pk).exists()  # 省政府 above 市政府
    handling = make_case("handling")
    assert not access.cases_visible_to(cast.reviewer).filter(pk=handling.pk).exists()


def test_evaluation_is_not_offered_twice(cast, make_case):
    case = make_case("replied")
    assert "evaluate" in access.allowed_transitions(cast.registrar, case)
    case = workflow.evaluate_case(cast.registrar, case, organ_satisfaction="satisfied")
    assert "evaluate" not in access.allowed_transitions(cast.registrar, case)
    assert access.transition_refusal(cast.registrar, case, "evaluate") == "该事项已经评价。"


def test_the_links_phrasing_sees_exactly_the_same_cases_for_everyone(world, make_case):
    """cases_visible_to(from_links=True) is a plan choice only: the same set for every member of
    the cast, including the accused organ (Art.30) and the organs one level up (Art.35, 36)."""
    make_case("replied")
    make_case("reviewed")
    for user in (world.registrar, world.handler, world.head, world.other, world.accused, world.discipline_handler,
                 world.legal_handler, world.reviewer, world.re_reviewer, world.district_registrar, world.supervisor,
                 world.leader, world.citizen, world.admin, AnonymousUser()):
        walked = set(access.cases_visible_to(user).values_list("pk", flat=True))
        linked = set(access.cases_visible_to(user, from_links=True).values_list("pk", flat=True))
        assert walked == linked, user


def test_an_organ_holds_few_cases_until_its_links_pass_120_sqrt_n(world, monkeypatch):
    """The bound is FEW_LINKS_FACTOR·√N links for N cases (N read from the newest id)."""
    assert access.holds_few_cases(world.handler)
    assert access.holds_few_cases(world.supervisor)
    assert not access.holds_few_cases(world.admin)  # the superuser sees everything: walk
    assert not access.holds_few_cases(AnonymousUser())
    newest = max(c.pk for c in (world.housing_case, world.report_case, world.district_case))
    links = CaseOrgan.objects.filter(organ=world.bureau).count()
    monkeypatch.setattr(access, "FEW_LINKS_FACTOR", links / newest ** 0.5 + 0.01)
    assert access.holds_few_cases(world.registrar)  # exactly at the bound
    monkeypatch.setattr(access, "FEW_LINKS_FACTOR", (links - 1) / newest ** 0.5 + 0.01)
    assert not access.holds_few_cases(world.registrar)
