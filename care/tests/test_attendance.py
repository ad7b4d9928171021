"""缺勤登记: the class's day in one submit, the cases it opens, the 5-school-day rule, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care import services
from care.models import Absence, AbsenceReason, CareRules, CaseStatus, CaseStep, DropoutCase
from care.worklist import care_items
from core import clock
from core.audit.models import AuditEvent
from schools.permissions import Role
from schools.workdays import working_days_between
from tests.factories import make_student, user_with_role

U = AbsenceReason.UNEXPLAINED
MON, TUE, WED, THU, FRI = (dt.date(2026, 10, d) for d in (12, 13, 14, 15, 16))


def _case(tenant_of, w, pupil):
    with tenant_of(w.tenant):
        return DropoutCase.objects.filter(student=pupil).order_by("-created_at").first()


def test_one_submit_records_the_whole_class_in_a_fixed_number_of_statements(world, tenant_of, record):
    """The statements do not grow with the class: a class of 2 and a class of 32 cost the same."""
    w = world.a
    with tenant_of(w.tenant):
        more = [make_student(w.classes["c2"], name=f"加{i}", region="410622") for i in range(30)]
        teacher2 = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c2"])
    small = {w.students["c1"][1]: U}
    with CaptureQueriesContext(connection) as few:
        record(w, THU, small)
    big = {p: U for p in more[:20]} | {p: AbsenceReason.SICK_LEAVE for p in more[20:]}
    with CaptureQueriesContext(connection) as many:
        result = record(w, THU, big, actor=teacher2, klass=w.classes["c2"])
    assert result.absent == 30
    assert result.opened == 20
    assert len(many) <= len(few) + 2, (len(few), len(many))
    assert len(many) <= 40
    with tenant_of(w.tenant):
        assert Absence.objects.filter(klass=w.classes["c2"], absent_on=THU).count() == 30
        assert DropoutCase.objects.filter(klass=w.classes["c2"], status=CaseStatus.ABSENT).count() == 20


def test_an_unexplained_absence_opens_a_case_the_school_sees_the_same_day(world, tenant_of, record):
    w = world.a
    pupil = w.students["c1"][1]
    result = record(w, FRI, {pupil: U})
    assert result.opened == 1
    case = _case(tenant_of, w, pupil)
    assert case.status == CaseStatus.ABSENT
    assert case.school_notice_on == FRI  # told the same day
    assert case.home_visit_due_on == dt.date(2026, 10, 19)  # within one working day: Friday → Monday
    with tenant_of(w.tenant), clock.frozen_at(FRI):
        labels = [i.label for i in care_items(w.users[Role.SCHOOL_OFFICER])]
        assert "无故缺勤学生" in labels
        assert AuditEvent.objects.filter(action="care.case_open", object_id=str(case.pk)).exists()
    with tenant_of(w.tenant), clock.frozen_at(dt.date(2026, 10, 19)):
        visits = [i for i in care_items(w.users[Role.CLASS_TEACHER]) if i.url.endswith("visit=due")]
        assert visits
        assert visits[0].count == 1


def test_leave_is_recorded_but_opens_no_case(world, tenant_of, record):
    w = world.a
    pupil = w.students["c1"][1]
    record(w, MON, {pupil: AbsenceReason.SICK_LEAVE})
    assert _case(tenant_of, w, pupil) is None
    with tenant_of(w.tenant):
        assert Absence.objects.get(student=pupil).reason == AbsenceReason.SICK_LEAVE


def test_the_pupil_recorded_present_again_ends_the_absence_case(world, tenant_of, record):
    w = world.a
    pupil = w.students["c1"][1]
    record(w, MON, {pupil: U})
    record(w, TUE, {})
    case = _case(tenant_of, w, pupil)
    assert case.status == CaseStatus.RETURNED
    with tenant_of(w.tenant):
        assert CaseStep.objects.filter(case=case, to_status=CaseStatus.RETURNED).exists()
    # A suspected case is the school's to end, not the register's.
    suspected = w.cases["c1"]
    with tenant_of(w.tenant):
        assert DropoutCase.objects.get(pk=suspected.pk).status == CaseStatus.SUSPECTED


def test_a_resubmitted_day_replaces_the_classes_records(world, tenant_of, record):
    w = world.a
    first, second = w.students["c1"][1], w.students["c1"][0]
    record(w, MON, {first: AbsenceReason.PERSONAL_LEAVE})
    record(w, MON, {second: AbsenceReason.SICK_LEAVE})
    with tenant_of(w.tenant):
        assert list(Absence.objects.filter(absent_on=MON).values_list("student_id", flat=True)) == [second.pk]


def test_more_than_five_school_days_make_a_suspected_dropout_across_a_holiday_week(world, tenant_of, record):
    """Absent from Monday 28 September through the National Day week: the holiday days do not count."""
    w = world.a
    pupil = w.students["c1"][1]
    with tenant_of(w.tenant):
        days = working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 10))
    # The calendar this test relies on: 1–7 October off, Saturday 10 October worked instead (调休).
    assert days == [dt.date(2026, 9, d) for d in (28, 29, 30)] + [dt.date(2026, 10, d) for d in (8, 9, 10)]
    for day in days[:5]:
        record(w, day, {pupil: U})
    case = _case(tenant_of, w, pupil)
    assert (case.status, case.absent_days) == (CaseStatus.ABSENT, 5)  # 12 calendar days, 5 school days
    result = record(w, days[5], {pupil: U})
    case = _case(tenant_of, w, pupil)
    assert result.suspected == 1
    assert (case.status, case.absent_days, case.suspected_on) == (CaseStatus.SUSPECTED, 6, days[5])
    with tenant_of(w.tenant):
        assert AuditEvent.objects.filter(action="care.case_suspect", object_id=str(case.pk)).exists()


def test_leave_days_inside_the_run_are_not_counted(world, tenant_of, record):
    w = world.a
    pupil = w.students["c1"][1]
    days = [dt.date(2026, 10, d) for d in (12, 13, 14, 15, 16, 19, 20)]
    for day in days:
        reason = AbsenceReason.SICK_LEAVE if day == dt.date(2026, 10, 14) else U
        record(w, day, {pupil: reason})
    case = _case(tenant_of, w, pupil)
    assert (case.status, case.absent_days) == (CaseStatus.SUSPECTED, 6)


def test_the_rules_are_the_districts_data(world, tenant_of, record):
    w = world.a
    with tenant_of(w.tenant):
        rules = CareRules.objects.get()
        rules.suspected_after_days, rules.home_visit_days = 2, 2
        rules.save(update_fields=["suspected_after_days", "home_visit_days", "updated_at"])
    pupil = w.students["c1"][1]
    record(w, MON, {pupil: U})
    assert _case(tenant_of, w, pupil).home_visit_due_on == WED
    record(w, TUE, {pupil: U})
    record(w, WED, {pupil: U})
    assert _case(tenant_of, w, pupil).status == CaseStatus.SUSPECTED
    # Tenant B keeps the defaults.
    other = world.b.students["c1"][1]
    for day in (MON, TUE, WED):
        record(world.b, day, {other: U})
    assert _case(tenant_of, world.b, other).status == CaseStatus.ABSENT


def _nothing_changed(tenant_of, w):
    with tenant_of(w.tenant):
        return Absence.objects.count(), DropoutCase.objects.count(), CaseStep.objects.count()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("future", services.MSG_FUTURE),
        ("holiday", services.MSG_NOT_SCHOOL_DAY % {"date": "2026-10-05"}),
        ("other_class", services.MSG_NOT_IN_CLASS % {"n": 1}),
        ("other_school_teacher", services.MSG_NOT_YOUR_CLASS),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(world, tenant_of, record, case, message):
    w = world.a
    before = _nothing_changed(tenant_of, w)
    pupil = w.students["c1"][1]
    kwargs = {}
    day, absences = MON, {pupil: U}
    if case == "future":
        kwargs["today"] = dt.date(2026, 10, 9)
    elif case == "holiday":
        day = dt.date(2026, 10, 5)
    elif case == "other_class":
        absences = {pupil: U, w.students["c2"][0]: U}
    else:
        with tenant_of(w.tenant):
            kwargs["actor"] = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c4"])
    with pytest.raises(services.CareError) as refused:
        record(w, day, absences, **kwargs)
    assert str(message) in " ".join(refused.value.messages)
    assert _nothing_changed(tenant_of, w) == before


def test_the_class_page_records_the_day_in_one_post(world, tenant_of):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.CLASS_TEACHER])
    url = reverse("care:attendance_class", kwargs={"class_pk": w.classes["c1"].pk})
    pupils = w.students["c1"]
    with clock.frozen_at(MON):
        page = client.get(url, {"date": MON.isoformat()})
        assert page.status_code == 200
        assert all(p.name in page.content.decode() for p in pupils)
        response = client.post(url, {"day": MON.isoformat(), f"r_{pupils[1].pk}": U, f"r_{pupils[0].pk}": ""})
    assert response.status_code == 302
    with tenant_of(w.tenant):
        assert list(Absence.objects.filter(absent_on=MON).values_list("student_id", flat=True)) == [pupils[1].pk]
    # Another class's pupil slipped into the form: a message, nothing written.
    with clock.frozen_at(TUE):
        response = client.post(url, {"day": TUE.isoformat(), f"r_{w.students['c2'][0].pk}": U}, follow=True)
    assert str(services.MSG_NOT_IN_CLASS % {"n": 1}) in response.content.decode()
    with tenant_of(w.tenant):
        assert not Absence.objects.filter(absent_on=TUE).exists()


def test_the_class_page_is_the_teachers_own_class_only(world):
    client = Client()
    client.force_login(world.a.users[Role.CLASS_TEACHER])
    for klass, expected in ((world.a.classes["c4"], 404), (world.b.classes["c1"], 404), (world.a.classes["c1"], 200)):
        response = client.get(reverse("care:attendance_class", kwargs={"class_pk": klass.pk}))
        assert response.status_code == expected
    officer = Client()
    officer.force_login(world.a.users[Role.SCHOOL_OFFICER])
    response = officer.get(reverse("care:attendance_class", kwargs={"class_pk": world.a.classes["c1"].pk}))
    assert response.status_code == 403


def test_the_api_records_the_day_and_refuses_another_tenants_class(world, tenant_of):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.CLASS_TEACHER])
    pupil = w.students["c1"][1]
    body = {
        "klass": str(w.classes["c1"].pk),
        "day": MON.isoformat(),
        "absences": [{"student": str(pupil.pk), "reason": U}],
    }
    with clock.frozen_at(MON):
        response = client.post("/api/v1/care/attendance/", body, content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["opened"] == 1
        body["klass"] = str(world.b.classes["c1"].pk)
        response = client.post("/api/v1/care/attendance/", body, content_type="application/json")
    assert response.status_code == 400
    assert "klass" in response.json()
    with clock.frozen_at(dt.date(2026, 10, 9)):
        body["klass"] = str(w.classes["c1"].pk)
        response = client.post("/api/v1/care/attendance/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
