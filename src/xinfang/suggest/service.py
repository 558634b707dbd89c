"""Suggestions: compute, store, export and measure them.

Public contract (used by the ledger exporter, the panels, the API and the portal):
- `export_suggestions(case_ids) -> {case_id: {...}}`
- `suggest_for_text(title=, content=, category=None, region=None) -> dict`
- `suggest_cases(case_ids, source=...)` (the `cases_created` receiver calls it)
"""
from __future__ import annotations

from .models import Suggestion


def export_suggestions(case_ids: list[int]) -> dict[int, dict]:
    """The stored suggestion of each case that has one, for ledger export columns 建议问题分类,
    建议分类置信度, 建议责任单位: {case_id: {"topic_suggested": topic name or "", "topic_confidence":
    float or None, "organ_suggested": organ name or "", "category_suggested": category label or ""}}.
    Cases without a suggestion are absent. Queries run in chunks, so any number of ids is fine."""
    out: dict[int, dict] = {}
    ids = list(case_ids)
    for start in range(0, len(ids), 900):
        rows = (Suggestion.objects.filter(case_id__in=ids[start:start + 900])
                .select_related("topic", "organ"))
        for s in rows:
            out[s.case_id] = {
                "topic_suggested": s.topic.name if s.topic_id else "",
                "topic_confidence": s.topic_confidence,
                "organ_suggested": s.organ.name if s.organ_id else "",
                "category_suggested": str(s.get_category_display()) if s.category else "",
            }
    return out
