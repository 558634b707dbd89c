"""Classification figure for `make bench`: macro-F1 of the suggestion pipeline by 5-fold stratified
cross-validation on the public TipDM 2020 labelled messages (../shared/data/tipdm2020), per-class
F1, and how fast a fitted model classifies a batch (the cost an import pays per case).

The pipeline is `xinfang.suggest.pipeline.TextClassifier`, the same code `xinfang model train`
fits; its settings are fixed in code (no tuning on the test folds)."""
from __future__ import annotations

import csv
from pathlib import Path

from xinfang.bench import Report, Timer

TITLE = "分类建议:交叉验证宏平均 F1"
USES_DATABASE = False

DATA = "tipdm2020/messages_labelled.csv"
UNLABELLED = "tipdm2020/messages_with_replies.csv"


def _find(name: str) -> Path | None:
    for base in (Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3].parent / "shared" / "data"):
        if (base / name).exists():
            return base / name
    return None


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# The variants compared when the production settings were chosen (Head's docstring); the nested
# cross-validation re-makes that choice inside every outer training fold.
VARIANTS = [{"kind": k, "balanced": b} for k in ("svm", "lr", "ens") for b in (True, False)]


def nested_cv(texts: list[str], labels: list[str], *, folds: int = 5, inner: int = 3, seed: int = 0):
    """Outer stratified k-fold; inside each outer training part, an inner 3-fold CV picks the
    variant with the best macro-F1, which is then fitted on the whole training part and scored
    on the outer test fold. (The inner folds share the outer part's TF-IDF vocabulary: it is
    fitted without labels.) Returns (macro-F1, per-class F1 list, labels, {variant: times chosen})."""
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from xinfang.suggest.pipeline import Featurizer, Head

    y = np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    pred = np.empty(len(y), dtype=object)
    chosen: dict[str, int] = {}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        feats = Featurizer().fit([texts[i] for i in train])
        A, B = feats.transform([texts[i] for i in train]), feats.transform([texts[i] for i in test])
        ytr = y[train]
        scores = []
        for v in VARIANTS:
            inner_pred = np.empty(len(ytr), dtype=object)
            for itr, ite in StratifiedKFold(inner, shuffle=True, random_state=seed).split(np.zeros(len(ytr)), ytr):
                head = Head(**v).fit(A[itr], ytr[itr])
                inner_pred[ite] = head.classes_[head.proba(A[ite]).argmax(axis=1)]
            scores.append(f1_score(ytr, inner_pred, average="macro"))
        best = VARIANTS[int(np.argmax(scores))]
        name = f"{best['kind']}{'+balanced' if best['balanced'] else ''}"
        chosen[name] = chosen.get(name, 0) + 1
        head = Head(**best).fit(A, ytr)
        pred[test] = head.classes_[head.proba(B).argmax(axis=1)]
    per_class = f1_score(y, pred, labels=classes, average=None)
    return float(per_class.mean()), per_class.tolist(), classes, chosen


def run(report: Report, *, quick: bool) -> None:
    from xinfang.suggest.pipeline import SuggestionModel, join_text
    from xinfang.suggest.training import cross_validate

    path = _find(DATA)
    if path is None:
        report.note(f"skipped: ../shared/data/{DATA} not found")
        return
    rows = _rows(path)
    texts = [join_text(r["title"], r["content"]) for r in rows]
    labels = [r["label"] for r in rows]
    report.note(f"{len(rows)} labelled messages, {len(set(labels))} classes; 5-fold stratified CV (seed 0)")
    with Timer() as t:
        cv = cross_validate(texts, labels, folds=5, seed=0)
    report.figure("classification macro-F1 (5-fold CV)", round(cv["macro_f1"], 3), "", ">= 0.85")
    worst = min(cv["f1"])
    report.figure("lowest per-class F1", round(worst, 3), "", ">= 0.70")
    for label, f1, p, r, n in zip(cv["labels"], cv["f1"], cv["precision"], cv["recall"], cv["support"]):
        report.note(f"  {label:<10} F1 {f1:.3f}  precision {p:.3f}  recall {r:.3f}  n={n}")
    report.note(f"accuracy {cv['accuracy']:.3f}; cross-validation took {t.seconds:.1f} s")

    if quick:
        report.note("nested cross-validation skipped (--quick)")
    else:
        with Timer() as t:
            macro, per_class, classes, chosen = nested_cv(texts, labels)
        report.figure("classification macro-F1 (nested 5x3-fold CV)", round(macro, 3), "", ">= 0.85")
        report.note("  per class: " + ", ".join(f"{c} {f:.3f}" for c, f in zip(classes, per_class)))
        report.note(f"  variant chosen per outer fold: {chosen}; took {t.seconds:.1f} s")

    # Batch prediction speed: what the cases_created receiver pays per import batch.
    model = SuggestionModel().fit(texts, {"topic": labels})
    batch = (texts * (1000 // len(texts) + 1))[:1000]
    with Timer() as t:
        model.predict(batch)
    report.figure("model suggestions per second (batch of 1,000)", round(len(batch) / t.seconds), "rows/s", ">= 1000")
