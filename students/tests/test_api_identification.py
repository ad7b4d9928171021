"""The identification through /api/v1/: the same rules as the pages."""

from __future__ import annotations

import datetime as dt
import uuid

from rest_framework.test import APIClient

from core import clock
from schools.permissions import Role
from students.models import ApplicationStatus, PublicityStatus
from tests.factories import make_application

S = ApplicationStatus


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a session: the tenant middleware sees the user, as for real requests
    return client


def test_nominate_and_walk_two_steps_through_the_api(world):
    teacher, leader = world.a.users[Role.CLASS_TEACHER], world.a.users[Role.GRADE_LEADER]
    pupil = world.a.students["c1"][0]
    response = _client(teacher).post(
        "/api/v1/applications/",
        {
            "student": str(pupil.pk),
            "proposed_tier": "DIFFICULT",
            "family_situation": "单亲家庭",
            "categories": ["ORPHAN"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    app_id = response.json()["id"]
    assert response.json()["suggested_tier"] == "SPECIAL"
    refused = _client(leader).post(f"/api/v1/applications/{app_id}/decide/", {"decision": "approve"}, format="json")
    assert refused.status_code == 400  # not the grade's step yet
    assert refused.json()["detail"]
    # The teacher records the class evaluation (through the page's service) and approves.
    from core.tenancy.context import tenant_transaction
    from students.identification import workflow
    from students.models import HardshipApplication

    with tenant_transaction(world.a.tenant.pk):
        app = HardshipApplication.objects.get(pk=app_id)
        workflow.application_record_details(actor=teacher, application=app, class_evaluation="通过")
    moved = _client(teacher).post(
        f"/api/v1/applications/{app_id}/decide/",
        {"decision": "approve", "expected_status": S.CLASS_EVALUATION},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == S.GRADE_REVIEW
    queue = _client(leader).get("/api/v1/applications/?status=mine").json()["results"]
    assert [row["id"] for row in queue] == [app_id]
    detail = _client(leader).get(f"/api/v1/applications/{app_id}/").json()
    assert [d["decision"] for d in detail["decisions"]] == ["NOMINATE", "APPROVE"]


def test_bulk_decide_reports_what_moved_and_what_did_not(world, tenant_of):
    leader = world.a.users[Role.GRADE_LEADER]
    with tenant_of(world.a.tenant):
        ready = make_application(world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=S.GRADE_REVIEW)
    response = _client(leader).post(
        "/api/v1/applications/bulk-decide/",
        {"ids": [str(ready.pk), str(world.a.applications["c3"].pk)], "decision": "approve"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["moved"] == [str(ready.pk)]
    assert [row["id"] for row in response.json()["skipped"]] == [str(world.a.applications["c3"].pk)]


def test_publicity_through_the_api(world, tenant_of):
    officer, principal = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.PRINCIPAL]
    with tenant_of(world.a.tenant):
        make_application(world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=S.SCHOOL_APPROVED)
        from students.identification import publicity

        item = publicity.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
    assert _client(officer).post(f"/api/v1/publicity/{item.pk}/sign/").status_code == 403  # the principal signs
    assert _client(principal).post(f"/api/v1/publicity/{item.pk}/sign/").json()["status"] == PublicityStatus.SIGNED
    with clock.frozen_at(dt.date(2026, 11, 23)):  # published "today": a day whose working days are known
        published = _client(officer).post(f"/api/v1/publicity/{item.pk}/publish/").json()
    assert (published["status"], published["ends_on"]) == (PublicityStatus.PUBLIC, "2026-11-27")
    objection = _client(officer).post(
        f"/api/v1/publicity/{item.pk}/objections/",
        {"raised_by": "匿名", "content": "有异议", "received_on": "2026-11-24"},
        format="json",
    )
    assert objection.status_code == 201, objection.content
    answer = _client(officer).post(
        f"/api/v1/objections/{objection.json()['id']}/resolve/", {"upheld": False, "decision": "不成立"}, format="json"
    )
    assert answer.json()["status"] == "DISMISSED"


def _public_list(world, tenant_of):
    """A published list of s1 with one school-approved application of c1's first pupil."""
    from students.identification import publicity

    officer, principal = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.PRINCIPAL]
    with tenant_of(world.a.tenant):
        application = make_application(
            world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=S.SCHOOL_APPROVED
        )
        item = publicity.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        item = publicity.publicity_sign(actor=principal, publicity=item)
        item = publicity.publicity_publish(actor=officer, publicity=item)
    return item, application


def test_an_objection_names_an_application_on_the_list(world, tenant_of):
    item, application = _public_list(world, tenant_of)
    today = dt.date.today().isoformat()  # noqa: DTZ011
    response = _client(world.a.users[Role.SCHOOL_OFFICER]).post(
        f"/api/v1/publicity/{item.pk}/objections/",
        {"application": str(application.pk), "raised_by": "匿名", "content": "有异议", "received_on": today},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["application"] == str(application.pk)
    assert response.json()["status"] == "OPEN"


def test_an_objection_about_an_application_the_caller_cannot_see_is_refused_like_a_missing_one(world, tenant_of):
    item, _application = _public_list(world, tenant_of)
    client = _client(world.a.users[Role.SCHOOL_OFFICER])
    body = {"raised_by": "匿名", "content": "有异议", "received_on": "2026-09-15"}
    answers = [
        client.post(f"/api/v1/publicity/{item.pk}/objections/", {**body, "application": str(pk)}, format="json")
        for pk in (world.b.applications["c1"].pk, world.a.applications["c4"].pk, uuid.uuid4())
    ]  # another tenant's, another school's (c4 is s2's), none at all
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert list(answers[0].json()) == ["application"]


def test_malformed_objection_input_is_answered_with_field_errors(world, tenant_of):
    item, _application = _public_list(world, tenant_of)
    response = _client(world.a.users[Role.SCHOOL_OFFICER]).post(
        f"/api/v1/publicity/{item.pk}/objections/",
        {"received_on": "yesterday", "application": 7, "channel": "x" * 51},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"received_on", "raised_by", "content", "application", "channel"}


def test_an_unknown_personal_field_is_a_field_error(world):
    pupil = world.a.students["c1"][0]
    response = _client(world.a.users[Role.DISTRICT_STAFF]).post(f"/api/v1/students/{pupil.pk}/reveal/?field=name")
    assert response.status_code == 400
    assert list(response.json()) == ["field"]
