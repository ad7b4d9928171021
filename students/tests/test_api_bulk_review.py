"""The review steps through /api/v1/, one application or a whole class per request (all or nothing)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from schools.permissions import Role
from students.models import ApplicationStatus, AttachmentKind, HardshipApplication
from tests.factories import make_application, make_student

S = ApplicationStatus


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _class_of(world, tenant_of, n: int = 3, **extra):
    """Applications of n pupils of A's class c1, in class evaluation (the world's own one first)."""
    a = world.a
    teacher = a.users[Role.CLASS_TEACHER]
    apps = [a.applications["c1"]]
    with tenant_of(a.tenant):
        pupils = [a.students["c1"][0]] + [
            make_student(a.classes["c1"], name=f"{a.marker}extra{i}", region="410622") for i in range(n - 2)
        ]
        apps += [make_application(p, by=teacher, **extra) for p in pupils]
    return apps


def _get(tenant_of, tenant, pk) -> HardshipApplication:
    with tenant_of(tenant):
        return HardshipApplication.objects.get(pk=pk)


def test_a_whole_class_is_evaluated_and_approved_in_two_requests(world, tenant_of):
    a = world.a
    apps = _class_of(world, tenant_of, materials_complete=True)
    teacher = _client(a.users[Role.CLASS_TEACHER])
    rows = [
        {
            "application": str(app.pk),
            "class_evaluation": f"评议通过 {i}",
            "visit_on": "2026-09-20",
            "visit_by": "王老师",
        }
        for i, app in enumerate(apps)
    ]
    response = teacher.post("/api/v1/applications/bulk-details/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    assert [r["class_evaluation"] for r in response.json()["applications"]] == [
        "评议通过 0",
        "评议通过 1",
        "评议通过 2",
    ]
    first = _get(tenant_of, a.tenant, apps[0].pk)
    assert (first.visit_on, first.visit_by) == (dt.date(2026, 9, 20), "王老师")

    # The world's own application has no main proof yet: the class's approval is refused whole.
    decide = [
        {"application": str(app.pk), "decision": "approve", "expected_status": S.CLASS_EVALUATION} for app in apps
    ]
    refused = teacher.post("/api/v1/applications/bulk-decisions/", {"rows": decide}, format="json")
    assert refused.status_code == 400
    assert len(refused.json()["detail"]) == 1
    assert "1" in refused.json()["detail"][0]
    assert {_get(tenant_of, a.tenant, app.pk).status for app in apps} == {S.CLASS_EVALUATION}

    proof = teacher.post(
        "/api/v1/applications/bulk-attachments/",
        {
            "application": [str(apps[0].pk)],
            "kind": [AttachmentKind.MAIN_PROOF],
            "file": [SimpleUploadedFile("证明.pdf", b"%PDF-1.4 proof", content_type="application/pdf")],
        },
        format="multipart",
    )
    assert proof.status_code == 201, proof.content
    moved = teacher.post("/api/v1/applications/bulk-decisions/", {"rows": decide}, format="json")
    assert moved.status_code == 200, moved.content
    assert {r["status"] for r in moved.json()["applications"]} == {S.GRADE_REVIEW}
    with tenant_of(a.tenant):
        assert all(app.decisions.filter(decision="APPROVE").count() == 1 for app in apps)


def test_another_tenants_or_classs_application_refuses_the_whole_request(world, tenant_of):
    a, b = world.a, world.b
    mine = a.applications["c1"]
    teacher = _client(a.users[Role.CLASS_TEACHER])
    others = (b.applications["c1"].pk, a.applications["c2"].pk, uuid.uuid4())  # B's, class c2's, nobody's
    answers = []
    for other in others:
        rows = [
            {"application": str(mine.pk), "class_evaluation": "通过"},
            {"application": str(other), "class_evaluation": "通过"},
        ]
        answers.append(teacher.post("/api/v1/applications/bulk-details/", {"rows": rows}, format="json"))
    assert [r.status_code for r in answers] == [400, 400, 400]
    # Row 2 is refused, and another tenant's application answers exactly like a missing one.
    details = [r.json()["detail"] for r, pk in zip(answers, others, strict=True)]
    assert all(len(d) == 1 for d in details)
    assert len({d[0].replace(str(pk), "?") for d, pk in zip(details, others, strict=True)}) == 1
    assert _get(tenant_of, a.tenant, mine.pk).class_evaluation == ""
    with tenant_of(b.tenant):
        assert HardshipApplication.objects.get(pk=b.applications["c1"].pk).class_evaluation == ""


def test_village_confirmations_for_the_school_then_its_approval(world, tenant_of):
    a = world.a
    officer = _client(a.users[Role.SCHOOL_OFFICER])
    with tenant_of(a.tenant):
        teacher = a.users[Role.CLASS_TEACHER]
        apps = [make_application(a.students[k][0], by=teacher, status=S.SCHOOL_REVIEW) for k in ("c1", "c2", "c3")]
        elsewhere = make_application(a.students["c4"][0], by=teacher, status=S.SCHOOL_REVIEW)  # school s2
    rows = [{"application": str(app.pk), "confirmed_by": "东村村委会", "confirmed_on": "2026-10-09"} for app in apps]
    refused = officer.post(
        "/api/v1/applications/bulk-village/",
        {"rows": [*rows, {**rows[0], "application": str(elsewhere.pk)}]},
        format="json",
    )
    assert refused.status_code == 400
    assert "4" in refused.json()["detail"][0]
    assert _get(tenant_of, a.tenant, apps[0].pk).village_confirmed_by == ""

    response = officer.post("/api/v1/applications/bulk-village/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    assert {r["village_confirmed_on"] for r in response.json()["applications"]} == {"2026-10-09"}
    decide = [{"application": str(app.pk), "decision": "approve"} for app in apps]
    moved = officer.post("/api/v1/applications/bulk-decisions/", {"rows": decide}, format="json")
    assert moved.status_code == 200, moved.content
    assert {_get(tenant_of, a.tenant, app.pk).status for app in apps} == {S.SCHOOL_APPROVED}


def test_a_return_needs_its_reason_row_by_row(world, tenant_of):
    a = world.a
    leader = _client(a.users[Role.GRADE_LEADER])
    with tenant_of(a.tenant):
        teacher = a.users[Role.CLASS_TEACHER]
        one, two = (make_application(a.students["c1"][0], by=teacher, status=S.GRADE_REVIEW),
                    make_application(a.students["c2"][0], by=teacher, status=S.GRADE_REVIEW))  # fmt: skip
    rows = [
        {"application": str(one.pk), "decision": "approve"},
        {"application": str(two.pk), "decision": "return"},
    ]
    refused = leader.post("/api/v1/applications/bulk-decisions/", {"rows": rows}, format="json")
    assert refused.status_code == 400
    assert _get(tenant_of, a.tenant, one.pk).status == S.GRADE_REVIEW
    rows[1]["reason"] = "家访记录不完整"
    moved = leader.post("/api/v1/applications/bulk-decisions/", {"rows": rows}, format="json")
    assert moved.status_code == 200, moved.content
    assert [r["status"] for r in moved.json()["applications"]] == [S.SCHOOL_REVIEW, S.CLASS_EVALUATION]


def test_the_single_steps_through_the_api(world, tenant_of):
    a = world.a
    app = a.applications["c1"]
    teacher = _client(a.users[Role.CLASS_TEACHER])
    details = teacher.post(f"/api/v1/applications/{app.pk}/details/", {"class_evaluation": "同意"}, format="json")
    assert details.status_code == 200, details.content
    assert details.json()["class_evaluation"] == "同意"
    proof = teacher.post(
        f"/api/v1/applications/{app.pk}/attachments/",
        {"kind": AttachmentKind.MAIN_PROOF, "file": SimpleUploadedFile("p.pdf", b"%PDF-1.4 x")},
        format="multipart",
    )
    assert proof.status_code == 201, proof.content
    assert _get(tenant_of, a.tenant, app.pk).materials_complete is True
    # The village confirmation is the school's step, not the teacher's, and not at this step.
    village = teacher.post(
        f"/api/v1/applications/{app.pk}/village/",
        {"confirmed_by": "东村", "confirmed_on": "2026-10-01"},
        format="json",
    )
    assert village.status_code in (400, 403)
    other = _client(world.b.users[Role.CLASS_TEACHER])
    assert (
        other.post(f"/api/v1/applications/{app.pk}/details/", {"class_evaluation": "x"}, format="json").status_code
        == 404
    )


def test_bulk_writes_take_the_same_queries_for_a_bigger_class(world, tenant_of):
    teacher = _client(world.a.users[Role.CLASS_TEACHER])
    apps = _class_of(world, tenant_of, n=8)

    def post(group):
        rows = [{"application": str(app.pk), "class_evaluation": "通过"} for app in group]
        with CaptureQueriesContext(connection) as queries:
            assert teacher.post("/api/v1/applications/bulk-details/", {"rows": rows}, format="json").status_code == 200
        return len(queries)

    assert post(apps[:2]) == post(apps[2:])
