"""The contract the ledger exporter relies on: export_suggestions(case_ids)."""
from __future__ import annotations

from xinfang.cases.models import Category, Topic
from xinfang.suggest.models import Source, Suggestion
from xinfang.suggest.service import export_suggestions


def test_export_suggestions_gives_names_labels_and_confidence(cast, make_case):
    case = make_case()
    other = make_case()
    topic = Topic.objects.create(name="城乡建设")
    Suggestion.objects.update_or_create(case=case, defaults=dict(
        category=Category.CLAIM, category_confidence=0.8, category_source=Source.MODEL,
        topic=topic, topic_confidence=0.75, topic_source=Source.MODEL, organ=cast.housing, organ_confidence=0.6,
        organ_source=Source.RULE))
    Suggestion.objects.filter(case=other).delete()
    out = export_suggestions([case.pk, other.pk])
    assert out[case.pk] == {"topic_suggested": "城乡建设", "topic_confidence": 0.75,
                            "organ_suggested": "江州市住房和城乡建设局", "category_suggested": "申诉求决类"}
    assert other.pk not in out


def test_export_suggestions_of_nothing_is_empty(db):
    assert export_suggestions([]) == {}
