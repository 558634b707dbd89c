"""Ledger import and export speed: a generated 100k-row ledger (5k with --quick).

The headline ledger is written from the public citizens' messages in ../shared/data (when they
are there): each message once, then composites of their phrases for the rest, and 15% of the rows
repeats of a recent row (verbatim, edited, reordered, with typos, or a clerk's phone summary; two
in three from the same petitioner), about as often as repeat petitions come in. A second, smaller
ledger is the demo's templated letters, where every row reads like a dozen others: the worst case
for duplicate screening. Both have a realistic mix of states (about half closed with replies and
satisfaction, the rest replied, being handled, waiting or just registered). Each is imported into a
bench bureau with whatever `cases_created` receivers are installed (duplicate detection and
suggestions screen every batch), then the first is exported back to CSV. Peak memory is the
process's maximum resident set: it stays flat as the row count grows because rows are streamed and
committed in batches.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import random
import resource
import tempfile
import time

from django.db import connection
from django.utils import timezone

from . import columns as C

TITLE = "台账导入导出 ledger import/export"
USES_DATABASE = True

BUREAU = "BENCHLEDXF"
ORGANS = [("BENCHLEDZJ", "基准市住房和城乡建设局", "基准住建"), ("BENCHLEDRS", "基准市人力资源和社会保障局", "基准人社"),
          ("BENCHLEDCG", "基准市城市管理局", "基准城管")]


def _world():
    from xinfang.cases.models import Topic
    from xinfang.demo.texts import MATTERS
    from xinfang.orgs.models import Level, Organ, OrganKind, Region

    region, _ = Region.objects.get_or_create(code="990900", defaults=dict(name="基准市", level=Level.CITY))
    district, _ = Region.objects.get_or_create(code="990901", defaults=dict(name="基准区", level=Level.COUNTY, parent=region))
    bureau, _ = Organ.objects.get_or_create(code=BUREAU, defaults=dict(
        name="基准市信访局", short_name="基准信", level=Level.CITY, kind=OrganKind.BUREAU, region=region))
    organs = [Organ.objects.get_or_create(code=code, defaults=dict(
        name=name, short_name=short, level=Level.CITY, kind=OrganKind.FUNCTIONAL, region=region))[0]
        for code, name, short in ORGANS]
    for parent_name, name in {m.topic for m in MATTERS}:
        parent, _ = Topic.objects.get_or_create(name=parent_name, parent=None)
        Topic.objects.get_or_create(name=name, parent=parent)
    return bureau, organs, district


REPEAT_SHARE = 0.15  # rows that repeat a recent row (the public texts)
RECENT = 3000  # rows a repeat may go back to: repeats come within months, and memory stays bounded


class PublicTexts:
    """Row texts from the public messages: each message once (shuffled), then composites of their
    phrases (25–40 fragments of 4–11 characters: real vocabulary, a matter of nobody's), and
    REPEAT_SHARE of the rows a variant of one of the last RECENT rows. `repeats` maps a row's index
    to the index of the row it repeats, so the benchmark can check that the screening found them."""

    def __init__(self, rng: random.Random):
        from xinfang.dedup import bench as dedup_bench

        self.rng = rng
        self.corpus = dedup_bench.load_corpus()
        rng.shuffle(self.corpus)
        self.text = "".join(c for _t, c in self.corpus)
        self.chars = [ch for _t, c in self.corpus[:300] for ch in c if "\u4e00" <= ch <= "\u9fff"]
        self.recent: list[tuple] = []  # (index, title, content, petitioner columns)
        self.repeats: dict[int, int] = {}
        self.kinds: dict[int, str] = {}

    @staticmethod
    def available() -> bool:
        from xinfang.dedup import bench as dedup_bench

        return dedup_bench._data_dir() is not None

    def _composite(self) -> tuple[str, str]:
        rng, text = self.rng, self.text
        parts = []
        for _ in range(rng.randint(25, 40)):
            start = rng.randrange(len(text) - 12)
            parts.append(text[start:start + rng.randint(4, 11)])
        body = ",".join(parts) + "。"
        return body[:20], body

    def row(self, i: int, person: tuple) -> tuple[str, str, tuple, str]:
        """(title, content, petitioner columns, channel or "") of row `i`; `person` is a fresh
        petitioner, used unless the row repeats someone."""
        from xinfang.dedup import bench as dedup_bench

        rng = self.rng
        if self.recent and rng.random() < REPEAT_SHARE:
            j, t, c, who = rng.choice(self.recent)
            kind = rng.choice(dedup_bench.VARIANTS)
            t, c = dedup_bench.variant(rng, kind, t, c, self.chars)
            # A call always carries the caller's number; a third of the other repeats come from
            # someone else (a 联名/群体 letter): the text alone must carry them.
            if kind == "summary" or rng.random() < 0.67:
                person = who
            self.repeats[i], self.kinds[i] = j, kind
            channel = "来电" if kind == "summary" else ""
        else:
            t, c = self.corpus[i] if i < len(self.corpus) else self._composite()
            channel = ""
        self.recent.append((i, t, c, person))
        if len(self.recent) > RECENT:
            self.recent.pop(rng.randrange(len(self.recent) - 1))
        return t, c, person, channel


def write_ledger(path: str, n: int, organs, district, *, seed: int = 7, prefix: str = "",
                 public: PublicTexts | None = None) -> None:
    """A ledger of `n` rows in the DESIGN.md format (Chinese headers, UTF-8 with BOM): the demo's
    templated letters, or with `public` the public messages and their repeats."""
    from xinfang.demo import texts

    rng = random.Random(seed)
    today = timezone.localdate()
    place = {"address": "基准区幸福路1号", "district": "基准区", "street": "幸福街道", "community": "幸福社区"}
    channels = ["网上", "来信", "来电", "走访", "传真"]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.zh for c in C.COLUMNS])
        for i in range(n):
            matter = rng.choice(texts.MATTERS)
            male = rng.random() < 0.5
            name = texts.person_name(rng, male)
            person = (name, texts.id_number(rng, "990901", male, today) if rng.random() < 0.8 else "", texts.mobile(rng))
            channel = rng.choice(channels)
            if public is None:
                title, content = texts.compose(rng, matter, texts.slots(rng, place, name, 1), False)
            else:
                title, content, person, phoned = public.row(i, person)
                channel = phoned or channel
            fate = rng.random()
            organ = rng.choice(organs).name
            # Open cases are old enough that their running limits end in a year the holiday
            # calendar covers (so every row's due date is a date, as in a live system).
            if fate < 0.5:
                status, back = "已办结", rng.randint(60, 500)
            elif fate < 0.65:
                status, back = "已答复", rng.randint(20, 40)
            elif fate < 0.85:
                status, back = "办理中", rng.randint(90, 150)
            elif fate < 0.93:
                status, back = "待受理", rng.randint(30, 60)
            else:
                status, back, organ = "待转送", rng.randint(30, 60), ""
            received = today - dt.timedelta(days=back)
            # Replied by yesterday at the latest (a reply dated later today would be in the future).
            replied = received + dt.timedelta(days=rng.randint(3, min(back - 1, 55))) if status in ("已办结", "已答复") else None
            date_text = rng.choice([received.isoformat(), f"{received.year}/{received.month}/{received.day}",
                                    f"{received.year}年{received.month}月{received.day}日", received.strftime("%Y%m%d")])
            w.writerow([
                f"{prefix}{i + 1:07d}", date_text, channel, person[0], person[1], person[2],
                1, district.name, title, content, {"claim": "申诉求决类", "suggestion": "建议意见类", "report": "检举控告类"}[matter.category],
                f"{matter.topic[0]}›{matter.topic[1]}", organ, status, replied.isoformat() if replied else "",
                f"关于您反映的{matter.issue}问题,经调查已处理。" if replied else "",
                rng.choice(["满意", "基本满意", "不满意", ""]) if status == "已办结" else "",
            ])


def _rss_mb() -> float:
    """Peak resident set of the process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux
        return _rss_mb()


def _import(report, bureau, path: str, name: str):
    """Import `path` into `bureau`; (job, result, seconds, RSS samples at 25/50/100%)."""
    from .importer import run_import
    from .models import ImportJob

    job = ImportJob.objects.create(bureau=bureau, source_path=path, name=name)
    samples = {}

    def sample(p):
        share = p.done / p.total if p.total else 1
        for mark in (0.25, 0.5, 1.0):
            if share >= mark and mark not in samples:
                samples[mark] = _current_mb()

    t0, c0 = time.perf_counter(), time.process_time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_import(job, progress=sample)
    seconds = time.perf_counter() - t0
    samples["cpu"] = time.process_time() - c0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the screening process, once it has ended
    samples["screening cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    job.refresh_from_db()
    if job.status != "done" or result.errors:
        errors = list(job.row_errors.values_list("row", "column", "reason")[:5])
        report.note(f"status {job.status}: {job.message} errors={result.errors} e.g. {errors}")
    return job, result, seconds, samples


def _repeats_found(job, prefix: str, public: PublicTexts) -> tuple[int, int]:
    """(planted repeats linked to the row they repeat, planted repeats) in an imported ledger."""
    from xinfang.dedup.models import Link

    from .models import LedgerRow

    case_of = dict(LedgerRow.objects.filter(job=job).values_list("source_no", "case_id"))

    def case(i):
        return case_of.get(f"{prefix}{i + 1:07d}")

    pairs = {(case(i), case(j)) for i, j in public.repeats.items()}
    linked = set()
    ids = sorted({c for pair in pairs for c in pair if c})
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for a, b in Link.objects.filter(case_id__in=chunk).values_list("case_id", "earlier_id"):
            linked.add((a, b))
            linked.add((b, a))
    return sum(1 for pair in pairs if pair in linked), len(pairs)


def run(report, *, quick: bool) -> None:
    from xinfang.cases.models import Case
    from xinfang.cases.signals import cases_created

    from . import exporter

    n = 5_000 if quick else 100_000
    report.section(f"{TITLE}: {n:,} rows")
    bureau, organs, district = _world()
    # An earlier run's rows would make every public message of this run a repeat.
    earlier = Case.objects.filter(bureau=bureau).count()
    if earlier:
        from xinfang.dedup.bench import clear_organ

        t0 = time.perf_counter()
        clear_organ(bureau)
        if connection.vendor == "postgresql":
            # The removed rows stay in the tables and indexes until VACUUM; a live server's
            # autovacuum would clear them, this run must not measure an import into them.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        report.note(f"removed the {earlier:,} cases of an earlier run in {time.perf_counter() - t0:.0f} s")
    receivers = [getattr(r[1], "__name__", None) or repr(r[1]) for r in cases_created.receivers]
    report.note(f"cases_created receivers connected: {len(receivers)} (duplicate detection / suggestions when installed)")
    report.note(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    public = PublicTexts(random.Random(11)) if PublicTexts.available() else None
    if public is None:
        report.note("../shared/data not found: the ledger is the demo's templated letters only")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.csv")
        prefix = f"B{int(time.time())}-"
        t0 = time.perf_counter()
        write_ledger(path, n, organs, district, prefix=prefix, public=public)
        report.note(f"ledger written: {os.path.getsize(path) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s"
                    + (f" ({len(public.corpus):,} public messages, {len(public.repeats):,} planted repeats)" if public else ""))
        job, result, seconds, samples = _import(report, bureau, path, "bench.csv")
        kind = "public messages, 15% repeats" if public else "templated letters"
        report.figure(f"import rows/s ({kind}, receivers on)", n / seconds, "rows/s", ">= 1000")
        # On SQLite the database works inside the processes: their CPU time per row is the import's
        # own cost, whatever else the machine is doing (on PostgreSQL the server's share is not in it).
        report.figure("  same, CPU time of this process per row", samples["cpu"] * 1000 / n, "ms")
        if samples["screening cpu"]:
            report.figure("  same, CPU time of the screening process per row", samples["screening cpu"] * 1000 / n, "ms")
        report.figure("import cases created", result.created, "cases")
        if public:
            found, planted = _repeats_found(job, prefix, public)
            report.figure(f"planted repeats linked to the row they repeat ({found:,} of {planted:,})",
                          found / planted if planted else 1.0)
        report.figure("import peak RSS (whole process)", _rss_mb(), "MB")
        report.figure("RSS at 25% / 50% / 100% of the file", " / ".join(f"{samples.get(m, 0):.0f}" for m in (0.25, 0.5, 1.0)),
                      "MB", "flat: rows are streamed")
        side_n = max(1000, n // 5)
        if public:
            # The worst case for duplicate screening: every row reads like a dozen others, so each
            # row verifies the full set of candidates and writes the most links.
            templ_path = os.path.join(tmp, "templated.csv")
            write_ledger(templ_path, side_n, organs, district, seed=9, prefix=prefix + "tpl-")
            _job, _result, seconds, _samples = _import(report, bureau, templ_path, "bench-templated.csv")
            report.figure(f"import rows/s, templated letters ({side_n:,} rows)", side_n / seconds, "rows/s")
        # The importer's own cost, without the receivers (duplicate detection, suggestions): what
        # the import adds on top of them. Measured on a fifth of the rows.
        core_path = os.path.join(tmp, "core.csv")
        write_ledger(core_path, side_n, organs, district, seed=8, prefix=prefix + "core-",
                     public=PublicTexts(random.Random(12)) if public else None)
        saved = cases_created.receivers
        cases_created.receivers = []
        cases_created.sender_receivers_cache.clear()
        try:
            _job, _result, seconds, _samples = _import(report, bureau, core_path, "bench-core.csv")
            report.figure(f"import rows/s, receivers disconnected ({side_n:,} rows)", side_n / seconds, "rows/s")
        finally:
            cases_created.receivers = saved
            cases_created.sender_receivers_cache.clear()
        out = os.path.join(tmp, "export.csv")
        qs = Case.objects.filter(bureau=bureau, ledger_row__job=job)
        t0 = time.perf_counter()
        exported = exporter.write_csv(out, None, qs)
        seconds = time.perf_counter() - t0
        report.figure("export rows/s (CSV)", exported / seconds if seconds else 0.0, "rows/s")
        report.figure("export peak RSS", _rss_mb(), "MB")
    # The imported public messages would otherwise be found by the duplicate benchmark that runs
    # next, as the originals of its own variants of the same messages.
    from xinfang.dedup.bench import clear_organ

    t0 = time.perf_counter()
    clear_organ(bureau)
    report.note(f"bench cases removed in {time.perf_counter() - t0:.0f} s")
