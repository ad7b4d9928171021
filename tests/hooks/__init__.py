"""Modules a test's Celery worker imports at start (`celery worker --include tests.hooks.…`), never the
product: each holds one step of a job open for a minute, so the test can kill the worker right there."""

from __future__ import annotations

import time
from typing import Any

PAUSE_SECONDS = 60


def pause_after(owner: Any, name: str, *, seconds: float = PAUSE_SECONDS) -> None:
    """Make `owner.name` do its work, then wait `seconds` before it returns."""
    original = getattr(owner, name)

    def then_pause(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        time.sleep(seconds)
        return result

    setattr(owner, name, then_pause)
