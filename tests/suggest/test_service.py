"""Rules, the model and the stored suggestions."""
from __future__ import annotations

import pytest

from xinfang.cases import workflow
from xinfang.cases.models import Category, RouteKind
from xinfang.suggest import service, training
from xinfang.suggest.models import ModelVersion, Rule, Source, Suggestion

from ..conftest import petition_data


def test_keyword_rule_routes_litigation_to_the_political_legal_organ(cast, rules):
    """诉访分离 (Art.22, 28): a 涉法涉诉 matter goes to the 政法 organ by the legal route."""
    out = service.suggest_for_text(title="法院判决三年未执行", content="请求督促执行")
    assert out["organ"]["id"] == cast.legal.pk and out["organ"]["source"] == Source.RULE
    assert out["route_kind"] == RouteKind.LEGAL and out["rule"] == "涉法涉诉"


def test_report_rule_sets_category_and_routes_to_discipline(cast, rules):
    """Art.30: 检举控告 about officials goes to 纪检监察 and is suggested as 检举控告类."""
    out = service.suggest_for_text(title="举报村干部贪污", content="挪用扶贫款")
    assert out["organ"]["id"] == cast.discipline.pk and out["route_kind"] == RouteKind.DISCIPLINE
    assert out["category"]["value"] == Category.REPORT and out["category"]["confidence"] == 1.0


def test_priority_wins_then_keyword_hits(cast, rules):
    both = service.suggest_for_text(title="法院判决拖欠工资", content="欠薪案件执行难")
    assert both["organ"]["id"] == cast.legal.pk  # priority 100 beats 10
    rules["wages"].priority = 200
    rules["wages"].save()
    assert service.suggest_for_text(title="法院判决拖欠工资", content="欠薪")["organ"]["id"] == cast.labour.pk


def test_topic_rule_matches_subtopics_and_inactive_rules_do_not_match(cast, rules, topics):
    book = service.RuleBook()
    assert book.match("任何内容", topic_id=topics["housing"].pk) == rules["by_topic"]
    assert book.match("任何内容", topic_id=topics["labour"].pk) is None
    Rule.objects.filter(pk=rules["by_topic"].pk).update(is_active=False)
    assert service.RuleBook().match("任何内容", topic_id=topics["housing"].pk) is None


def test_rule_conditions_on_category_and_region_must_all_hold(cast, rules):
    rule = Rule.objects.create(name="东湖区建议", keywords="路灯", organ=cast.urban, category=Category.SUGGESTION,
                               region=cast.city, priority=1)
    book = service.RuleBook()
    assert book.match("路灯不亮", category=Category.SUGGESTION, region_id=cast.district.pk) == rule  # district is in the city
    assert book.match("路灯不亮", category=Category.CLAIM, region_id=cast.district.pk) is None
    assert book.match("路灯不亮", category=Category.SUGGESTION, region_id=None) is None
    assert book.match("道路破损", category=Category.SUGGESTION, region_id=cast.district.pk) is None


def test_no_rules_no_model_gives_empty_suggestion(cast):
    out = service.suggest_for_text(title="随便什么", content="内容")
    assert out["category"] is None and out["topic"] is None and out["organ"] is None


def test_training_stores_a_version_used_for_suggestions(cast, confirmed, topics):
    version = training.train(note="test")
    assert version.version == 1 and version.n_samples == 16 and version.is_active
    assert set(version.metrics["targets"]) == {"category", "topic", "organ"}
    out = service.suggest_for_text(title="小区电梯又坏了", content="物业不修电梯")
    assert out["topic"]["id"] == topics["housing"].pk and out["topic"]["source"] == Source.MODEL
    assert 0.5 < out["topic"]["confidence"] <= 1.0
    assert out["organ"]["id"] == cast.housing.pk and out["route_kind"] == RouteKind.FORWARD
    assert out["category"]["value"] == Category.CLAIM and out["model_version"] == 1
    wages = service.suggest_for_text(title="老板拖欠工资", content="欠薪半年")
    assert wages["topic"]["id"] == topics["labour"].pk and wages["organ"]["id"] == cast.labour.pk


def test_versions_are_kept_and_the_newest_active_is_used(cast, confirmed):
    v1 = training.train()
    v2 = training.train()
    assert (v1.version, v2.version) == (1, 2) and ModelVersion.objects.count() == 2
    assert service.current_version().pk == v2.pk
    ModelVersion.objects.filter(pk=v2.pk).update(is_active=False)
    assert service.current_version().pk == v1.pk


def test_too_few_confirmed_cases_refuses_to_train(cast, make_case):
    make_case()
    with pytest.raises(ValueError):
        training.train()


def test_staleness_counts_new_confirmed_cases(cast, confirmed, settings):
    settings.SUGGEST_RETRAIN_AFTER = 3
    assert training.is_stale() == (True, 16)  # no version yet
    training.train()
    assert training.is_stale() == (False, 0)


def test_receiver_stores_suggestions_for_new_cases_and_records_acceptance(cast, confirmed, topics, make_case):
    training.train()
    case = make_case(title="电梯故障物业不修", content="小区电梯坏了一个月", topic=topics["housing"])
    s = Suggestion.objects.get(case=case)
    assert s.topic_id == topics["housing"].pk and s.model_version.version == 1 and s.intake_source == "form"
    assert s.topic_accepted is True and s.category_accepted is True  # the clerk chose what was suggested
    assert s.organ_id == cast.housing.pk and s.organ_accepted is None
    other = make_case(title="电梯故障物业不修", content="小区电梯坏了", topic=topics["labour"])
    assert Suggestion.objects.get(case=other).topic_accepted is False


def test_routing_records_whether_the_suggested_organ_was_taken(cast, confirmed, topics, make_case):
    training.train()
    taken = make_case(title="电梯故障物业不修", content="电梯坏了", topic=topics["housing"])
    workflow.route_case(cast.registrar, taken, kind=RouteKind.FORWARD, organ=cast.housing)
    refused = make_case(title="电梯故障物业不修", content="电梯坏了", topic=topics["housing"])
    workflow.route_case(cast.registrar, refused, kind=RouteKind.FORWARD, organ=cast.urban)
    assert Suggestion.objects.get(case=taken).organ_accepted is True
    s = Suggestion.objects.get(case=refused)
    assert s.organ_accepted is False and s.chosen_organ_id == cast.urban.pk
    stats = {(r["field"], r["source"]): r for r in service.acceptance_stats()}
    assert stats[("organ", "all")]["decided"] == 2 and stats[("organ", "all")]["rate"] == 0.5


def test_batch_suggestions_for_an_import(cast, confirmed, make_case):
    training.train()
    ids = [make_case(title=f"拖欠工资第{i}批", content="工资未发").pk for i in range(3)]
    Suggestion.objects.filter(case_id__in=ids).delete()
    assert service.suggest_cases(ids, source="import") == 3
    rows = Suggestion.objects.filter(case_id__in=ids)
    assert rows.count() == 3 and all(r.organ_id == cast.labour.pk for r in rows)
    assert all(r.topic_accepted is None for r in rows)  # an import's topic was not a clerk's choice here
