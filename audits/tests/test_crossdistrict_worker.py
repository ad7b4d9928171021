"""The platform's matching across districts through a real Celery worker on Redis, started by the
platform operator (the nightly beat sends the same task)."""

from __future__ import annotations

import time

import pytest

from audits.crossdistrict.services import crossdistrict_match_start
from audits.models import CrossDistrictMatch, MatchCase
from core.tenancy.context import tenant_transaction
from schools import services as school_services
from tests.workers import running_worker

from .test_crossdistrict import SEMESTER, fund, twin

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_the_matching_the_operator_started():
    from tests.factories import build_world

    world = build_world()
    a, b = world.a, world.b
    with tenant_transaction(b.tenant.pk):
        fund(b, twin(b, a.students["c1"][0], name="乙双一"))
    operator = school_services.user_create(tenant=None, username="operator-x", password="Pass-word-123", validate=False)
    with running_worker():
        crossdistrict_match_start(actor=operator, semesters=[SEMESTER])
        deadline = time.monotonic() + 120
        while True:
            with tenant_transaction(b.tenant.pk):
                cases = set(CrossDistrictMatch.objects.values_list("case", "other_district"))
            if cases or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert cases == {(MatchCase.FUNDED_TWICE, a.tenant.name)}
    with tenant_transaction(a.tenant.pk):
        assert set(CrossDistrictMatch.objects.values_list("case", "other_district")) == {
            (MatchCase.FUNDED_TWICE, b.tenant.name)
        }
