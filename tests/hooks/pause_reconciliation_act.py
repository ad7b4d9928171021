"""Acting on the corrections' list: the first two findings are acted on and committed; inside the third
finding's transaction (its correction written, not committed) the job waits a minute, so the test can
kill the worker there and prove the job sent again proposes nothing twice."""

import time

from audits.reconciliation import services
from tests.hooks import PAUSE_SECONDS

_original = services._mark
_marked = [0]


def _mark_then_pause(finding, ref):
    _original(finding, ref)
    _marked[0] += 1
    if _marked[0] == 3:
        time.sleep(PAUSE_SECONDS)


services._mark = _mark_then_pause
