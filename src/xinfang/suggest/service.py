"""Suggestions: compute, store, export and measure them.

Public contract (used by the ledger exporter, the panels, the API and the portal):
- `export_suggestions(case_ids) -> {case_id: {...}}`
- `suggest_for_text(title=, content=, category=None, region=None) -> dict`
- `suggest_cases(case_ids, source=...)` (the `cases_created` receiver calls it)
"""
from __future__ import annotations

import json

import numpy as np
from django.db import connection
from django.utils import timezone

from xinfang.cases.models import Case, Category, RouteKind, Topic
from xinfang.orgs.models import LEGAL_KINDS, Organ, OrganKind, Region

from .models import ModelVersion, Rule, Source, Suggestion
from .pipeline import join_text, loads


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


# --------------------------------------------------------------------------- loading the model

_loaded: dict[tuple, object] = {}  # version identity -> unpickled SuggestionModel (a cache; the DB is the truth)


def _identity(version: ModelVersion) -> tuple:
    # Not the primary key alone: SQLite gives a deleted (or rolled back) newest row's id to the
    # next one, and that version must not be served the old model.
    return (version.pk, version.version, version.trained_at, version.n_samples, version.last_case_id,
            json.dumps(version.labels, sort_keys=True, ensure_ascii=False))


def current_version() -> ModelVersion | None:
    """The newest active model version (metadata only; the blob is loaded by `load_model`)."""
    return ModelVersion.objects.filter(is_active=True).defer("blob").order_by("-version").first()


def load_model(version: ModelVersion | None):
    """The fitted SuggestionModel of `version` (cached per process by primary key)."""
    if version is None:
        return None
    key = _identity(version)
    model = _loaded.get(key)
    if model is None:
        blob = ModelVersion.objects.values_list("blob", flat=True).get(pk=version.pk)
        model = loads(blob)
        _loaded.clear()  # keep one model in memory: the newest replaces the old
        _loaded[key] = model
    return model


# --------------------------------------------------------------------------- rules


class RuleBook:
    """The active rules, loaded once per batch, with the topic and region trees to match subtrees."""

    def __init__(self):
        self.rules = list(Rule.objects.filter(is_active=True).select_related("organ", "set_topic")
                          .prefetch_related("topics").order_by("-priority", "pk"))
        self.keywords = {r.pk: r.keyword_list() for r in self.rules}
        self.topic_ids = {r.pk: {t.pk for t in r.topics.all()} for r in self.rules}
        self.topic_parent = dict(Topic.objects.values_list("pk", "parent_id"))
        self.region_parent = dict(Region.objects.values_list("pk", "parent_id")) if any(r.region_id for r in self.rules) else {}

    @staticmethod
    def _lineage(pk, parents: dict) -> set:
        seen = set()
        while pk is not None and pk not in seen:
            seen.add(pk)
            pk = parents.get(pk)
        return seen

    def match(self, text: str, *, topic_id=None, category: str = "", region_id=None) -> Rule | None:
        """The winning rule for a case: every condition the rule sets must hold (see Rule); among
        matches the highest priority, then the most keyword hits, then the oldest rule."""
        best, best_key = None, None
        topic_line = self._lineage(topic_id, self.topic_parent) if topic_id else set()
        region_line = self._lineage(region_id, self.region_parent) if region_id else set()
        for r in self.rules:
            kws, tids = self.keywords[r.pk], self.topic_ids[r.pk]
            if not kws and not tids:
                continue
            hits = sum(1 for k in kws if k in text)
            if kws and not hits:
                continue
            if tids and not (tids & topic_line):
                continue
            if r.category and r.category != category:
                continue
            if r.region_id and r.region_id not in region_line:
                continue
            key = (r.priority, hits, -r.pk)
            if best_key is None or key > best_key:
                best, best_key = r, key
        return best


# --------------------------------------------------------------------------- computing suggestions


def _route_for(organ: Organ | None) -> str:
    """The legal route an organ implies: 诉访分离 to 政法 organs (Art.22, 28), 纪检监察 (Art.30)."""
    if organ is None:
        return ""
    if organ.kind == OrganKind.DISCIPLINE:
        return RouteKind.DISCIPLINE
    if organ.kind in LEGAL_KINDS:
        return RouteKind.LEGAL
    return RouteKind.FORWARD


def _ranked(classes, probs, k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(-probs)[:k]
    return [(str(classes[i]), float(probs[i])) for i in order]


def _compute(items: list[dict], *, with_alternatives: bool = False) -> list[dict]:
    """Suggestions for many drafts at once. Each item: title, content, and optionally category,
    topic_id, region_id (what staff already chose; used to match rules for the organ, never to
    suggest the category and topic themselves, so acceptance stays honest).

    Returns per item a dict: category/topic_id/organ_id with *_confidence and *_source, route_kind,
    rule (Rule or None), model_version (ModelVersion or None), and with_alternatives: top-3 lists."""
    version = current_version()
    model = load_model(version)
    texts = [join_text(i.get("title", ""), i.get("content", "")) for i in items]
    predicted = model.predict(texts) if (model is not None and texts) else {}
    book = RuleBook()
    organs = {}
    out = []
    for n, item in enumerate(items):
        res = {"category": "", "category_confidence": None, "category_source": "",
               "topic_id": None, "topic_confidence": None, "topic_source": "",
               "organ_id": None, "organ_confidence": None, "organ_source": "",
               "route_kind": "", "rule": None, "model_version": None, "alternatives": {}}
        for target in ("category", "topic", "organ"):
            if target in predicted:
                classes, probs = predicted[target]
                ranked = _ranked(classes, probs[n])
                value, conf = ranked[0]
                key = "topic_id" if target == "topic" else "organ_id" if target == "organ" else "category"
                res[key] = int(value) if target != "category" else value
                res[f"{target}_confidence"] = conf
                res[f"{target}_source"] = Source.MODEL
                res["model_version"] = version
                if with_alternatives:
                    res["alternatives"][target] = ranked
        text = texts[n]
        # Pass 1, from the text alone: may a rule set the category or topic?
        blind = book.match(text, topic_id=res["topic_id"], category=res["category"], region_id=item.get("region_id"))
        if blind is not None:
            if blind.set_category:
                res.update(category=blind.set_category, category_confidence=1.0, category_source=Source.RULE)
            if blind.set_topic_id:
                res.update(topic_id=blind.set_topic_id, topic_confidence=1.0, topic_source=Source.RULE)
        # Pass 2, with what staff chose where known: who is responsible and by which route.
        rule = book.match(text, topic_id=item.get("topic_id") or res["topic_id"],
                          category=item.get("category") or res["category"], region_id=item.get("region_id"))
        if rule is not None:
            res.update(organ_id=rule.organ_id, organ_confidence=1.0, organ_source=Source.RULE,
                       route_kind=rule.route_kind, rule=rule)
        elif res["organ_id"]:
            if res["organ_id"] not in organs:
                organs[res["organ_id"]] = Organ.objects.filter(pk=res["organ_id"], is_active=True).first()
            organ = organs[res["organ_id"]]
            if organ is None:  # an organ since deactivated is no suggestion
                res.update(organ_id=None, organ_confidence=None, organ_source="")
            else:
                res["route_kind"] = _route_for(organ)
        out.append(res)
    return out


def suggest_for_text(*, title: str, content: str, category: str | None = None, region=None) -> dict:
    """Suggestions for a draft (registration panel, API, portal), nothing stored.

    Returns {"category": {"value", "label", "confidence", "source"} or None,
             "topic": {"id", "name", "confidence", "source", "alternatives": [{"id","name","confidence"}]} or None,
             "organ": {"id", "name", "confidence", "source"} or None,
             "route_kind": code or "", "route_label": label or "", "rule": rule name or "",
             "model_version": int or None,
             "categories": [{"value","label","confidence"}] (model alternatives)}.
    `region` is a Region, its pk, or None; `category` a Category value the clerk already chose."""
    region_id = getattr(region, "pk", region)
    res = _compute([{"title": title, "content": content, "category": category or "", "region_id": region_id}],
                   with_alternatives=True)[0]
    topics = dict(Topic.objects.filter(is_active=True, pk__in=[res["topic_id"], *[int(t) for t, _c in res["alternatives"].get("topic", [])]])
                  .values_list("pk", "name")) if res["topic_id"] or res["alternatives"].get("topic") else {}
    labels = dict(Category.choices)
    out = {"category": None, "topic": None, "organ": None, "route_kind": res["route_kind"],
           "route_label": str(RouteKind(res["route_kind"]).label) if res["route_kind"] else "",
           "rule": res["rule"].name if res["rule"] else "",
           "model_version": res["model_version"].version if res["model_version"] else None,
           "categories": [{"value": v, "label": str(labels.get(v, v)), "confidence": c}
                          for v, c in res["alternatives"].get("category", [])]}
    if res["category"]:
        out["category"] = {"value": res["category"], "label": str(labels.get(res["category"], res["category"])),
                           "confidence": res["category_confidence"], "source": res["category_source"]}
    if res["topic_id"] and res["topic_id"] in topics:
        out["topic"] = {"id": res["topic_id"], "name": topics[res["topic_id"]], "confidence": res["topic_confidence"],
                        "source": res["topic_source"],
                        "alternatives": [{"id": int(t), "name": topics[int(t)], "confidence": c}
                                         for t, c in res["alternatives"].get("topic", []) if int(t) in topics]}
    if res["organ_id"]:
        organ = Organ.objects.filter(pk=res["organ_id"]).values_list("name", flat=True).first()
        out["organ"] = {"id": res["organ_id"], "name": organ, "confidence": res["organ_confidence"],
                        "source": res["organ_source"]}
    return out


BATCH = 1000


def suggest_cases(case_ids: list[int], *, source: str = "") -> int:
    """Compute and store (replacing any earlier one) the suggestion of each case; returns how many.

    Cases registered from the form (and the portal, where the citizen's draft is classified the
    same way) record at once whether the clerk's category and topic agree with the suggestion."""
    stored = 0
    ids = sorted(set(case_ids))
    inserter = _suggestion_inserter()
    case_table, table = Case._meta.db_table, Suggestion._meta.db_table
    # Plain SQL and prepared tuples: this runs for every batch of an import, and the ORM's
    # per-id and per-object work cost more than the queries themselves.
    with connection.cursor() as cur:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            marks = ",".join(["%s"] * len(chunk))
            cur.execute(f"SELECT id, title, content, category, topic_id, region_id FROM {case_table} "
                        f"WHERE id IN ({marks}) ORDER BY id", chunk)
            cases = [dict(zip(("pk", "title", "content", "category", "topic_id", "region_id"), row))
                     for row in cur.fetchall()]
            if not cases:
                continue
            results = _compute(cases)
            now = timezone.now()
            decided = source == "form"
            rows = [(
                case["pk"], now, source[:10],
                res["category"], res["category_confidence"], res["category_source"],
                res["topic_id"], res["topic_confidence"], res["topic_source"],
                res["organ_id"], res["organ_confidence"], res["organ_source"],
                res["route_kind"], res["rule"].pk if res["rule"] else None,
                res["model_version"].pk if res["model_version"] else None,
                (res["category"] == case["category"]) if decided and res["category"] else None,
                (res["topic_id"] == case["topic_id"]) if decided and res["topic_id"] and case["topic_id"] else None,
            ) for case, res in zip(cases, results)]
            done = [c["pk"] for c in cases]
            cur.execute(f"DELETE FROM {table} WHERE case_id IN ({','.join(['%s'] * len(done))})", done)
            inserter.insert(rows)
            stored += len(rows)
    return stored


def _suggestion_inserter():
    """The prepared INSERT for Suggestion rows (built per call: it is bound to this thread's connection)."""
    from xinfang.demo.writer import Inserter

    return Inserter(Suggestion, [
        "case_id", "created_at", "intake_source", "category", "category_confidence", "category_source",
        "topic_id", "topic_confidence", "topic_source", "organ_id", "organ_confidence", "organ_source",
        "route_kind", "rule_id", "model_version_id", "category_accepted", "topic_accepted"])


def record_routing(case_id: int, organ_id: int) -> None:
    """The first routing of a case decides its organ suggestion: accepted when staff sent the case
    to the suggested organ. Later routings change nothing (the first choice is the clerk's answer)."""
    s = Suggestion.objects.filter(case_id=case_id, chosen_organ__isnull=True).first()
    if s is None:
        return
    s.chosen_organ_id = organ_id
    s.organ_accepted = (s.organ_id == organ_id) if s.organ_id else None
    s.save(update_fields=["chosen_organ", "organ_accepted"])


# --------------------------------------------------------------------------- acceptance


FIELDS = ("category", "topic", "organ")


def acceptance_stats(case_ids=None) -> list[dict]:
    """How often staff took the system's suggestions, per field and per source:
    [{"field", "label", "source", "source_label", "decided", "accepted", "rate" (0–1 or None)}],
    plus an "all" row per field. `case_ids` (a queryset of ids or list) narrows to those cases."""
    from django.db.models import Count, Q
    from django.utils.translation import gettext as _

    qs = Suggestion.objects.all()
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    out = []
    labels = {"category": _("信访类别"), "topic": _("问题分类"), "organ": _("责任单位")}
    for field in FIELDS:
        rows = (qs.filter(**{f"{field}_accepted__isnull": False}).values(f"{field}_source")
                .annotate(decided=Count("pk"), accepted=Count("pk", filter=Q(**{f"{field}_accepted": True}))))
        total_d = total_a = 0
        for row in sorted(rows, key=lambda r: r[f"{field}_source"]):
            src = row[f"{field}_source"]
            total_d += row["decided"]
            total_a += row["accepted"]
            out.append({"field": field, "label": labels[field], "source": src,
                        "source_label": str(Source(src).label) if src in Source.values else "",
                        "decided": row["decided"], "accepted": row["accepted"],
                        "rate": row["accepted"] / row["decided"] if row["decided"] else None})
        out.append({"field": field, "label": labels[field], "source": "all", "source_label": _("合计"),
                    "decided": total_d, "accepted": total_a, "rate": total_a / total_d if total_d else None})
    return out


def suggested_route(case) -> tuple[int | None, str]:
    """(organ id, route kind) stored as the suggestion for `case`, or (None, "")."""
    row = Suggestion.objects.filter(case_id=case.pk, organ__isnull=False).values_list("organ_id", "route_kind").first()
    return (row[0], row[1] or "") if row else (None, "")
