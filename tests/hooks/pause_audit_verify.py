"""Imported by a test's Celery worker (`celery worker --include`), never by the product: the auditor's
verify job checks the chain, then waits a minute before it finishes, so the test can kill the worker
while the job runs."""

from __future__ import annotations

import time

from audits import tasks

PAUSE_SECONDS = 60
_verify_tenant_chain = tasks.verify_tenant_chain


def _verify_then_pause(*args, **kwargs):
    problems = _verify_tenant_chain(*args, **kwargs)
    time.sleep(PAUSE_SECONDS)
    return problems


tasks.verify_tenant_chain = _verify_then_pause
