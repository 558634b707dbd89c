"""Settings of supervision, where local practice differs (REGULATION: settings, never hard-coded).

Each value is read from Django settings when a deployment sets it there, else from the
environment variable of the same name prefixed with XINFANG_, else the default. A malformed
value is refused loudly (ImproperlyConfigured), like settings.py does.

| setting | default | meaning |
|---|---|---|
| SUPERVISION_ANSWER_DAYS | 15 | days an organ has to answer a supervision letter in writing |
| SUPERVISION_ANSWER_WARN_DAYS | 3 | a letter not yet answered is 临期 this many days before its answer date (the date itself included); 0: no 临期 reminders |
| SUPERVISION_RANKING_LIST_SIZE | 3 | organs on the red list and on the black list each month |
| SUPERVISION_RANKING_MIN_CASES | 10 | cases an organ must have received in the month to be ranked (fewer: 样本不足, shown unranked); 0: no minimum |
| SUPERVISION_SPOT_PASS_SCORE | 80 | a sampled case passes the spot check with this score or more (of 100) |
"""
from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    "SUPERVISION_ANSWER_DAYS": (15, 1, 365),
    "SUPERVISION_ANSWER_WARN_DAYS": (3, 0, 60),
    "SUPERVISION_RANKING_LIST_SIZE": (3, 1, 50),
    "SUPERVISION_RANKING_MIN_CASES": (10, 0, 100000),
    "SUPERVISION_SPOT_PASS_SCORE": (80, 1, 100),
}


def get(name: str) -> int:
    default, low, high = DEFAULTS[name]
    value = getattr(settings, name, None)
    if value is None:
        raw = os.environ.get(f"XINFANG_{name}", "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"XINFANG_{name} must be a whole number, not {raw!r}") from None
    if not isinstance(value, int) or not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def answer_days() -> int:
    return get("SUPERVISION_ANSWER_DAYS")


def answer_warn_days() -> int:
    return get("SUPERVISION_ANSWER_WARN_DAYS")


def ranking_list_size() -> int:
    return get("SUPERVISION_RANKING_LIST_SIZE")


def ranking_min_cases() -> int:
    return get("SUPERVISION_RANKING_MIN_CASES")


def spot_pass_score() -> int:
    return get("SUPERVISION_SPOT_PASS_SCORE")
