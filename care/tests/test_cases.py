"""Dropout cases (劝返): each transition allowed or refused per role, reasons and placements required,
steps, the six chiefs, the printable notices, the API, the tenant wall."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from care import services
from care.models import CaseResponsible, CaseStatus, CaseStep, ChiefRole, DropoutCase, Placement, StepKind
from core import clock
from core.audit.models import AuditEvent
from schools.permissions import Role
from tests.factories import make_case

TODAY = dt.date(2026, 10, 20)
#: Who may move a case of c1 (school s1): the school's officer and principal, the district center.
DECIDERS = {Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF}


def _status(tenant_of, w, case):
    with tenant_of(w.tenant):
        return DropoutCase.objects.get(pk=case.pk).status


def _move(tenant_of, w, case, name, role=Role.SCHOOL_OFFICER, **kwargs):
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        return services.case_transition(actor=w.users[role], case=case, name=name, **kwargs)


#: Each transition a person fires: the state it starts from, the one it reaches, what it needs.
STEPS = [
    ("confirm", CaseStatus.SUSPECTED, CaseStatus.CONFIRMED, {}),
    ("start_persuasion", CaseStatus.CONFIRMED, CaseStatus.PERSUADING, {}),
    ("mark_returned", CaseStatus.PERSUADING, CaseStatus.RETURNED, {}),
    ("place", CaseStatus.PERSUADING, CaseStatus.PLACED, {"placement": Placement.HOME_TEACHING}),
    ("close", CaseStatus.SUSPECTED, CaseStatus.CLOSED, {"reason": "随父母迁居外省，已在当地入学"}),
]


@pytest.mark.parametrize("role", list(Role))
def test_each_transition_is_allowed_or_refused_per_role(world, tenant_of, role):
    w = world.a
    for name, source, target, extra in STEPS:
        with tenant_of(w.tenant):
            DropoutCase.objects.filter(student=w.students["c1"][1]).delete()
            case = make_case(w.students["c1"][1], by=w.users[Role.CLASS_TEACHER], status=source)
        if role in DECIDERS:
            moved = _move(tenant_of, w, case, name, role, **extra)
            assert moved.status == target, name
            with tenant_of(w.tenant):
                step = CaseStep.objects.get(case=case, kind=StepKind.STATUS)
                assert (step.from_status, step.to_status, step.actor_id) == (source, target, w.users[role].pk)
                assert AuditEvent.objects.filter(action=f"care.case_{name}", object_id=str(case.pk)).exists()
                CaseStep.objects.filter(case=case).delete()
        else:
            with pytest.raises(services.CareError) as refused:
                _move(tenant_of, w, case, name, role, **extra)
            assert str(services.MSG_NOT_YOURS) in refused.value.messages, name
            assert _status(tenant_of, w, case) == source, name


def test_a_school_decides_only_its_own_schools_cases(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        theirs = make_case(w.students["c4"][1], by=w.users[Role.CLASS_TEACHER], status=CaseStatus.SUSPECTED)
    with pytest.raises(services.CareError):
        _move(tenant_of, w, theirs, "confirm", Role.SCHOOL_OFFICER)
    assert _move(tenant_of, w, theirs, "confirm", Role.DISTRICT_STAFF).status == CaseStatus.CONFIRMED


def test_a_case_walks_from_suspected_to_returned_with_every_step_recorded(world, tenant_of):
    w = world.a
    case = w.cases["c1"]
    for name in ("confirm", "start_persuasion", "mark_returned"):
        _move(tenant_of, w, case, name)
    with tenant_of(w.tenant):
        story = list(
            CaseStep.objects.filter(case=case, kind=StepKind.STATUS)
            .order_by("created_at")
            .values_list("to_status", flat=True)
        )
        actions = set(AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert story == [CaseStatus.CONFIRMED, CaseStatus.PERSUADING, CaseStatus.RETURNED]
    assert {"care.case_confirm", "care.case_start_persuasion", "care.case_mark_returned"} <= actions


def test_no_step_can_be_skipped_and_a_finished_case_stays_finished(world, tenant_of):
    w = world.a
    case = w.cases["c1"]  # suspected
    with pytest.raises(services.CareError, match="已有变化"):
        _move(tenant_of, w, case, "start_persuasion")
    with pytest.raises(services.CareError):
        _move(tenant_of, w, case, "place", placement=Placement.TRANSFERRED)  # only once confirmed
    _move(tenant_of, w, case, "mark_returned")
    with pytest.raises(services.CareError):
        _move(tenant_of, w, case, "close", reason="late")
    # The state the person saw has moved on: told so, nothing changed.
    with pytest.raises(services.CareError):
        _move(tenant_of, w, w.cases["c2"], "confirm", Role.DISTRICT_STAFF, expected_status=CaseStatus.CONFIRMED)
    assert _status(tenant_of, w, w.cases["c2"]) == CaseStatus.SUSPECTED


@pytest.mark.parametrize("reason", ["", "   "])
def test_closing_needs_a_reason(world, tenant_of, reason):
    w = world.a
    with pytest.raises(services.CareError) as refused:
        _move(tenant_of, w, w.cases["c1"], "close", reason=reason)
    assert str(services.MSG_REASON) in refused.value.messages
    assert _status(tenant_of, w, w.cases["c1"]) == CaseStatus.SUSPECTED
    with tenant_of(w.tenant):
        assert not CaseStep.objects.filter(case=w.cases["c1"], kind=StepKind.STATUS).exists()


def test_placing_needs_where(world, tenant_of):
    w = world.a
    case = w.cases["c1"]
    _move(tenant_of, w, case, "confirm")
    with pytest.raises(services.CareError) as refused:
        _move(tenant_of, w, case, "place")
    assert str(services.MSG_PLACEMENT) in refused.value.messages
    moved = _move(tenant_of, w, case, "place", placement=Placement.SPECIAL_EDUCATION)
    assert (moved.status, moved.placement) == (CaseStatus.PLACED, Placement.SPECIAL_EDUCATION)


def test_the_teacher_records_a_home_visit_and_bad_steps_change_nothing(world, tenant_of):
    w = world.a
    case, teacher = w.cases["c1"], w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        before = CaseStep.objects.count()
        step = services.case_step_record(
            actor=teacher,
            case=case,
            kind=StepKind.HOME_VISIT,
            done_on=TODAY,
            notes="母亲在家，答应周一送回",
            next_on=TODAY + dt.timedelta(days=3),
        )
        assert (step.actor_id, step.kind) == (teacher.pk, StepKind.HOME_VISIT)
        for kwargs, message in (
            ({"kind": StepKind.HOME_VISIT, "done_on": TODAY + dt.timedelta(days=1)}, services.MSG_FUTURE),
            ({"kind": StepKind.WRITTEN_NOTICE, "done_on": TODAY}, services.MSG_NOTICE_LEVEL),
            (
                {"kind": StepKind.HOME_VISIT, "done_on": TODAY, "next_on": TODAY - dt.timedelta(days=1)},
                services.MSG_NEXT_BEFORE,
            ),
            ({"kind": StepKind.STATUS, "done_on": TODAY}, services.MSG_STEP_KIND),
        ):
            with pytest.raises(services.CareError) as refused:
                services.case_step_record(actor=teacher, case=case, **kwargs)
            assert str(message) in refused.value.messages
        assert CaseStep.objects.count() == before + 1
        # The auditor reads; the grade leader has no part in cases.
        for role in (Role.DISTRICT_AUDITOR, Role.GRADE_LEADER):
            with pytest.raises(services.CareError):
                services.case_step_record(actor=w.users[role], case=case, kind=StepKind.HOME_VISIT, done_on=TODAY)


def test_the_six_chiefs_are_named_one_per_role(world, tenant_of):
    w = world.a
    case, officer = w.cases["c1"], w.users[Role.SCHOOL_OFFICER]
    with tenant_of(w.tenant):
        services.case_responsible_set(
            actor=officer, case=case, role=ChiefRole.PRINCIPAL, name="", user=w.users[Role.PRINCIPAL]
        )
        services.case_responsible_set(
            actor=officer, case=case, role=ChiefRole.VILLAGE_HEAD, name="王村长", phone="13911112222"
        )
        rows = {r.role: r for r in CaseResponsible.objects.filter(case=case)}
        assert rows[ChiefRole.VILLAGE_HEAD].name == "王村长"  # replaced the factory's
        assert rows[ChiefRole.PRINCIPAL].user_id == w.users[Role.PRINCIPAL].pk
        assert len(rows) == 2
        with pytest.raises(services.CareError):
            services.case_responsible_set(
                actor=w.users[Role.CLASS_TEACHER], case=case, role=ChiefRole.PARENT, name="家长"
            )
        with pytest.raises(services.CareError):
            services.case_responsible_set(actor=officer, case=case, role=ChiefRole.PARENT, name=" ")


@pytest.mark.parametrize("level", [1, 2, 3])
def test_the_notice_is_a_printable_a4_page(world, level):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.SCHOOL_OFFICER])
    response = client.get(reverse("care:case_notice", kwargs={"pk": w.cases["c1"].pk, "level": level}))
    body = response.content.decode()
    assert response.status_code == 200
    # A4 comes from the print style sheet the page links (no inline style: the CSP allows none).
    assert "css/print.css" in body
    sheet = (settings.BASE_DIR / "static" / "css" / "print.css").read_text()
    assert "size: A4" in sheet
    assert "@media print" in sheet
    assert w.students["c1"][0].name in body
    assert ["劝返复学告知书", "责令限期改正通知书", "行政处罚告知书"][level - 1] in body
    assert client.get(reverse("care:case_notice", kwargs={"pk": w.cases["c1"].pk, "level": 9})).status_code == 404


def test_the_case_page_shows_the_forms_to_those_who_may_use_them(world):
    w = world.a
    url = reverse("care:case", kwargs={"pk": w.cases["c1"].pk})
    for role, decides, steps in (
        (Role.SCHOOL_OFFICER, True, True),
        (Role.CLASS_TEACHER, False, True),
        (Role.DISTRICT_AUDITOR, False, False),
    ):
        client = Client()
        client.force_login(w.users[role])
        body = client.get(url).content.decode()
        assert (reverse("care:case_transition", kwargs={"pk": w.cases["c1"].pk}) in body) is decides, role
        assert ('data-testid="step-form"' in body) is steps, role


def test_the_case_page_posts_a_closing_without_reason_as_a_message(world, tenant_of):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.SCHOOL_OFFICER])
    url = reverse("care:case_transition", kwargs={"pk": w.cases["c1"].pk})
    response = client.post(url, {"name": "close", "reason": "", "expected_status": CaseStatus.SUSPECTED}, follow=True)
    assert response.status_code == 200
    assert str(services.MSG_REASON) in response.content.decode()
    assert _status(tenant_of, w, w.cases["c1"]) == CaseStatus.SUSPECTED


def test_the_api_moves_cases_and_refuses_roles_and_tenants(world, tenant_of):
    w = world.a
    officer, teacher = Client(), Client()
    officer.force_login(w.users[Role.SCHOOL_OFFICER])
    teacher.force_login(w.users[Role.CLASS_TEACHER])
    url = f"/api/v1/care/cases/{w.cases['c1'].pk}/transition/"
    assert teacher.post(url, {"name": "confirm"}, content_type="application/json").status_code == 403
    response = officer.post(url, {"name": "close"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    response = officer.post(url, {"name": "confirm"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == CaseStatus.CONFIRMED
    with clock.frozen_at(TODAY):
        response = teacher.post(
            f"/api/v1/care/cases/{w.cases['c1'].pk}/steps/",
            {"kind": StepKind.HOME_VISIT, "done_on": TODAY.isoformat(), "notes": "见到家长"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    listed = {row["id"] for row in teacher.get("/api/v1/care/cases/").json()["results"]}
    assert listed == {str(w.cases["c1"].pk)}  # the teacher's class only
    theirs = world.b.cases["c1"]
    assert officer.get(f"/api/v1/care/cases/{theirs.pk}/").status_code == 404
    assert (
        officer.post(
            f"/api/v1/care/cases/{theirs.pk}/transition/", {"name": "confirm"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert _status(tenant_of, world.b, theirs) == CaseStatus.SUSPECTED


def test_another_tenants_case_is_not_found_on_the_pages(world):
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    theirs = world.b.cases["c1"]
    for name in ("care:case", "care:case_transition", "care:case_step"):
        response = (
            client.post(reverse(name, kwargs={"pk": theirs.pk}), {"name": "confirm"})
            if name != "care:case"
            else client.get(reverse(name, kwargs={"pk": theirs.pk}))
        )
        assert response.status_code == 404, name
    listed = client.get(reverse("care:cases")).content.decode()
    assert world.b.students["c1"][0].name not in listed
    assert world.a.students["c1"][0].name in listed


@pytest.mark.postgres
def test_a_case_cannot_point_at_another_tenants_pupil(world, tenant_of):
    """The composite key (tenant, student) → pupil: even a raw id of tenant B's pupil is refused."""
    from django.db import IntegrityError, connection, transaction

    with tenant_of(world.a.tenant):
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        case = DropoutCase.objects.filter(pk=world.a.cases["c1"].pk)
        with pytest.raises(IntegrityError), transaction.atomic():
            case.update(student_id=world.b.students["c1"][0].pk)


def test_the_case_list_costs_the_same_for_3_cases_or_30(world, tenant_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_student

    w = world.a
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    url = reverse("care:cases")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    with tenant_of(w.tenant):
        for i in range(27):
            pupil = make_student(w.classes["c3"], name=f"列{i}", region="410622")
            make_case(pupil, by=w.users[Role.CLASS_TEACHER])
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert body.count('data-testid="case-row"') == 4 + 27  # tenant A's four, and the new ones
    assert len(many) == len(few)
