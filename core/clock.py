"""今天: the date the product decides by, read in one place.

`today()` is the local date (Asia/Shanghai), unless code runs inside `frozen_at(day)`. Services whose
outcome depends on the date (publishing a list counts its working days from today; the banner about
next year's official calendar appears from 1 November) ask here instead of `timezone.localdate()`, so
a test can set the date for a whole request through the test client without patching Django or the
database. Nothing in the product enters `frozen_at`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_today: ContextVar[dt.date | None] = ContextVar("clock_today", default=None)


def today() -> dt.date:
    return _today.get() or timezone.localdate()


@contextmanager
def frozen_at(day: dt.date) -> Iterator[None]:
    """Let `today()` answer `day` for the code inside (tests)."""
    token = _today.set(day)
    try:
        yield
    finally:
        _today.reset(token)
