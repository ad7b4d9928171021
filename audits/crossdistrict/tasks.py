"""The platform's matching across districts as a Celery task: nightly (beat) and on the operator's demand."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import shared_task

from core.audit import trail

logger = logging.getLogger(__name__)


@shared_task(name="audits.crossdistrict_match")
def crossdistrict_match_task(*, semesters: list[str] | None = None) -> dict[str, Any]:
    """One pass of the matching (audits.crossdistrict.services), outside every tenant's context: a
    platform task, not a TenantTask. Idempotent: a pass replaces the platform table's facts, and a
    district is told again only what changed, so a message delivered twice writes nothing new."""
    from .services import PLATFORM_ACTOR, crossdistrict_match

    with trail.acting_as(PLATFORM_ACTOR):
        result = crossdistrict_match(semesters=semesters)
    logger.info("cross-district matching: %s", result)
    return asdict(result)
