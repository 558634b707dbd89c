"""Screening's fast paths give what the plain definitions give (normalisation, shingles, the gram
arrays the similarity compares, the index rows prepared for writing) and leave the process as
they found it."""
import gc
import itertools

import numpy as np
import pytest

from xinfang.dedup import index
from xinfang.dedup import text as T

from .test_index import ORIGINAL

TEXTS = [ORIGINAL, ORIGINAL[40:90], ORIGINAL.replace("电梯", "电悌"), "东湖区幸福里小区门口的路灯坏了两个月",
         "哈哈哈哈哈哈哈哈", "abab", "同上", "同", "", "abc", "ab", "a", "ba", "aba"]


def _similarity_by_sets(a: str, b: str) -> float:
    """The similarity as first written, over the k-gram sets of `grams` (the reference)."""
    a2, b2, a3, b3 = T.grams(a, 2), T.grams(b, 2), T.grams(a, 3), T.grams(b, 3)
    if not a2 or not b2:
        return 0.0
    i2 = len(a2 & b2)
    j2, c2 = i2 / (len(a2) + len(b2) - i2), i2 / min(len(a2), len(b2))
    i3 = len(a3 & b3)
    j3, c3 = i3 / (len(a3) + len(b3) - i3), i3 / min(len(a3), len(b3))
    contained = 0.55 * c3 + 0.45 * c2
    shorter = min(len(a), len(b))
    if shorter < 30:
        contained *= shorter / 30
    return float(max(0.0, min(1.0, max(j3 * 1.6, j2 * 1.3, contained * 1.05))))


def test_similarity_counts_grams_as_the_sets_do():
    norms = [T.normalise(t) for t in TEXTS] + ["".join(p) for n in range(4) for p in itertools.product("ab", repeat=n)]
    # A text shorter than a gram never shares it with a longer one, whatever its characters.
    norms += ["\x00a", "\x00\x00a", "\U0010ffffa", "\U0010ffff"]
    for a, b in itertools.product(norms, repeat=2):
        assert T.similarity(T.Profile("", "", a), T.Profile("", "", b)) == _similarity_by_sets(a, b), (a, b)


def test_gram_array_holds_the_distinct_grams_two_then_three():
    for text in TEXTS:
        norm = T.normalise(text)
        array, n2 = T.gram_array(norm)
        assert n2 == len(T.grams(norm, 2)) and len(array) - n2 == len(T.grams(norm, 3))
        assert np.all(array[1:] > array[:-1])  # sorted, distinct
    assert T.Profile("标题", ORIGINAL).g3 == T.grams(T.normalise("标题" + ORIGINAL), 3)


def test_normalise_treats_both_widths_alike():
    assert T.normalise("ＡＢｃ１２３ｘ") == "abc123x"
    expected = "小区电梯坏了" + "abc"
    for comma, colon in (("，", "："), (",", ":")):
        assert T.normalise(f"尊敬的王局长{comma}小区电梯坏了{colon}ＡＢＣ") == expected
        assert T.normalise(f"尊敬的王局长{comma}小区电梯坏了{colon}ABC") == expected


def test_batch_shingles_keep_each_text_to_itself():
    norms = [T.normalise(t) for t in TEXTS]
    hashes, starts = T._batch_shingles(norms)
    ends = list(starts[1:]) + [len(hashes)]
    runs = [t for t in norms if t]
    assert len(starts) == len(runs)
    for text, start, end in zip(runs, starts, ends):
        alone, _ = T._batch_shingles([text])
        assert np.array_equal(hashes[start:end], alone)
        assert end - start == max(1, len(text) - T.SHINGLE + 1)


def test_index_rows_are_in_primary_key_order():
    bands = np.array([[5, 0, -3], [5, 7, 0], [0, 0, 0]], dtype=np.int64)
    signatures, band_rows, key_rows = index.index_rows([30, 10, 20], bands, {10: {99}})
    assert signatures == [(30, bands[0].tobytes()), (10, bands[1].tobytes()), (20, bands[2].tobytes())]
    assert band_rows == [(0, 5, 10), (0, 5, 30), (1, 7, 10), (2, -3, 30)]
    assert key_rows == [(99, 10)]


def test_the_collector_pause_restores_the_collector():
    assert gc.isenabled()
    with index._collector_paused():
        assert not gc.isenabled()
        with index._collector_paused():  # nested: the outer pause still holds after the inner one
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), index._collector_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with index._collector_paused():
            pass
        assert not gc.isenabled()  # a collector paused by someone else stays paused
    finally:
        gc.enable()
