"""The text classifier behind model suggestions (CPU only, nothing downloaded).

One pipeline, used alike by `xinfang model train`, `xinfang model evaluate` and the benchmark:
- features: char 1–3-gram TF-IDF over title + content (sublinear tf), plus a separate char 1–3-gram
  TF-IDF of the title alone (titles are short, dense summaries and deserve their own weight), and
  char 2–4-grams of the whole text (word-ish units: Chinese words are mostly 2–4 characters);
- classifier: a linear SVM with balanced class weights; its margins go through a softmax so
  `predict_proba` is a usable confidence in [0, 1] (logistic regression and an LR+SVM average are
  available as `kind="lr"` / `"ens"`; on the reference data they scored lower, see `Head`);
- per-class margin offsets learnt inside the training data: a 3-fold cross-validation of the
  training rows gives out-of-fold margins, and a small additive offset per class is chosen by
  coordinate search to maximise macro-F1 on them (a balanced class weight alone still left the
  rarest-recalled topic, 商贸旅游 in the reference data, at 40 % recall); the offsets are added to
  the margins before the softmax, so predictions and confidences keep their shapes;
- unlabelled texts (when given) join the training texts for the IDF weights only: an n-gram's
  rarity is better estimated from more texts of the same kind. The vocabulary stays the labelled
  texts' (an n-gram they lack could never earn a weight, and would only grow the stored model).
  On the reference data, the 2,765 unlabelled messages of the same board raised 5-fold macro-F1
  from 0.835 to 0.862 and the weakest topic (商贸旅游) from 0.688 to 0.761 (letting them widen the
  vocabulary too gave 0.854, with a model twice the size); the texts predicted are never among them;
- optional self-training on unlabelled texts: after a first fit, unlabelled texts predicted with
  high confidence are added as pseudo-labelled samples (weight < 1) and the model is refitted
  (off by default: in trials on the reference data it lowered macro-F1).

The settings are fixed in code, not tuned per fold: the only things learnt are the vocabulary, the
IDF weights, the SVMs and the offsets, all from the training rows (plus unlabelled texts for the
IDF), so a cross-validation's test fold never informs them.
"""
from __future__ import annotations

import io
import pickle
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

SEP = "\n"


def join_text(title: str, content: str) -> str:
    """The single string the classifier reads: title, a newline, content."""
    return f"{(title or '').strip()}{SEP}{(content or '').strip()}"


def _title(text: str) -> str:
    return text.split(SEP, 1)[0]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _widen_idf(v: TfidfVectorizer, docs: list[str], extra: list[str]) -> None:
    """Recompute `v.idf_` over `docs` + `extra`, keeping `v`'s vocabulary (fitted on `docs`): the
    same smoothed formula as sklearn's (ln((1 + n) / (1 + df)) + 1), on more documents. Only the
    vocabulary's n-grams are counted, so no n-gram unseen in the labelled rows becomes a feature
    (it could never earn a classifier weight, and would only grow the stored model)."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(analyzer=v.build_analyzer(), vocabulary=v.vocabulary_, binary=True, dtype=np.float32)
    df = np.zeros(len(v.vocabulary_))
    for part in (docs, extra):
        df += np.asarray(counter.transform(part).sum(axis=0), dtype=np.float64).ravel()
    n = len(docs) + len(extra)
    v.idf_ = (np.log((1 + n) / (1 + df)) + 1).astype(v.idf_.dtype)


class Featurizer:
    """Char n-gram TF-IDF features of `join_text` strings (whole text 1–3 and 2–4 grams, title 1–3)."""

    def __init__(self, title_weight: float = 1.0, max_features: int = 200_000):
        self.title_weight = title_weight
        self.max_features = max_features

    def fit(self, texts: Sequence[str], unlabelled: Sequence[str] = ()) -> "Featurizer":
        """Vocabulary from `texts`; IDF weights from `texts` and `unlabelled` together."""
        texts, unlabelled = list(texts), list(unlabelled)
        self.v_all = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                     max_features=self.max_features, dtype=np.float32)
        self.v_words = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True, min_df=2,
                                       max_features=self.max_features, dtype=np.float32)
        self.v_title = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32)
        self.v_all.fit(texts)
        try:
            self.v_words.fit(texts)
        except ValueError:  # too few texts for min_df=2: keep every n-gram
            self.v_words.set_params(min_df=1).fit(texts)
        self.v_title.fit([_title(t) for t in texts])
        for v in (self.v_all, self.v_words, self.v_title):
            # The n-grams cut by max_features/min_df are kept only for inspection and can run to
            # millions: dropping them keeps a stored version small (sklearn documents this).
            if hasattr(v, "stop_words_"):
                del v.stop_words_
        if unlabelled:
            titles, u_titles = [_title(t) for t in texts], [_title(t) for t in unlabelled]
            for v, docs, extra in ((self.v_all, texts, unlabelled), (self.v_words, texts, unlabelled),
                                   (self.v_title, titles, u_titles)):
                _widen_idf(v, docs, extra)
        return self

    def transform(self, texts: Sequence[str]):
        texts = list(texts)
        return sparse.hstack([self.v_all.transform(texts), self.v_words.transform(texts),
                              self.title_weight * self.v_title.transform([_title(t) for t in texts])], format="csr")


class Head:
    """One target's classifier on shared features.

    `kind="svm"` (the default): a linear SVM with balanced class weights (rare topics are not
    drowned by common ones), its margins through a softmax as the confidence; `"lr"`: logistic
    regression probabilities; `"ens"`: the average of both. The default was chosen by comparing
    the three, with and without class balancing, on the reference data (docs/suggestions.md);
    `xinfang.suggest.bench` also reports a nested cross-validation that makes this choice inside
    each training fold, so the printed figure is not flattered by it."""

    def __init__(self, kind: str = "svm", balanced: bool = True, C_lr: float = 20.0, C_svm: float = 0.5,
                 svm_temperature: float = 0.3, offsets: bool = True):
        self.kind, self.balanced = kind, balanced
        self.C_lr, self.C_svm, self.svm_temperature = C_lr, C_svm, svm_temperature
        self.offsets = offsets

    def _fit_models(self, X, y, weights=None) -> None:
        cw = "balanced" if self.balanced else None
        self.lr = self.svm = None
        if self.kind in ("lr", "ens"):
            self.lr = LogisticRegression(C=self.C_lr, max_iter=3000, class_weight=cw).fit(X, y, sample_weight=weights)
        if self.kind in ("svm", "ens"):
            self.svm = LinearSVC(C=self.C_svm, class_weight=cw).fit(X, y, sample_weight=weights)
        self.classes_ = (self.svm or self.lr).classes_

    def fit(self, X, y, weights=None) -> "Head":
        """Fit on (X, y); with `offsets` (SVM only), also learn per-class margin offsets from an
        inner 3-fold cross-validation of these same rows (never from the rows later predicted)."""
        y = np.asarray(y)
        self._fit_models(X, y, weights)
        self.offsets_ = np.zeros(len(self.classes_))
        if self.offsets and self.kind == "svm":
            self.offsets_ = _learn_offsets(self, X, y, weights)
        return self

    def _margins(self, X) -> np.ndarray:
        d = self.svm.decision_function(X)
        if d.ndim == 1:  # two classes: one margin, positive for classes_[1]
            d = np.column_stack([-d, d])
        return d

    def _svm_proba(self, X) -> np.ndarray:
        return _softmax((self._margins(X) + getattr(self, "offsets_", 0.0)) / self.svm_temperature)

    def proba(self, X) -> np.ndarray:
        if self.kind == "lr":
            return self.lr.predict_proba(X)
        if self.kind == "svm":
            return self._svm_proba(X)
        return (self.lr.predict_proba(X) + self._svm_proba(X)) / 2


INNER_FOLDS = 3
OFFSET_GRID = np.round(np.arange(-0.5, 0.501, 0.05), 2)


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over class codes 0..k-1 (a fast equivalent of sklearn's, for the offset search)."""
    tp = np.bincount(y[y == pred], minlength=k)
    n_true, n_pred = np.bincount(y, minlength=k), np.bincount(pred, minlength=k)
    denom = n_true + n_pred
    return float(np.mean(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)))


def _learn_offsets(head: Head, X, y: np.ndarray, weights=None) -> np.ndarray:
    """Per-class additive margin offsets maximising macro-F1 on out-of-fold margins of the
    training rows (two rounds of coordinate search over OFFSET_GRID). Zeros when some class has
    fewer than INNER_FOLDS rows: too few to hold any out."""
    from sklearn.model_selection import StratifiedKFold

    classes = head.classes_
    k = len(classes)
    codes = np.searchsorted(classes, y)
    if k < 2 or np.bincount(codes, minlength=k).min() < INNER_FOLDS:
        return np.zeros(k)
    D = np.zeros((len(y), k))
    inner = Head(head.kind, head.balanced, head.C_lr, head.C_svm, head.svm_temperature, offsets=False)
    for tr, te in StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=0).split(np.zeros(len(y)), codes):
        inner._fit_models(X[tr], y[tr], None if weights is None else np.asarray(weights)[tr])
        D[te] = inner._margins(X[te])
    b = np.zeros(k)
    best = _macro_f1(codes, D.argmax(axis=1), k)
    for _ in range(2):
        for j in range(k):
            for g in OFFSET_GRID:
                trial = b.copy()
                trial[j] = g
                score = _macro_f1(codes, (D + trial).argmax(axis=1), k)
                if score > best + 1e-9:
                    best, b = score, trial
    return b


def _self_train(head: Head, X, y, Xu, threshold: float, weight: float) -> int:
    """Refit `head` with unlabelled rows it predicts confidently as extra, lighter samples."""
    p = head.proba(Xu)
    keep = p.max(axis=1) >= threshold
    if keep.any():
        pseudo = head.classes_[p[keep].argmax(axis=1)]
        weights = np.concatenate([np.ones(X.shape[0]), np.full(int(keep.sum()), weight)])
        head.fit(sparse.vstack([X, Xu[keep]], format="csr"), np.concatenate([np.asarray(y), pseudo]), weights)
    return int(keep.sum())


class TextClassifier(BaseEstimator, ClassifierMixin):
    """One target: `Featurizer` + `Head` (what cross-validation and the benchmark evaluate).

    `fit(texts, y, unlabelled=...)`: unlabelled texts (if any) join the IDF statistics (the
    vocabulary stays the labelled texts') and, with `self_train=True`, give confident pseudo-labels."""

    def __init__(self, kind: str = "svm", balanced: bool = True, C_lr: float = 20.0, C_svm: float = 0.5,
                 title_weight: float = 1.0, svm_temperature: float = 0.3, self_train: bool = False,
                 self_train_threshold: float = 0.6, pseudo_weight: float = 0.5, offsets: bool = True):
        self.kind = kind
        self.offsets = offsets
        self.balanced = balanced
        self.C_lr = C_lr
        self.C_svm = C_svm
        self.title_weight = title_weight
        self.svm_temperature = svm_temperature
        self.self_train = self_train
        self.self_train_threshold = self_train_threshold
        self.pseudo_weight = pseudo_weight

    def fit(self, texts: Sequence[str], y: Sequence[str], unlabelled: Sequence[str] = ()):
        texts, y, unlabelled = list(texts), np.asarray(list(y)), list(unlabelled)
        if len(set(y.tolist())) < 2:
            raise ValueError("need at least two classes to train")
        self.features_ = Featurizer(self.title_weight).fit(texts, unlabelled)
        X = self.features_.transform(texts)
        self.head_ = Head(self.kind, self.balanced, self.C_lr, self.C_svm, self.svm_temperature,
                          self.offsets).fit(X, y)
        self.classes_ = self.head_.classes_
        self.n_pseudo_ = 0
        if unlabelled and self.self_train:
            self.n_pseudo_ = _self_train(self.head_, X, y, self.features_.transform(unlabelled),
                                         self.self_train_threshold, self.pseudo_weight)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.head_.proba(self.features_.transform(list(texts)))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]


class SuggestionModel:
    """Several targets (category, topic, organ) over one shared `Featurizer`, so predicting a batch
    costs one feature extraction. Labels are strings; a None label leaves that row out of that
    target's training. A target with fewer than two classes gets no head."""

    def __init__(self, **params):
        self.params = params

    def fit(self, texts: Sequence[str], labels: dict[str, Sequence[str | None]],
            unlabelled: Sequence[str] = ()) -> "SuggestionModel":
        """Fit every target's head on `texts`; `unlabelled` texts (e.g. cases not yet confirmed)
        only join the IDF statistics, as in `TextClassifier`."""
        texts = list(texts)
        self.features = Featurizer(self.params.get("title_weight", 1.0)).fit(texts, unlabelled)
        X = self.features.transform(texts)
        head_params = {k: v for k, v in self.params.items() if k in ("kind", "balanced", "C_lr", "C_svm", "svm_temperature", "offsets")}
        self.heads: dict[str, Head] = {}
        self.counts: dict[str, int] = {}
        for target, ys in labels.items():
            known = Counter(str(v) for v in ys if v not in (None, ""))
            # A class seen once cannot be told from noise: it is left out rather than memorised.
            rows = [i for i, v in enumerate(ys) if v not in (None, "") and known[str(v)] >= 2]
            ys_kept = [str(ys[i]) for i in rows]
            self.counts[target] = len(rows)
            if len(set(ys_kept)) >= 2:
                with warnings.catch_warnings():
                    # Few samples per class is expected in a young deployment; sklearn's hint that
                    # this "could be a regression problem" is noise here.
                    warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
                    self.heads[target] = Head(**head_params).fit(X[rows], ys_kept)
        return self

    def predict(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{target: (classes, probabilities of shape (n_texts, n_classes))} for each trained target."""
        if not self.heads:
            return {}
        X = self.features.transform(list(texts))
        return {t: (h.classes_, h.proba(X)) for t, h in self.heads.items()}


def dumps(obj) -> bytes:
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=pickle.HIGHEST_PROTOCOL)
    return buf.getvalue()


def loads(data: bytes):
    # Only blobs this deployment wrote itself (ModelVersion rows, admin-only) are ever unpickled.
    return pickle.loads(bytes(data))
