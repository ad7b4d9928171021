"""The money through /api/v1/: each write operation's input is validated by its serializer (field
errors for malformed input, never a 500), a semester is named by its id or its code and only the
caller's own, a service's refusal keeps the one error format."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from disbursements.models import Batch
from disbursements.tasks import batch_build_task
from schools.permissions import Role


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a session: the tenant middleware sees the user, as for real requests
    return client


def _build(client: APIClient, semester: str, capture) -> dict:
    """POST a build: 202 with the job; then run the job's task here, as a worker would after the commit,
    and read the job as a client polling /jobs/{id}/ would."""
    with capture(execute=False) as callbacks:
        response = client.post("/api/v1/batches/", {"semester": semester, "kind": "FIRST"}, format="json")
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert job["status"] == "QUEUED"
    assert len(callbacks) == 1
    user = response.wsgi_request.user
    batch_build_task.apply(
        kwargs={"tenant_id": str(user.tenant_id), "actor_id": str(user.pk), "job_id": job["id"]}, throw=True
    )
    polled = client.get(response["Location"])
    assert polled.status_code == 200
    return polled.json()


def test_a_batch_is_built_as_a_job_for_the_semester_its_code_names(
    world, paid_semester, tenant_of, django_capture_on_commit_callbacks
):
    """Issue 19, item 6: the API built the batch inside the request; now it is a job, as on the page."""
    job = _build(_client(world.a.users[Role.DISTRICT_STAFF]), "2026-SPRING", django_capture_on_commit_callbacks)
    assert job["status"] == "SUCCEEDED", job
    assert (job["result"]["lines"], job["result"]["skipped"]) == (2, [])
    with tenant_of(world.a.tenant):
        batch = Batch.objects.get(pk=job["result"]["batch"])
    assert (batch.semester_id, batch.kind) == (paid_semester.pk, "FIRST")


def test_a_batch_is_built_for_the_semester_its_id_names(world, paid_semester, django_capture_on_commit_callbacks):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    job = _build(client, str(paid_semester.pk), django_capture_on_commit_callbacks)
    assert job["result"]["lines"] == 2
    # Another person's job is not theirs to read (a school officer sees only the jobs they started).
    officer = _client(world.a.users[Role.SCHOOL_OFFICER])
    assert officer.get(f"/api/v1/jobs/{job['id']}/").status_code == 404
    assert [j["id"] for j in client.get("/api/v1/jobs/", {"kind": "batch_build"}).json()["results"]] == [job["id"]]


def test_another_tenants_semester_is_refused_like_a_missing_one(world, tenant_of):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    theirs = client.post("/api/v1/batches/", {"semester": str(world.b.semester.pk), "kind": "FIRST"}, format="json")
    missing = client.post("/api/v1/batches/", {"semester": str(uuid.uuid4()), "kind": "FIRST"}, format="json")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert list(theirs.json()) == ["semester"]
    with tenant_of(world.b.tenant):
        assert Batch.objects.filter(semester=world.b.semester).count() == 1  # the factory's, nothing new


@pytest.mark.parametrize(
    ("url", "payload", "fields"),
    [
        ("/api/v1/batches/", {"kind": "SOMETIMES"}, {"semester", "kind"}),
        ("/api/v1/batches/", {"semester": ["2026-AUTUMN"], "kind": "FIRST"}, {"semester"}),
        ("/api/v1/batches/", {"semester": "2026-WINTER", "kind": "FIRST"}, {"semester"}),
        ("/api/v1/corrections/{correction}/decide/", {"approve": "perhaps"}, {"approve"}),
        ("/api/v1/corrections/{correction}/decide/", {"reason": "no"}, {"approve"}),
        ("/api/v1/awards/{award}/correct/", {"evidence": "a letter"}, {"reason"}),
        ("/api/v1/awards/{award}/correct/", {"reason": "   "}, {"reason"}),
    ],
)
def test_malformed_input_is_answered_with_field_errors(world, url, payload, fields):
    district = world.a.users[Role.DISTRICT_STAFF]
    url = url.format(correction=world.a.correction.pk, award=world.a.award.pk)
    response = _client(district).post(url, payload, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert all(isinstance(messages, list) and messages for messages in response.json().values())


def test_a_bank_return_without_a_file_is_a_field_error(world):
    response = _client(world.a.users[Role.DISTRICT_STAFF]).post(
        f"/api/v1/batches/{world.a.batch.pk}/return/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["file"]


def test_a_services_refusal_keeps_the_one_error_format(world):
    """The factory's correction is decided already: the service says so, as on the pages."""
    response = _client(world.a.users[Role.DISTRICT_STAFF]).post(
        f"/api/v1/corrections/{world.a.correction.pk}/decide/", {"approve": True}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    assert response.json()["detail"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_roster_comes_in_the_format_asked_for(world, fmt):
    response = _client(world.a.users[Role.DISTRICT_STAFF]).get(
        f"/api/v1/batches/{world.a.batch.pk}/roster/", {"format": fmt}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'filename="roster-1.{fmt}"')
    b"".join(response.streaming_content)


def test_an_unknown_roster_format_is_a_field_error(world):
    response = _client(world.a.users[Role.DISTRICT_STAFF]).get(
        f"/api/v1/batches/{world.a.batch.pk}/roster/", {"format": "pdf"}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["format"]
