"""The database side of duplicate detection: writing the index and finding candidates in it.

Costs are per batch, not per case: `index_cases` (the `cases_created` receiver) reads the batch's
cases and petitioners in two queries, looks up every band of every case of the batch in one
query and every person key in another, verifies candidates in memory, and writes signatures,
bands, person keys and links with bulk inserts.
"""
from __future__ import annotations

import gc
import hashlib
import heapq
import hmac
import re
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from xinfang.cases.models import Case, Petitioner

from . import text as T
from .models import Band, Kind, Link, PersonKey, Signature, Status

# Scores (see docs/duplicates.md): at or above SUSPECT a candidate is shown and linked; the same
# person adds PERSON_BONUS (identity is evidence, not proof of the same matter); a near-verbatim
# text sent to another organ is 一信多投 from MULTI up.
SUSPECT = 0.5
PERSON_BONUS = 0.05
MULTI = 0.85
MAX_LINKS = 3  # links written per new case (the best ones)
MAX_CANDIDATES = 8  # cases verified per text by shared bands (the most band hits first)
MAX_PERSON_CANDIDATES = 16  # same-person cases verified per text (the latest first)
BUCKET_CAP = 64  # newest cases read per LSH bucket (see lookup_bands)
LOOKUP_CHUNK = 4000  # buckets per lookup query (2 parameters each: within SQLite's limit)


# --------------------------------------------------------------------------- person keys

_SPACE = re.compile(r"[\s\-—_·•,,。.;;::()()【】\[\]]+")


def _secret() -> bytes:
    key = getattr(settings, "XINFANG_DEDUP_KEY", "") or settings.SECRET_KEY
    return hashlib.sha256(b"xinfang.dedup.person:" + key.encode()).digest()


def _digest(secret: bytes, kind: str, value: str) -> int:
    d = hmac.digest(secret, f"{kind}:{value}".encode(), "sha256")  # = hmac.new(...).digest(), in one C call
    return int.from_bytes(d[:8], "little", signed=True)


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else ""


def person_keys(name: str = "", id_number: str = "", phone: str = "", address: str = "") -> set[int]:
    """Keyed digests identifying a person: the ID number, the phone, and name + address, each
    normalised. Stored instead of the values, so lookups never read Petitioner columns (which may
    be encrypted at rest) and the index reveals nothing without the deployment's secret."""
    secret = _secret()
    keys = set()
    idn = unicodedata.normalize("NFKC", id_number or "").strip().upper()
    if len(idn) >= 15:
        keys.add(_digest(secret, "id", idn))
    ph = normalise_phone(phone)
    if ph:
        keys.add(_digest(secret, "phone", ph))
    nm = _SPACE.sub("", unicodedata.normalize("NFKC", name or ""))
    addr = _SPACE.sub("", unicodedata.normalize("NFKC", address or ""))
    if nm and len(addr) >= 4:
        keys.add(_digest(secret, "name_addr", f"{nm}|{addr}"))
    return keys


# --------------------------------------------------------------------------- finding


@dataclass
class Found:
    """A verified candidate for a text: the case, the score, and whether it is the same person."""

    case_id: int
    score: float
    same_person: bool
    text_score: float
    bureau_id: int = 0
    received_at: object = None
    extra: dict = field(default_factory=dict)


def _placeholders(n: int) -> str:
    return ",".join(["%s"] * n)


_PG_INTEGER_TYPES = {"smallint", "integer", "bigint"}


def int_array(values) -> str:
    """PostgreSQL: integers (None for NULL) as one array literal, "{1,2,NULL}", the parameter of a
    `%s::bigint[]` (or smallint[]) cast. psycopg dumps a list parameter element by element in
    Python, with a regular expression per element deciding on quotes; for the tens of thousands of
    ids and band hashes of an import batch that was about a fifth of the screening process's own
    time. The literal is a single join."""
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def lookup_bands(rows: np.ndarray) -> dict[tuple[int, int], list[int]]:
    """{(band, hash): [case ids, newest last]} for every bucket of `rows` ((n, BANDS) int64), at
    most BUCKET_CAP newest cases per bucket.

    A bucket shared by thousands of cases (a template, a stock phrase) says little about any one
    of them; reading it whole made every batch cost as much as the index is large. Each bucket is
    read from the (band, hash, case_id) primary key as a bounded range: a scalar subquery finds
    the BUCKET_CAP-th newest case id by walking the index backwards, and the join reads from there
    on. One query per few thousand distinct buckets, on SQLite and PostgreSQL alike."""
    out: dict[tuple[int, int], list[int]] = defaultdict(list)
    table = Band._meta.db_table
    # The distinct non-zero buckets in (band, hash) order, a band at a time (np.unique sorts).
    wanted = [(b, v) for b in range(rows.shape[1] if rows.ndim == 2 and len(rows) else 0)
              for v in np.unique(rows[:, b]).tolist() if v != 0]
    floor = -(1 << 63)
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start:start + LOOKUP_CHUNK]
        values = ",".join(["(%s, %s)"] * len(chunk))
        if connection.vendor == "postgresql":
            # A LATERAL subquery reads each bucket backwards on the primary key and stops at
            # BUCKET_CAP (the planner would otherwise rescan each bucket for the bound).
            # One row per bucket with its ids as an array: a batch's buckets hold up to a million
            # ids, and reading them as rows of three columns cost more than the query.
            sql = f"""
            WITH q(qb, qh) AS (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))
            SELECT q.qb, q.qh, ARRAY(
                SELECT t.case_id FROM {table} t WHERE t.band = q.qb AND t.hash = q.qh
                ORDER BY t.case_id DESC LIMIT {BUCKET_CAP}) FROM q"""
        else:
            sql = f"""
            WITH q(qb, qh) AS (VALUES {values})
            SELECT t.band, t.hash, t.case_id FROM q JOIN {table} t ON t.band = q.qb AND t.hash = q.qh
             AND t.case_id >= COALESCE((SELECT t2.case_id FROM {table} t2 WHERE t2.band = q.qb AND t2.hash = q.qh
                                        ORDER BY t2.case_id DESC LIMIT 1 OFFSET {BUCKET_CAP - 1}), {floor})
            ORDER BY t.band, t.hash, t.case_id"""
        if connection.vendor == "postgresql":
            params = [int_array([b for b, _h in chunk]), int_array([h for _b, h in chunk])]  # two arrays, not 2n literals
        else:
            params = [v for pair in chunk for v in pair]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            if connection.vendor == "postgresql":
                for band, h, ids in cur.fetchall():
                    if ids:
                        ids.reverse()  # newest last
                        out[(band, h)] = ids
            else:
                for band, h, case_id in cur.fetchall():
                    out[(band, h)].append(case_id)
    return out


def _rows_in(sql: str, ids, chunk: int = 5000):
    """Rows of `sql` (one `IN ({ids})` placeholder) for many integer ids, a few thousand per query.

    Plain SQL on purpose: these lookups run for every batch of an import with thousands of ids,
    and the ORM spent more time preparing each id of the IN list than the database did. On
    PostgreSQL the ids are one array parameter (`int_array`): a query with thousands of
    placeholders is split and bound placeholder by placeholder in Python."""
    ids = sorted(ids)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            if postgres:
                cur.execute(sql.format(ids="SELECT unnest(%s::bigint[])"), [int_array(part)])
            else:
                cur.execute(sql.format(ids=_placeholders(len(part))), part)
            yield from cur.fetchall()


def lookup_persons(keys: set[int]) -> dict[int, list[int]]:
    """{person key: [case ids]} in one query per few thousand keys."""
    out: dict[int, list[int]] = defaultdict(list)
    sql = (f"SELECT {connection.ops.quote_name('key')}, case_id FROM {PersonKey._meta.db_table} "
           f"WHERE {connection.ops.quote_name('key')} IN ({{ids}})")
    for key, case_id in _rows_in(sql, keys):
        out[key].append(case_id)
    return out


def _texts(case_ids) -> dict[int, tuple]:
    """{case id: (title, content, bureau id, received at)}, a few thousand ids per query, with the
    times as the ORM returns them (SQLite stores naive UTC)."""
    sql = f"SELECT id, title, content, bureau_id, received_at FROM {Case._meta.db_table} WHERE id IN ({{ids}})"
    rows = _rows_in(sql, case_ids)
    if not settings.USE_TZ:
        return {pk: (t, c, b, r) for pk, t, c, b, r in rows}
    tz = connection.timezone  # settings and connection read once, not per row
    return {pk: (t, c, b, r if r is None or r.tzinfo is not None else r.replace(tzinfo=tz))
            for pk, t, c, b, r in rows}


# Profiles of recently verified cases, kept across batches of one process: consecutive batches of
# an import verify many of the same earlier cases, and building a profile costs more than
# comparing two. An entry is reused only while the case's title and content are unchanged.
_PROFILE_CACHE: OrderedDict[int, tuple[str, str, T.Profile]] = OrderedDict()
# An entry takes about 20 bytes per character of normalised text (its gram array, the normalised
# text, the title and content it was built from), so the cache is bounded by characters: about
# 100 MB whatever the letters' length.
PROFILE_CACHE_CHARS = 5_000_000
_cached_chars = 0


def _profile(cid: int, title: str, content: str, norm: str | None = None) -> T.Profile:
    global _cached_chars
    hit = _PROFILE_CACHE.get(cid)
    if hit is not None and hit[0] == title and hit[1] == content:
        _PROFILE_CACHE.move_to_end(cid)
        return hit[2]
    prof = T.Profile(title, content, norm)
    if hit is not None:
        _cached_chars -= len(hit[2].norm) + 1
    _PROFILE_CACHE[cid] = (title, content, prof)
    _PROFILE_CACHE.move_to_end(cid)
    _cached_chars += len(prof.norm) + 1
    while _cached_chars > PROFILE_CACHE_CHARS and _PROFILE_CACHE:
        _old_id, (_t, _c, old) = _PROFILE_CACHE.popitem(last=False)
        _cached_chars -= len(old.norm) + 1
    return prof


_ID_MASK = (1 << 48) - 1


def pick(band_hits: dict[int, int], person_hits: set[int], exclude=()) -> list[int]:
    """The candidates worth verifying: the most band hits first (the newest among equals), then
    the latest same-person cases; MAX_CANDIDATES and MAX_PERSON_CANDIDATES at most."""
    # Most hits first, the newest among equals: the largest (hits, id), as one integer each so the
    # heap compares plain ints (ids are below 2**48; hits at most 2 * BANDS).
    best = heapq.nlargest(MAX_CANDIDATES + len(exclude), [(int(n) << 48) | c for c, n in band_hits.items()])
    ids = [c for c in (v & _ID_MASK for v in best) if c not in exclude][:MAX_CANDIDATES]
    ids += [c for c in sorted(person_hits, reverse=True) if c not in exclude and c not in band_hits][:MAX_PERSON_CANDIDATES]
    return ids


def verify(profile: T.Profile, band_hits: dict[int, int], person_hits: set[int], *, exclude=(),
           texts: dict | None = None, profiles: dict | None = None) -> list[Found]:
    """Score the candidates (the most band hits first, and the latest same-person cases) and keep
    those at or above SUSPECT, best first. `texts`/`profiles` are caches shared across a batch."""
    ids = pick(band_hits, person_hits, exclude)
    if texts is None:
        texts = _texts(ids)
    return _score(profile, ids, person_hits, texts, {} if profiles is None else profiles)


def _score(profile: T.Profile, ids: list[int], person_hits: set[int], texts: dict, profiles: dict) -> list[Found]:
    """`verify` for candidates already picked: `texts` holds theirs (a missing one is skipped) and
    `profiles` caches theirs."""
    found = []
    for cid in ids:
        if cid not in texts:
            continue  # an index row of a case that no longer exists
        title, content, bureau_id, received = texts[cid]
        other = profiles.get(cid)
        if other is None:
            other = profiles[cid] = _profile(cid, title, content)
        s = T.similarity(profile, other)
        same = cid in person_hits
        score = min(1.0, s + PERSON_BONUS) if same else s
        if score >= SUSPECT:
            found.append(Found(cid, round(score, 4), same, s, bureau_id, received))
    found.sort(key=lambda f: (-f.score, f.case_id))
    return found


def find(title: str, content: str, petitioners: list[dict], *, exclude=()) -> list[Found]:
    """Verified candidates among all indexed cases for one text (a draft, or a case re-screened).

    One round trip: band hits, same-person cases and the candidates' texts come back from a single
    query (a draft is screened while the clerk types; on a busy server each round trip costs)."""
    profile = T.Profile(title, content)
    rows = T.band_hashes([profile.norm])
    keys = set()
    for p in petitioners:
        keys |= person_keys(p.get("name", ""), p.get("id_number", ""), p.get("phone", ""), p.get("address", ""))
    parts, params = [], []
    band_clauses = [f"(band = %s AND hash = %s)" for b in range(T.BANDS) if rows[0, b]]
    if band_clauses:
        parts.append(f"SELECT case_id, COUNT(*) AS n, 0 AS p FROM {Band._meta.db_table} "
                     f"WHERE {' OR '.join(band_clauses)} GROUP BY case_id")
        params += [v for b in range(T.BANDS) if rows[0, b] for v in (b, int(rows[0, b]))]
    if keys:
        parts.append(f"SELECT case_id, 0 AS n, 1 AS p FROM {PersonKey._meta.db_table} "
                     f"WHERE {connection.ops.quote_name('key')} IN ({_placeholders(len(keys))})")
        params += sorted(keys)
    if not parts:
        return []
    exclude = {int(e) for e in exclude if e}
    skip = f"WHERE case_id NOT IN ({_placeholders(len(exclude))})" if exclude else ""
    case_table = Case._meta.db_table
    sql = f"""
        WITH hits AS ({' UNION ALL '.join(parts)}),
        agg AS (SELECT case_id, SUM(n) AS n, MAX(p) AS p FROM hits {skip} GROUP BY case_id),
        picked AS (
            SELECT * FROM (SELECT case_id, n, p FROM agg WHERE n > 0 ORDER BY n DESC, case_id DESC LIMIT {MAX_CANDIDATES}) b
            UNION
            SELECT * FROM (SELECT case_id, n, p FROM agg WHERE p = 1 ORDER BY case_id DESC LIMIT {MAX_CANDIDATES}) q
        )
        SELECT c.id, c.title, c.content, c.bureau_id, picked.n, picked.p
        FROM picked JOIN {case_table} c ON c.id = picked.case_id"""
    params += sorted(exclude)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        fetched = cur.fetchall()
    texts = {cid: (t, c, b, None) for cid, t, c, b, _n, _p in fetched}
    hits = {cid: n for cid, _t, _c, _b, n, _p in fetched if n}
    persons = {cid for cid, _t, _c, _b, _n, p in fetched if p}
    return verify(profile, hits, persons, texts=texts)


def profile_norm(title: str, content: str) -> str:
    return T.normalise(f"{title}{content}")


# --------------------------------------------------------------------------- indexing


def kind_of(found: Found, *, bureau_id: int) -> str:
    """Repeat when the same person raises the matter again; 一信多投 when a near-verbatim text
    reaches another organ; otherwise the same matter from different people (联名/群体)."""
    if found.text_score >= MULTI and found.bureau_id != bureau_id:
        return Kind.MULTI
    if found.same_person:
        return Kind.REPEAT
    return Kind.JOINT


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert ignoring rows already present (rerunning an interrupted import is safe)."""
    if not rows:
        return
    table = model._meta.db_table
    cols = ", ".join(columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One statement per chunk, the columns passed as arrays: executemany sends (and the
            # server parses) one statement per row, which cost three times as much for a batch's
            # ~20 band rows a case.
            by_column = {f.column: f for f in model._meta.concrete_fields}
            types = [by_column[c].db_type(connection) for c in columns]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            sql = f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"
            for start in range(0, len(rows), 20000):
                cur.execute(sql, [int_array(col) if t in _PG_INTEGER_TYPES else list(col)
                                  for t, col in zip(types, zip(*rows[start:start + 20000]))])
        else:
            sql = f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({_placeholders(len(columns))})"
            for start in range(0, len(rows), 20000):
                cur.executemany(sql, rows[start:start + 20000])


def index_rows(case_ids: list[int], bands: np.ndarray, keys: dict[int, set[int]]) -> tuple[list, list, list]:
    """The rows `write_index` inserts for `case_ids` (bands[i] belongs to case_ids[i]): (case id,
    bands blob) per signature, (band, hash, case id) per non-zero band in primary-key order, and
    (key, case id) per person key. Pure, so `plan` prepares them outside the write lock."""
    blobs = bands.astype("<i8").tobytes()
    width = bands.shape[1] * 8
    signatures = [(cid, blobs[i * width:(i + 1) * width]) for i, cid in enumerate(case_ids)]
    # Sorted by the primary key: the B-tree is filled in order, page by page (much less I/O on a
    # large index than random inserts).
    row, band = np.nonzero(bands)
    hashes = bands[row, band]
    owners = np.asarray(case_ids, dtype=np.int64)[row]
    order = np.lexsort((owners, hashes, band))
    band_rows = list(zip(band[order].tolist(), hashes[order].tolist(), owners[order].tolist()))
    key_rows = [(k, cid) for cid, ks in keys.items() for k in ks]
    return signatures, band_rows, key_rows


def write_index(signatures: list[tuple], band_rows: list[tuple], key_rows: list[tuple]) -> None:
    """Insert the rows `index_rows` prepared; the signatures are stamped with the time of writing."""
    from django.utils import timezone

    now = timezone.now()
    _insert(Signature, ("case_id", "bands", "indexed_at"), [(cid, blob, now) for cid, blob in signatures])
    _insert(Band, ("band", "hash", "case_id"), band_rows)
    _insert(PersonKey, ("key", "case_id"), key_rows)


def index_cases(case_ids: list[int], *, screen: bool = True) -> int:
    """Index the cases and (with `screen`) link each to the earlier cases it duplicates: the
    `cases_created` receiver and the work of `xinfang dedup reindex`. Cases already indexed are
    skipped. Returns the number of links written.

    The reading and scoring happen before the writing transaction (`plan`), so a process screening
    an import's cases holds the database's write lock only while it writes (`apply`). Called
    inside a caller's transaction (the receiver), both run in it as before."""
    planned = plan(case_ids, screen=screen)
    if planned is None:
        return 0
    with transaction.atomic():
        return apply(planned)


@dataclass
class Plan:
    """What `index_cases` will write for a batch: the duplicates found, and the index rows and
    link candidates prepared from them (build it with `Plan.of`, which prepares those)."""

    case_ids: list[int]
    cases: dict
    bands: np.ndarray
    keys: dict
    found_by_case: dict
    signatures: list = field(default_factory=list)
    band_rows: list = field(default_factory=list)
    key_rows: list = field(default_factory=list)
    links: list = field(default_factory=list)

    @classmethod
    def of(cls, case_ids: list[int], cases: dict, bands: np.ndarray, keys: dict, found_by_case: dict) -> Plan:
        return cls(case_ids, cases, bands, keys, found_by_case, *index_rows(case_ids, bands, keys),
                   _link_candidates(found_by_case, cases))


@contextmanager
def _collector_paused():
    """Pause CPython's cyclic garbage collector for a batch's work, and resume it after.

    A batch allocates a few hundred thousand short-lived containers (rows, tuples, candidate
    lists) and no reference cycles: reference counting frees them all. The collector would still
    run about a hundred times per batch of a thousand cases, and each of its full passes walks
    the whole heap of a Django process (100-200 ms). Paused, it runs once after the batch, over
    what the batch kept. Nesting and threads are safe: it is resumed only if it was running."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _indexed(case_ids) -> set[int]:
    """The ids among `case_ids` that have a signature."""
    sql = f"SELECT case_id FROM {Signature._meta.db_table} WHERE case_id IN ({{ids}})"
    return {cid for (cid,) in _rows_in(sql, case_ids)}


def plan(case_ids: list[int], *, screen: bool = True) -> Plan | None:
    """Read and score a batch without writing anything; None when every case is indexed already."""
    with _collector_paused():
        return _plan(case_ids, screen=screen)


def _plan(case_ids: list[int], *, screen: bool) -> Plan | None:
    case_ids = sorted(set(case_ids) - _indexed(case_ids))
    if not case_ids:
        return None
    cases = _texts(case_ids)
    case_ids = [cid for cid in case_ids if cid in cases]
    keys: dict[int, set[int]] = defaultdict(set)
    # The ORM, not plain SQL: it decrypts the encrypted columns.
    for cid, name, idn, phone, addr in Petitioner.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "name", "id_number", "phone", "address"):
        keys[cid] |= person_keys(name, idn, phone, addr)
    norms = [profile_norm(cases[cid][0], cases[cid][1]) for cid in case_ids]
    bands = T.band_hashes(norms)
    found = _screen_batch(case_ids, cases, bands, keys, norms) if screen else {}
    return Plan.of(case_ids, cases, bands, keys, found)


def apply(planned: Plan) -> int:
    """Write a plan (inside the caller's transaction); returns the number of links written. Cases
    another process indexed since the plan was made are left as that process wrote them."""
    with _collector_paused():
        return _apply(planned)


def _apply(planned: Plan) -> int:
    ids = planned.case_ids
    done = _indexed(ids)
    if done:
        keep = [i for i, cid in enumerate(ids) if cid not in done]
        ids = [ids[i] for i in keep]
        planned = Plan.of(ids, planned.cases, planned.bands[keep], {c: k for c, k in planned.keys.items() if c not in done},
                          {c: f for c, f in planned.found_by_case.items() if c not in done})
    if not ids:
        return 0
    links = _write_links(planned.links) if planned.links else 0
    write_index(planned.signatures, planned.band_rows, planned.key_rows)
    return links


def _met_buckets(bands: np.ndarray, db_buckets: dict) -> dict[int, list[tuple[int, int]]]:
    """{row: [(band, hash), ...]} of the buckets of `bands` that can hold a candidate: those found
    in the index and those another row of the batch shares. Most buckets of a batch are neither,
    and finding that with numpy, a band at a time, spares the per-case loop of `_screen_batch`
    twenty lookups per case."""
    in_db: dict[int, list[int]] = defaultdict(list)
    for band, h in db_buckets:
        in_db[band].append(h)
    met = np.zeros(bands.shape, dtype=bool)
    for band in range(bands.shape[1] if bands.ndim == 2 else 0):
        column = bands[:, band]
        _values, inverse, counts = np.unique(column, return_inverse=True, return_counts=True)
        met[:, band] = counts[inverse] > 1
        if in_db[band]:
            met[:, band] |= np.isin(column, in_db[band])
    met &= bands != 0
    rows, cols = np.nonzero(met)  # row by row, bands in order
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, band, h in zip(rows.tolist(), cols.tolist(), bands[rows, cols].tolist()):
        out[i].append((band, h))
    return out


def _screen_batch(case_ids, cases, bands, keys, norms) -> dict[int, list[Found]]:
    """Find and verify the duplicates of a batch among the indexed cases and within the batch
    itself (an import may carry a letter and its repeat in one file): {case id: found, best first}.

    Bounded per case whatever the size of the index: at most BUCKET_CAP cases per bucket from the
    index and BUCKET_CAP earlier cases of the batch per bucket, then only the best MAX_CANDIDATES
    by band hits (and the latest MAX_PERSON_CANDIDATES same-person cases) are verified. Within the
    batch each pair is found once, by its later case."""
    db_buckets = lookup_bands(bands)
    all_keys = set().union(*keys.values()) if keys else set()
    db_persons = lookup_persons(all_keys) if all_keys else {}
    # Only buckets met elsewhere can give a case a candidate (most cases have none).
    met_buckets = _met_buckets(bands, db_buckets)
    batch_buckets: dict[tuple[int, int], list[int]] = {}
    batch_persons: dict[int, list[int]] = {}
    wanted: dict[int, tuple[int, list[int], set[int]]] = {}
    empty = ()
    for i, cid in enumerate(case_ids):
        bucket_keys = met_buckets.get(i, empty) if norms[i] else empty
        my_keys = keys.get(cid, empty)
        # Every id met in the case's buckets, counted at once (one Counter per case, not per bucket).
        met: list[int] = []
        for key in bucket_keys:
            met += db_buckets.get(key, empty)
            met += batch_buckets.get(key, empty)[-BUCKET_CAP:]
        same = set()
        for k in my_keys:
            same.update(db_persons.get(k, empty))
            same.update(batch_persons.get(k, empty))
        # The batch's own rows, for the cases after this one.
        for key in bucket_keys:
            batch_buckets.setdefault(key, []).append(cid)
        for k in my_keys:
            batch_persons.setdefault(k, []).append(cid)
        hits = Counter(met) if met else {}
        hits.pop(cid, None)
        same.discard(cid)
        if not norms[i] or not (hits or same):
            continue
        wanted[cid] = (i, pick(hits, same, (cid,)), same)
    del db_buckets, batch_buckets
    # The texts of every candidate of the batch in one query (the batch's own are at hand).
    need = {c for _i, ids, _same in wanted.values() for c in ids} - set(cases)
    texts = {**_texts(need), **cases} if need else cases
    profiles: dict[int, T.Profile] = {}
    found_by_case: dict[int, list[Found]] = {}
    for cid, (i, ids, same) in wanted.items():
        mine = profiles.get(cid)
        if mine is None:
            title, content, _bureau, _received = cases[cid]
            mine = profiles[cid] = _profile(cid, title, content, norms[i])
        # The candidates are picked already: score them as `verify` would (without picking again).
        found = _score(mine, ids, same, texts, profiles)
        if found:
            found_by_case[cid] = found
    return found_by_case


def _link_candidates(found_by_case: dict[int, list[Found]], cases: dict) -> list[tuple[int, int, Found, str]]:
    """(later, earlier, found, kind) of the links to write for the cases' duplicates, before those
    already in the database are left out (earlier = received first): a pair found from both sides
    once, from the later case, and the best MAX_LINKS per later case. Pure, so `plan` prepares it
    outside the write lock."""
    pairs: dict[tuple[int, int], tuple[Found, int]] = {}
    # Enum members read once: a member lookup per pair cost as much as the rest of the loop.
    multi, repeat, joint = Kind.MULTI.value, Kind.REPEAT.value, Kind.JOINT.value
    for cid, found in found_by_case.items():
        me = (cases[cid][3], cid)
        for f in found[:MAX_LINKS * 2]:
            other = (f.received_at, f.case_id)
            later, earlier = (cid, f.case_id) if other <= me else (f.case_id, cid)
            bureau_later = cases[cid][2] if later == cid else f.bureau_id
            bureau_other = f.bureau_id if later == cid else cases[cid][2]
            k = multi if (f.text_score >= MULTI and bureau_later != bureau_other) else (
                repeat if f.same_person else joint)
            if (later, earlier) not in pairs or pairs[(later, earlier)][0].score < f.score:
                pairs[(later, earlier)] = (f, k)
    # Keep the best MAX_LINKS per later case.
    per_later: dict[int, list] = defaultdict(list)
    for (later, earlier), (f, k) in pairs.items():
        per_later[later].append((f.score, earlier, f, k))
    candidates = []
    for later, items in per_later.items():
        items.sort(key=lambda x: (-x[0], x[1]))
        candidates += [(later, earlier, f, k) for _s, earlier, f, k in items[:MAX_LINKS]]
    return candidates


def _write_links(candidates: list[tuple[int, int, Found, str]]) -> int:
    """Write the links `_link_candidates` chose that are not in the database yet, with the roots of
    their repeat chains."""
    existing = set(_rows_in(f"SELECT case_id, earlier_id FROM {Link._meta.db_table} WHERE case_id IN ({{ids}})",
                            {later for later, _e, _f, _k in candidates}))
    chosen = [c for c in candidates if (c[0], c[1]) not in existing]
    if not chosen:
        return 0
    roots = chain_roots({e for _, e, _, _ in chosen})
    # Within a batch a chain may grow: earlier links of this batch give their roots onwards.
    chosen.sort(key=lambda x: x[1])
    new_roots: dict[int, int] = {}
    from django.utils import timezone

    now = timezone.now()
    repeat = Kind.REPEAT.value
    suspected = Status.SUSPECTED.value
    rows = []
    for later, earlier, f, k in chosen:
        root = new_roots.get(earlier) or roots.get(earlier, earlier)
        if k == repeat:
            new_roots.setdefault(later, root)
        rows.append((later, earlier, root, k, f.score, suspected, f.same_person, now))
    # Plain rows, not model instances: a batch of a thousand templated letters writes thousands
    # of links, and building a model instance per link cost more than the insert.
    _insert(Link, ("case_id", "earlier_id", "root_id", "kind", "score", "status", "same_person",
                                  "created_at"), rows)
    return len(rows)


def chain_roots(case_ids) -> dict[int, int]:
    """{case id: root of its repeat chain} for cases that repeat an earlier one (not dismissed)."""
    sql = (f"SELECT case_id, root_id FROM {Link._meta.db_table} WHERE case_id IN ({{ids}}) "
           f"AND kind = '{Kind.REPEAT.value}' AND status <> '{Status.DISMISSED.value}' ORDER BY case_id, score DESC")
    out: dict[int, int] = {}
    for cid, root in _rows_in(sql, case_ids):
        out.setdefault(cid, root)  # the root of the best-scoring link
    return out


def purge_orphans() -> tuple[int, int]:
    """Drop band and person-key rows of cases that are no longer indexed (a deleted case)."""
    sig = Signature._meta.db_table
    counts = []
    with connection.cursor() as cur:
        for model in (Band, PersonKey):
            t = model._meta.db_table
            cur.execute(f"DELETE FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {sig} s WHERE s.case_id = {t}.case_id)")
            counts.append(cur.rowcount)
    return counts[0], counts[1]
