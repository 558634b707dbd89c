"""Background job: retrain the suggestion model as staff confirm cases."""
from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="17"))
def retrain_if_stale() -> int | None:
    """Hourly: train a new version when XINFANG_SUGGEST_RETRAIN_AFTER new confirmed cases exist
    since the current one. Returns the new version number, or None when nothing was due."""
    from .training import is_stale, train

    stale, new = is_stale()
    if not stale:
        return None
    try:
        version = train(note=f"auto: {new} new confirmed cases")
    except ValueError as exc:
        log.info("suggestion model not retrained: %s", exc)
        return None
    return version.version
