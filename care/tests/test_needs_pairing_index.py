"""The partial index behind "who needs a paired teacher" (care migration 0005): its predicate is the
query's, so PostgreSQL can use it, and it names exactly the categories the code tests."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction

from care.pairing import selectors
from schools.permissions import Role

pytestmark = pytest.mark.postgres

INDEX = "care_app_needs_pairing_idx"


def _definition() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        row = cursor.fetchone()
    assert row, f"{INDEX} is missing"
    return row[0]


def test_the_needs_pairing_index_matches_the_query(world, tenant_of):
    """Its categories are `REGISTERED_POOR_CATEGORIES`, no more and no fewer (a category added to the
    code without a new migration fails here), and the worklist's count can read it: with sequential
    scans forbidden, the plan names the index (a predicate the query does not imply could never)."""
    definition = _definition()
    assert set(re.findall(r'\["([A-Z_]+)"\]', definition)) == set(selectors.REGISTERED_POOR_CATEGORIES)
    assert "'SPECIAL'" in definition
    assert "'IDENTIFIED'" in definition
    with tenant_of(world.a.tenant), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = selectors.uncovered(user=world.a.users[Role.DISTRICT_STAFF]).explain()
    assert INDEX in plan
