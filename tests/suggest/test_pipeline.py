"""The classifier's per-class margin offsets (learnt by inner cross-validation of the training rows)."""
import numpy as np

from xinfang.suggest.pipeline import Head, TextClassifier, _macro_f1

TEXTS = {
    "交通": ["公交线路调整", "道路拥堵严重", "公交站台破损", "红绿灯故障", "出租车拒载", "公交车晚点"],
    "教育": ["学校收费不合理", "孩子入学难", "教师补课收费", "学校食堂卫生", "幼儿园学位紧张", "学校校车安全"],
    "环境": ["工厂排放污水", "噪音扰民严重", "垃圾焚烧臭味", "河道污染发黑", "工地扬尘严重", "夜间施工噪音"],
}


def _data():
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [k for k, ts in TEXTS.items() for _ in ts]
    return texts, labels


def test_offsets_learnt_and_shapes_unchanged():
    texts, labels = _data()
    clf = TextClassifier().fit(texts, labels)
    assert clf.head_.offsets_.shape == (3,)
    p = clf.predict_proba(["公交线路", "学校收费"])
    assert p.shape == (2, 3)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert list(clf.predict(["公交线路调整"])) == ["交通"]


def test_offsets_zero_when_a_class_is_too_small_or_disabled():
    texts, labels = _data()
    few = texts[:6] + texts[6:8] + texts[12:]  # 教育 has only two rows: too few for 3 inner folds
    few_labels = labels[:6] + labels[6:8] + labels[12:]
    clf = TextClassifier().fit(few, few_labels)
    assert not clf.head_.offsets_.any()
    off = TextClassifier(offsets=False).fit(texts, labels)
    assert not off.head_.offsets_.any()


def test_offsets_shift_margins_into_confidences():
    texts, labels = _data()
    clf = TextClassifier(offsets=False).fit(texts, labels)
    X = clf.features_.transform(["学校"])
    before = clf.head_.proba(X)
    clf.head_.offsets_ = np.array([0.0, 0.0, 1.0])
    assert clf.head_.proba(X)[0, 2] > before[0, 2]


def test_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    y = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0, 2])
    assert abs(_macro_f1(y, pred, 3) - f1_score(y, pred, average="macro")) < 1e-12
    assert isinstance(Head().offsets, bool)


def test_unlabelled_texts_feed_the_idf_only():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, labels = _data()
    unlabelled = ["地铁施工封路绕行", "地铁站出口积水", "地铁末班车太早", "公交卡充值难"]
    plain = TextClassifier().fit(texts, labels)
    wide = TextClassifier().fit(texts, labels, unlabelled=unlabelled)
    # The vocabulary is the labelled texts': n-grams only the unlabelled texts have are no features.
    for name in ("v_all", "v_words", "v_title"):
        assert getattr(wide.features_, name).vocabulary_ == getattr(plain.features_, name).vocabulary_
    assert "地铁" not in wide.features_.v_words.vocabulary_
    # The IDF is sklearn's smoothed IDF over labelled and unlabelled texts together.
    every = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit(texts + unlabelled)
    vocab = wide.features_.v_all.vocabulary_
    for gram in ("公", "公交", "学校", "污水"):
        assert np.isclose(wide.features_.v_all.idf_[vocab[gram]], every.idf_[every.vocabulary_[gram]], rtol=1e-5)
    # "学" is in no unlabelled text: among more texts it is rarer.
    assert wide.features_.v_all.idf_[vocab["学"]] > plain.features_.v_all.idf_[vocab["学"]]
    # The unlabelled rows are never trained on: still the three labelled classes, no pseudo-labels.
    assert list(wide.classes_) == sorted(TEXTS) and wide.n_pseudo_ == 0
    assert list(wide.predict(["公交线路调整", "河道污染发黑"])) == ["交通", "环境"]


def test_suggestion_model_takes_unlabelled_texts_for_its_idf():
    from xinfang.suggest.pipeline import SuggestionModel

    texts, labels = _data()
    plain = SuggestionModel().fit(texts, {"topic": labels})
    model = SuggestionModel().fit(texts, {"topic": labels}, unlabelled=["学校门口拥堵", "学校操场积水"])
    vocab = model.features.v_words.vocabulary_
    assert vocab == plain.features.v_words.vocabulary_
    assert model.features.v_words.idf_[vocab["学校"]] < plain.features.v_words.idf_[vocab["学校"]]
    classes, p = model.predict(["学校收费"])["topic"]
    assert list(classes) == sorted(TEXTS) and p.shape == (1, 3)
