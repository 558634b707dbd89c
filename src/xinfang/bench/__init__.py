"""`make bench` / `xinfang bench`: the figures the project promises, measured on this machine.

Each benchmark is a module with a `TITLE`, `USES_DATABASE` (whether its figures depend on the
database engine, so `make bench` runs it on SQLite and again on PostgreSQL) and
`run(report: Report, *, quick: bool) -> None`. Benchmarks write into the configured database (a
dedicated one: `make bench` points XINFANG_DATA_DIR / DATABASE_URL away from the working data) and
print what they measured next to the target it is held to. Benchmarks never run in the test suite:
speed is proven here, not by timed unit tests.
"""
from __future__ import annotations

import importlib
import statistics
import sys
import time
from dataclasses import dataclass, field

# The benchmark modules, in the order they run. A module that does not exist yet is skipped.
MODULES = ["xinfang.ledger.bench", "xinfang.dedup.bench", "xinfang.suggest.bench", "xinfang.analytics.bench",
           "xinfang.intake.bench", "xinfang.portal.bench", "xinfang.api.bench"]


@dataclass
class Report:
    """Collects and prints figures: `report.figure("import rows/s", 1234.5, target=">= 1000")`."""

    engine: str
    out: object = sys.stdout
    figures: list[tuple[str, str, str, str]] = field(default_factory=list)

    def _print(self, text: str) -> None:
        # Django's OutputWrapper ends each write with a newline itself.
        if hasattr(self.out, "ending"):
            self.out.write(text)
            self.out.flush()
        else:
            print(text, file=self.out, flush=True)

    def section(self, title: str) -> None:
        self._print(f"\n== {title} [{self.engine}] ==")

    def note(self, text: str) -> None:
        self._print(f"   {text}")

    def figure(self, name: str, value, unit: str = "", target: str = "") -> None:
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)
        self.figures.append((name, shown, unit, target))
        line = f"   {name:<48} {shown:>12} {unit:<8}"
        if target:
            line += f"  (target {target})"
        self._print(line)


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """(p50, p95) of a list of milliseconds."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


class Timer:
    """`with Timer() as t: ...; t.seconds`"""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        return False


def load(names: list[str] | None = None):
    """The benchmark modules to run (all that exist, or those whose short name is in `names`)."""
    found = []
    for path in MODULES:
        short = path.split(".")[1]
        if names and short not in names:
            continue
        try:
            found.append((short, importlib.import_module(path)))
        except ModuleNotFoundError as exc:
            if not path.startswith(exc.name or "\0"):
                raise
    return found
