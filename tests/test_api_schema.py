"""The API against its own OpenAPI schema (schemathesis): for every role, a few generated requests per
operation, each answered without a server error and only with a status code the schema documents; and
for the district's funding center, a few malformed ones per operation, answered the same way.

Bounded so the module stays under a minute on PostgreSQL: the schema is loaded once a test, every role
sends a few examples per operation (a deadline each, no shrinking, no example database, derandomized
so a run is repeatable). Requests go through Django's WSGI application in this process, inside the
test's transaction, so whatever a generated POST changes is rolled back with the test. It runs in the
normal suite, on PostgreSQL and SQLite (`-m "not api_schema"` leaves it out of a quick local run)."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from schools import services
from schools.permissions import Role

pytestmark = [pytest.mark.django_db, pytest.mark.api_schema]

#: Generated requests per operation and role: 7 roles × 46 operations × 3 ≈ 970 requests.
EXAMPLES = 3
BOUNDS = settings(
    max_examples=EXAMPLES,
    deadline=dt.timedelta(seconds=5),
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def app():
    """Django's WSGI application, keeping the test's connection (and so its transaction) across requests,
    as Django's test client does: the request signals would close it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _token(user) -> str:
    _row, key = services.api_token_create(user=user, name="schemathesis")
    return key


def test_every_operation_answers_as_documented_for_every_role(world, app):
    # The schema as the API serves it (to anyone signed in: it is the same document for every role).
    staff = _auth(world.a.users[Role.DISTRICT_STAFF])
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=staff)
    failures, answered = [], {}
    for role in Role:
        failures += _fuzz(schema, app, world.a.users[role], role, _rows_of(world.a), answered, GenerationMode.POSITIVE)
    assert not failures, "\n\n".join(failures)
    # Not vacuous: every role was signed in (some 200s) and reached the whole schema.
    assert all(200 in answered[role] for role in Role), answered
    assert len({label for role in Role for label in answered[role][200]}) > 20


def test_malformed_input_is_refused_as_documented(world, app):
    """Input that breaks the schema (wrong types, missing fields, bad ids), as the district's funding
    center, who reaches most operations: a documented 4xx, never a server error."""
    staff = world.a.users[Role.DISTRICT_STAFF]
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=_auth(staff))
    answered = {}
    failures = _fuzz(schema, app, staff, Role.DISTRICT_STAFF, _rows_of(world.a), answered, GenerationMode.NEGATIVE)
    assert not failures, "\n\n".join(failures)
    assert sum(len(labels) for labels in answered[Role.DISTRICT_STAFF].values()) > 30


def _auth(user) -> dict[str, str]:
    return {"Authorization": f"Token {_token(user)}"}


def _rows_of(w) -> dict[str, str]:
    """A row of the tenant per resource (the path's first segment), so that operations on one row reach
    it: a random id only ever meets the 404."""
    rows = {
        "schools": w.schools["s1"], "grades": w.grades["g1"], "classes": w.classes["c1"],
        "students": w.students["c1"][0], "applications": w.applications["c1"], "publicity": w.publicity,
        "objections": w.objection, "programs": w.award.program, "semesters": w.semester, "awards": w.award,
        "award-lists": w.award_list, "batches": w.batch, "corrections": w.correction,
    }  # fmt: skip
    return {name: str(row.pk) for name, row in rows.items()}


def _fuzz(schema, app, user, role, rows, answered, mode) -> list[str]:
    """Every operation of the schema, a few generated requests each, as the user (half of those on one row
    name a row of the user's tenant); the operations each status answered go into `answered[role][status]`."""
    headers = _auth(user)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = operation.as_strategy(generation_mode=mode)
        resource = operation.path.removeprefix("/api/v1/").split("/")[0]
        if "{id}" in operation.path and resource in rows:
            on_a_row = operation.as_strategy(generation_mode=mode, path_parameters={"id": rows[resource]})
            cases = st.one_of(on_a_row, cases)

        @BOUNDS
        @given(case=cases)
        def run(case):
            response = case.call(app=app, headers=headers)
            answered.setdefault(role, {}).setdefault(response.status_code, set()).add(case.operation.label)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance], headers=headers)

        try:
            run()
        except Unsatisfiable:
            continue  # nothing to break: an operation without input has no malformed input
        except (Exception, BaseExceptionGroup) as exc:  # every operation is reported, not only the first
            failures.append(f"{role} {operation.label}: {str(exc)[:2000]}")
    return failures
