"""What a training reads from the deployment: confirmed cases as labels, unconfirmed ones as text."""
from __future__ import annotations

import numpy as np

from xinfang.cases.models import State
from xinfang.suggest import training
from xinfang.suggest.pipeline import loads


def test_unconfirmed_cases_are_unlabelled_text_for_vocabulary_only(cast, confirmed, make_case):
    waiting = make_case(title="地铁施工封路绕行不便", content="地铁站出口施工封路")
    make_case(title="地铁末班车太早", content="地铁末班车提前")
    texts = training.unlabelled_texts()
    assert len(texts) == 2 and any(t.startswith("地铁施工封路绕行不便") for t in texts)
    assert training.unlabelled_texts(limit=1) == [texts[0]] and texts[0].startswith("地铁末班车太早")  # newest first
    assert not any("拖欠工资" in t for t in texts)  # confirmed cases are labelled rows, not unlabelled text

    version = training.train()
    assert version.n_samples == 16 and version.metrics["unlabelled"] == 2
    model = loads(version.blob)
    # Their texts join the IDF (so "工", in wage cases and in one waiting case, is counted in all
    # 18 texts), not the vocabulary.
    labelled, _labels, _last = training.training_data()
    docs = labelled + texts
    df = sum("工" in d for d in docs)
    v = model.features.v_all
    assert np.isclose(v.idf_[v.vocabulary_["工"]], np.log((1 + len(docs)) / (1 + df)) + 1, rtol=1e-5)
    assert "地铁" not in model.features.v_words.vocabulary_
    # The waiting case is no training row: its registrar-set topic is not yet a confirmed label.
    assert model.counts["topic"] == 16
    waiting.refresh_from_db()
    assert waiting.state == State.REGISTERED
