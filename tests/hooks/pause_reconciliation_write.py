"""Imported by a test's Celery worker (`celery worker --include`), never by the product: the
reconciliation writes its run and findings, then holds the transaction open for a minute before it
commits, so the test can kill the worker mid-write and prove nothing half-written is left."""

from __future__ import annotations

import time

from audits.reconciliation import services

PAUSE_SECONDS = 60
_write_findings = services._write_findings


def _write_findings_then_pause(run, findings):
    _write_findings(run, findings)
    time.sleep(PAUSE_SECONDS)


services._write_findings = _write_findings_then_pause
