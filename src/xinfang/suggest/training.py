"""Training, evaluating and versioning the suggestion model on the deployment's own cases.

Confirmed cases are those staff have carried past registration (state is no longer 待转送): their
category and topic were chosen by a registrar and stood when the case was routed; the organ label
is the organ that accepted the case (承办机关), else the organ it was first routed to.
"""
from __future__ import annotations

import os
import time

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from xinfang.cases.models import Case, State

from .models import ModelVersion, Suggestion
from .pipeline import SuggestionModel, TextClassifier, dumps, join_text

TARGETS = ("category", "topic", "organ")
MIN_SAMPLES = 10  # below this a version would only memorise a handful of cases


def retrain_after() -> int:
    """How many new confirmed cases make the current model stale (XINFANG_SUGGEST_RETRAIN_AFTER)."""
    return int(getattr(settings, "SUGGEST_RETRAIN_AFTER", os.environ.get("XINFANG_SUGGEST_RETRAIN_AFTER", 200)))


def train_limit() -> int:
    """At most this many newest confirmed cases train a version (XINFANG_SUGGEST_TRAIN_LIMIT):
    recent practice matters most, and training time and model size stay bounded at national scale."""
    return int(getattr(settings, "SUGGEST_TRAIN_LIMIT", os.environ.get("XINFANG_SUGGEST_TRAIN_LIMIT", 100_000)))


def confirmed_cases():
    return Case.objects.exclude(state=State.REGISTERED)


def training_data(limit: int | None = None) -> tuple[list[str], dict[str, list], int]:
    """(texts, {target: labels (None where unknown)}, largest case id) of the confirmed cases,
    newest first when `limit` caps them."""
    qs = confirmed_cases().order_by("-pk").values_list("pk", "title", "content", "category", "topic_id", "handling_organ_id")
    if limit:
        qs = qs[:limit]
    rows = list(qs)
    routed = dict(Suggestion.objects.filter(case_id__in=[r[0] for r in rows if r[5] is None], chosen_organ__isnull=False)
                  .values_list("case_id", "chosen_organ_id")) if rows else {}
    texts = [join_text(r[1], r[2]) for r in rows]
    labels = {
        "category": [r[3] or None for r in rows],
        "topic": [str(r[4]) if r[4] else None for r in rows],
        "organ": [str(r[5] or routed.get(r[0])) if (r[5] or routed.get(r[0])) else None for r in rows],
    }
    return texts, labels, max((r[0] for r in rows), default=0)


UNLABELLED_LIMIT = 20_000  # bounds the extra vocabulary/IDF work a training pays


def unlabelled_texts(limit: int = UNLABELLED_LIMIT) -> list[str]:
    """Texts of the newest cases not yet confirmed (still 待转送): no label can be trusted yet, but
    they are this deployment's own wording, so they feed the vocabulary and IDF statistics
    (`SuggestionModel.fit(unlabelled=...)`), never the classifiers themselves."""
    qs = Case.objects.filter(state=State.REGISTERED).order_by("-pk").values_list("title", "content")[:limit]
    return [join_text(t, c) for t, c in qs]


def _names(target: str, values) -> dict[str, str]:
    from xinfang.cases.models import Category, Topic
    from xinfang.orgs.models import Organ

    values = sorted({v for v in values if v})
    if target == "category":
        labels = dict(Category.choices)
        return {v: str(labels.get(v, v)) for v in values}
    model = Topic if target == "topic" else Organ
    found = {str(pk): str(name) for pk, name in model.objects.filter(pk__in=[int(v) for v in values]).values_list("pk", "name")}
    return {v: found.get(v, v) for v in values}


def cross_validate(texts: list[str], y: list[str], *, folds: int = 5, seed: int = 0,
                   unlabelled: list[str] = (), self_train: bool = False) -> dict:
    """Stratified k-fold CV of the production pipeline on one target. Folds shrink to the rarest
    class's count (at least 2); classes with a single example are kept out of the evaluation.
    Returns {"labels", "precision", "recall", "f1", "support", "macro_f1", "accuracy", "confusion", "folds"}."""
    y = np.asarray(y, dtype=object)
    counts = {c: int((y == c).sum()) for c in set(y.tolist())}
    keep = np.array([counts[c] >= 2 for c in y])
    texts = [t for t, k in zip(texts, keep) if k]
    y = y[keep]
    labels = sorted(set(y.tolist()))
    if len(labels) < 2:
        raise ValueError("need at least two classes with two examples each")
    k = max(2, min(folds, min(int((y == c).sum()) for c in labels)))
    pred = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(k, shuffle=True, random_state=seed).split(texts, y):
        clf = TextClassifier(self_train=self_train).fit([texts[i] for i in train], y[train], unlabelled=unlabelled)
        pred[test] = clf.predict([texts[i] for i in test])
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {"labels": labels, "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(),
            "support": s.tolist(), "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
            "accuracy": float((pred == y).mean()), "confusion": confusion_matrix(y, pred, labels=labels).tolist(), "folds": k}


def train(*, note: str = "", evaluate: bool = False, limit: int | None = None) -> ModelVersion:
    """Fit a SuggestionModel on the confirmed cases and store it as the next version (active).
    With `evaluate`, 5-fold CV macro-F1 per target goes into the version's metrics.
    Raises ValueError when there are too few confirmed cases."""
    started = time.perf_counter()
    texts, labels, last_id = training_data(limit or train_limit())
    if len(texts) < MIN_SAMPLES:
        raise ValueError(f"only {len(texts)} confirmed cases (need {MIN_SAMPLES})")
    unlabelled = unlabelled_texts()
    model = SuggestionModel().fit(texts, labels, unlabelled=unlabelled)
    if not model.heads:
        raise ValueError("no target has two classes among the confirmed cases")
    metrics = {"counts": model.counts, "targets": sorted(model.heads), "confirmed_total": confirmed_cases().count(),
               "unlabelled": len(unlabelled)}
    if evaluate:
        for target in model.heads:
            rows = [(t, v) for t, v in zip(texts, labels[target]) if v]
            try:
                cv = cross_validate([t for t, _ in rows], [v for _, v in rows], unlabelled=unlabelled)
                metrics[f"{target}_macro_f1"] = round(cv["macro_f1"], 4)
            except ValueError:
                pass
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    names = {t: _names(t, [str(c) for c in model.heads[t].classes_]) for t in model.heads}
    blob = dumps(model)
    # Two trainings finishing together would pick the same number: the unique version refuses the
    # second, which then takes the next number.
    for _attempt in range(3):
        try:
            with transaction.atomic():
                last = ModelVersion.objects.aggregate(m=Max("version"))["m"] or 0
                return ModelVersion.objects.create(version=last + 1, trained_at=timezone.now(), n_samples=len(texts),
                                                   last_case_id=last_id, metrics=metrics, labels=names, blob=blob,
                                                   note=note[:200])
        except IntegrityError:
            continue
    raise IntegrityError("could not number the new model version")


def is_stale() -> tuple[bool, int]:
    """(stale?, new confirmed cases since the current version). No version yet counts as stale
    once there is enough to train on."""
    from .service import current_version

    version = current_version()
    total = confirmed_cases().count()
    if version is None:
        return total >= MIN_SAMPLES, total
    # Cases confirmed since the version was trained: the growth of the confirmed total (cases
    # registered earlier and routed since count too), at least the confirmed cases newer than it.
    before = version.metrics.get("confirmed_total", version.n_samples)
    new = max(total - before, confirmed_cases().filter(pk__gt=version.last_case_id).count())
    return new >= retrain_after(), new
