"""Text side of duplicate detection: normalisation, shingles, batched MinHash, and the verifying
similarity. Pure functions over strings and numpy arrays (no database), so the same code indexes
one draft or a batch of a thousand imported rows.

MinHash as in datasketch (one universal hash per permutation over each shingle's 32-bit hash,
keeping the minimum), computed for a whole batch at once with numpy instead of one Python object per
document; permutations come from a fixed seed so every process computes the same signature.
Shingle hashes are deterministic (not Python's salted hash). Changing BANDS, ROWS, the seed or the
normalisation changes every signature: run `xinfang dedup reindex --all` after such a change.
"""
from __future__ import annotations

import re

import numpy as np

# LSH: BANDS bands of ROWS rows each. A pair with Jaccard J on 3-gram sets shares at least one
# bucket with probability 1 - (1 - J^ROWS)^BANDS: ~0.97 at J=0.5, ~0.80 at J=0.35, and ~5e-4 for
# unrelated messages (J≈0.03), which keeps bucket lookups small at a million cases.
BANDS = 20
ROWS = 3
NUM_PERM = BANDS * ROWS
SHINGLE = 3
MAX_CHARS = 6000  # text beyond this adds cost, not evidence
MIN_CHARS = 8  # shorter texts ("同上", "见附件") say nothing to compare: no bands, identity only

_MAX32 = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(20260601)
_A = (_rng.randint(1, 1 << 62, size=NUM_PERM, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)  # odd 64-bit
_B = _rng.randint(0, 1 << 62, size=NUM_PERM, dtype=np.uint64)
# Odd multipliers that fold a band's ROWS values into one 64-bit bucket hash.
_FOLD = (_rng.randint(1, 1 << 62, size=ROWS, dtype=np.uint64) | np.uint64(1))

# Courtesies and framing that every letter carries; they say nothing about the matter.
_BOILERPLATE = re.compile(
    # The lookahead lets the engine skip, in one test, every position that cannot start a courtesy.
    "(?=[尊领您你此敬谢感恳希请麻有相来网市])(?:尊敬的[^,，。:：!！]{0,8}[:：,，]?|领导(?:们)?(?:您|你)好|(?:您|你)好|此致敬礼|此致|敬礼|谢谢(?:您|你|领导)?|感谢(?:您|你)|"
    "恳请|恳求|希望|请求|麻烦|有关部门|相关部门|领导|来电(?:人)?(?:称|反映)?|来信(?:人)?反映|网友|市民)")
_KEEP = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


# Full-width letters, digits and signs to ASCII (what NFKC does for them, at a fraction of its cost).
_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}
# Of the full-width characters only letters and digits survive normalisation: _BOILERPLATE lists
# both widths of the signs it tests and _KEEP drops every sign. Translating a text costs more than
# the rest of `normalise` together, and few letters carry a full-width letter or digit.
_WIDE_ALNUM = re.compile("[０-９Ａ-Ｚａ-ｚ]")


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, courtesies removed, only CJK/letters/digits kept."""
    text = (text or "")[:MAX_CHARS * 2]
    if _WIDE_ALNUM.search(text):
        text = text.translate(_WIDTH)
    text = _BOILERPLATE.sub("", text.lower())
    return _KEEP.sub("", text)[:MAX_CHARS]


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def shingle_hashes(norm: str, k: int = SHINGLE) -> np.ndarray:
    """Distinct 32-bit hashes of the character k-grams of a normalised text (the whole text,
    padded, if shorter than k)."""
    h, _starts = _batch_shingles([norm], k)
    return np.unique(h)


def _batch_shingles(norms: list[str], k: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """The k-gram hashes of every text of a batch, concatenated, and where each text's run starts.
    One pass over the batch's characters: windows that would cross from one text into the next
    are dropped; a text shorter than k is padded to one window. Empty texts get no run."""
    padded = [t if len(t) >= k else t + "\0" * (k - len(t)) for t in norms if t]
    if not padded:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    c = _codes("".join(padded))
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    n = len(c) - k + 1
    h = c[:n].copy()
    for i in range(1, k):
        h *= np.uint64(1_000_003)
        h += c[i:n + i]
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    # A window is kept unless it starts in the last k - 1 characters of its text.
    ends = np.cumsum(lengths)
    crossing = (ends[:, None] - np.arange(1, k)).ravel()
    keep = np.ones(n, dtype=bool)
    keep[crossing[crossing < n]] = False
    windows = lengths - k + 1
    run_starts = np.cumsum(windows) - windows
    return h[keep] & _MAX32, run_starts


def band_hashes(norms: list[str]) -> np.ndarray:
    """(len(norms), BANDS) int64 bucket hashes of the texts' MinHash signatures, computed for the
    whole batch in a few numpy operations. An empty text gets all-zero bands (callers skip it).
    Permutations are multiply-shift hashes (a*x + b mod 2^64, top 32 bits): universal, and no
    division, which keeps a batch of a thousand letters well under a millisecond each."""
    n = len(norms)
    out = np.zeros((n, BANDS), dtype=np.int64)
    nonempty = np.fromiter((i for i, t in enumerate(norms) if len(t) >= MIN_CHARS), dtype=np.int64)
    if len(nonempty) == 0:
        return out
    allh, starts = _batch_shingles([norms[i] for i in nonempty])
    sig = np.empty((len(nonempty), NUM_PERM), dtype=np.uint64)
    # One permutation at a time over the whole batch: a 1-D pass stays in cache (a 2-D
    # permutation × shingle matrix is ten times slower for batches of long letters).
    shift = np.uint64(32)
    for p in range(NUM_PERM):
        sig[:, p] = np.minimum.reduceat((_A[p] * allh + _B[p]) >> shift, starts)
    folded = sig.reshape(len(nonempty), BANDS, ROWS) * _FOLD[None, None, :]
    acc = folded[:, :, 0]
    for r in range(1, ROWS):
        acc = (acc * np.uint64(0x9E3779B97F4A7C15)) ^ folded[:, :, r]
    acc[acc == 0] = 1  # zero means "no band" to callers
    out[nonempty] = acc.view(np.int64)
    return out


# --------------------------------------------------------------------------- verification


def pack(gram: str) -> int:
    """One k-gram as the integer `grams` holds for it."""
    packed = 0
    for ch in gram:
        packed = (packed << 21) | ord(ch)
    return packed


def grams(norm: str, k: int) -> set[int]:
    """The distinct character k-grams of a normalised text, each packed into one integer (code
    points are below 2**21, so three fit in 63 bits): the same sets as the k-character substrings,
    built in a few numpy operations and compared faster. A text of at most k characters is one
    "gram" of its own, tagged with its length so it never equals a real k-gram."""
    if len(norm) <= k:
        if not norm:
            return set()
        return {pack(norm)} if len(norm) == k else {-(1 + pack(norm) + (len(norm) << 63))}
    c = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    n = len(c) - k + 1
    g = c[:n].copy()
    for i in range(1, k):
        g = (g << 21) | c[i:n + i]
    return set(g.tolist())


# A k-gram of a text shorter than k is the text left-padded with this code, which no character
# has (code points end at 0x10FFFF): it equals only the same short text's, never a real k-gram.
_NO_CHAR = np.uint64((1 << 21) - 1)
# 3-grams carry the top bit, so in a profile's one sorted array every 2-gram comes first.
_TAG3 = np.uint64(1 << 63)


def _packed(codes: np.ndarray, k: int) -> np.ndarray:
    """The k-grams of a text's code points (uint64), packed as `grams` packs them, repeats
    included; a text shorter than k is one k-gram, padded with _NO_CHAR."""
    if len(codes) < k:
        codes = np.concatenate((np.full(k - len(codes), _NO_CHAR, dtype=np.uint64), codes))
    n = len(codes) - k + 1
    g = codes[:n]
    for i in range(1, k):
        g = (g << np.uint64(21)) | codes[i:n + i]
    return g


class Profile:
    """What the verifying similarity needs of one text, computed once per text. `norm`, when
    given, is `normalise(title + content)` already computed by the caller.

    The distinct 2-grams and 3-grams are held in one sorted uint64 array (`gram_array`), not as
    sets: it is built three times faster, two profiles are compared by one merge, and it takes a
    tenth of the memory (and nothing for the cyclic garbage collector to walk)."""

    __slots__ = ("norm", "grams", "n2", "_g3")

    def __init__(self, title: str, content: str, norm: str | None = None):
        self.norm = normalise(f"{title}{content}") if norm is None else norm
        self.grams, self.n2 = gram_array(self.norm)
        self._g3 = None

    @property
    def g3(self) -> set[int]:
        """`grams(norm, 3)`, for callers that test single 3-grams (built on first use)."""
        if self._g3 is None:
            self._g3 = grams(self.norm, 3)
        return self._g3


def gram_array(norm: str) -> tuple[np.ndarray, int]:
    """The distinct 2-grams and 3-grams of `norm` in one sorted uint64 array, and how many are
    2-grams: the 2-grams first, then the 3-grams with the top bit set. As many of each, equal
    between two texts in the same cases, as `grams(norm, 2)` and `grams(norm, 3)`."""
    if not norm:
        return np.zeros(0, dtype=np.uint64), 0
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    both = np.concatenate((_packed(codes, 2), _packed(codes, 3) | _TAG3))
    both.sort()
    first = np.empty(len(both), dtype=bool)
    first[0] = True
    np.not_equal(both[1:], both[:-1], out=first[1:])
    distinct = both[first]
    return distinct, int(np.searchsorted(distinct, _TAG3))


def similarity(a: Profile, b: Profile) -> float:
    """A score in [0, 1] that two texts state the same matter. Near-copies (edits, reordered
    sentences, typos) score by 3-gram Jaccard; a short summary of a longer text scores by how much
    of the shorter one is contained in the longer (character 2- and 3-grams: a typo breaks few
    2-grams), discounted when the shorter text is too short to carry the matter.

    Inline arithmetic on purpose: an import verifies tens of candidates per row."""
    n2a, n2b = a.n2, b.n2
    if not n2a or not n2b:
        return 0.0
    # The grams both texts have: merged in one stable sort (a merge of two sorted runs), each
    # common gram is a value equal to its predecessor; the 2-grams among them come first.
    merged = np.concatenate((a.grams, b.grams))
    merged.sort(kind="stable")
    common = merged[1:][merged[1:] == merged[:-1]]
    i2 = int(np.searchsorted(common, _TAG3))
    i3 = len(common) - i2
    j2, c2 = i2 / (n2a + n2b - i2), i2 / min(n2a, n2b)
    n3a, n3b = len(a.grams) - n2a, len(b.grams) - n2b
    if n3a and n3b:
        j3, c3 = i3 / (n3a + n3b - i3), i3 / min(n3a, n3b)
    else:
        j3 = c3 = 0.0
    near = max(j3 * 1.6, j2 * 1.3)
    # Containment alone would make any short text "contained" in a long one on the same topic:
    # require 3-gram containment (specific phrases), not just shared vocabulary.
    contained = 0.55 * c3 + 0.45 * c2
    shorter = min(len(a.norm), len(b.norm))
    if shorter < 30:
        contained *= shorter / 30
    score = max(near, contained * 1.05)
    return float(max(0.0, min(1.0, score)))
