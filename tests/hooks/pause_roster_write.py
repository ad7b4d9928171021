"""Imported by a test's Celery worker (`celery worker --include`), never by the product: the roster
import writes a chunk, then holds the chunk's transaction open for a minute before it commits, so the
test can kill the worker mid-write."""

from __future__ import annotations

import time

from students.roster import services

PAUSE_SECONDS = 60
_apply_chunk = services.apply_chunk


def _apply_chunk_then_pause(*args, **kwargs):
    result = _apply_chunk(*args, **kwargs)
    time.sleep(PAUSE_SECONDS)
    return result


services.apply_chunk = _apply_chunk_then_pause
