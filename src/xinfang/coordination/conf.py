"""Settings of coordination (local practice; read from Django settings, else the environment
variable of the same name prefixed with XINFANG_, else the default; malformed values are refused).

| setting | default | meaning |
|---|---|---|
| COORDINATION_BACKLOG_DAYS | 90 | a case not yet filed this many days after registration is 积案 |
| COORDINATION_WATCH_HEAD_COUNT | 5 | a case with this many petitioners or more goes on the 防变 watch list |
"""
from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    "COORDINATION_BACKLOG_DAYS": (90, 1, 3650),
    "COORDINATION_WATCH_HEAD_COUNT": (5, 2, 10000),
}


def get(name: str) -> int:
    default, low, high = DEFAULTS[name]
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get("XINFANG_" + name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise ImproperlyConfigured(f"{name} must be a whole number from {low} to {high}")
    return number
