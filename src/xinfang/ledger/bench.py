"""Ledger import and export speed: a generated 100k-row ledger (5k with --quick).

The ledger is written to a temporary CSV from the demo's fictional texts (xinfang.demo.texts) with
a realistic mix of states (about half closed with replies and satisfaction, the rest replied,
being handled, waiting or just registered). It is imported into a bench bureau with whatever
`cases_created` receivers are installed (duplicate detection and suggestions screen every batch),
then exported back to CSV. Peak memory is the process's maximum resident set: it stays flat as
the row count grows because rows are streamed and committed in batches.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import random
import resource
import tempfile
import time

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


def write_ledger(path: str, n: int, organs, district, *, seed: int = 7, prefix: str = "") -> None:
    """A ledger of `n` rows in the DESIGN.md format (Chinese headers, UTF-8 with BOM)."""
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
            title, content = texts.compose(rng, matter, texts.slots(rng, place, name, 1), False)
            fate = rng.random()
            organ = rng.choice(organs).name
            # Open cases are old enough that their running limits end in a year the holiday
            # calendar covers (a limit in an uncovered year is a row error, never a guess).
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
                f"{prefix}{i + 1:07d}", date_text, rng.choice(channels), name,
                texts.id_number(rng, "990901", male, today) if rng.random() < 0.8 else "", texts.mobile(rng),
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


def run(report, *, quick: bool) -> None:
    from xinfang.cases.models import Case
    from xinfang.cases.signals import cases_created

    from . import exporter
    from .importer import run_import
    from .models import ImportJob

    n = 5_000 if quick else 100_000
    report.section(f"{TITLE}: {n:,} rows")
    bureau, organs, district = _world()
    receivers = [getattr(r[1], "__name__", None) or repr(r[1]) for r in cases_created.receivers]
    report.note(f"cases_created receivers connected: {len(receivers)} (duplicate detection / suggestions when installed)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.csv")
        prefix = f"B{int(time.time())}-"
        t0 = time.perf_counter()
        write_ledger(path, n, organs, district, prefix=prefix)
        report.note(f"ledger written: {os.path.getsize(path) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
        job = ImportJob.objects.create(bureau=bureau, source_path=path, name="bench.csv")
        samples = {}

        def sample(p):
            share = p.done / p.total if p.total else 1
            for mark in (0.25, 0.5, 1.0):
                if share >= mark and mark not in samples:
                    samples[mark] = _current_mb()

        t0 = time.perf_counter()
        result = run_import(job, progress=sample)
        seconds = time.perf_counter() - t0
        job.refresh_from_db()
        if job.status != "done" or result.errors:
            sample = list(job.row_errors.values_list("row", "column", "reason")[:5])
            report.note(f"status {job.status}: {job.message} errors={result.errors} e.g. {sample}")
        report.figure("import rows/s (incl. file check, receivers on)", n / seconds, "rows/s", ">= 1000")
        report.figure("import cases created", result.created, "cases")
        report.figure("import peak RSS (whole process)", _rss_mb(), "MB")
        report.figure("RSS at 25% / 50% / 100% of the file", " / ".join(f"{samples.get(m, 0):.0f}" for m in (0.25, 0.5, 1.0)),
                      "MB", "flat: rows are streamed")
        # The importer's own cost, without the receivers (duplicate detection, suggestions): what
        # the import adds on top of them. Measured on a fifth of the rows.
        core_n = max(1000, n // 5)
        core_path = os.path.join(tmp, "core.csv")
        write_ledger(core_path, core_n, organs, district, seed=8, prefix=prefix + "core-")
        saved = cases_created.receivers
        cases_created.receivers = []
        cases_created.sender_receivers_cache.clear()
        try:
            core_job = ImportJob.objects.create(bureau=bureau, source_path=core_path, name="bench-core.csv")
            t0 = time.perf_counter()
            run_import(core_job)
            report.figure(f"import rows/s, receivers disconnected ({core_n:,} rows)", core_n / (time.perf_counter() - t0),
                          "rows/s")
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
