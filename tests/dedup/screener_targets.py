"""Stand-ins for the screening process's entry (xinfang.dedup.screener._TARGET), importable by a
spawned interpreter without Django set up."""
import time


def fail(*args) -> None:
    """A screening process that dies at once (e.g. cannot reach the database)."""
    raise SystemExit(3)


def hang(*args) -> None:
    """A screening process that never moves (e.g. stuck on a lock)."""
    time.sleep(600)
