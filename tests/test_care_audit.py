"""Dropout control in the audit trail: a pupil's walk from the first unexplained absence to the return
to school leaves one labelled event per step, and the tenant's chain still verifies."""

from __future__ import annotations

import datetime as dt

from audits.verify import verify_tenant_chain
from care import services
from care.models import AbsenceReason, CaseStatus, DropoutCase, StepKind
from core import clock
from core.audit.models import AuditEvent
from schools.permissions import Role


def test_a_walk_from_absence_to_return_is_audited_and_the_chain_verifies(world, tenant_of):
    w = world.a
    pupil, teacher, officer = w.students["c1"][1], w.users[Role.CLASS_TEACHER], w.users[Role.SCHOOL_OFFICER]
    days = [dt.date(2026, 9, d) for d in (28, 29, 30)] + [dt.date(2026, 10, d) for d in (8, 9, 10)]
    with tenant_of(w.tenant):
        for day in days:
            with clock.frozen_at(day):
                services.attendance_record(
                    actor=teacher, klass=w.classes["c1"], day=day, absences={pupil.pk: AbsenceReason.UNEXPLAINED}
                )
        case = DropoutCase.objects.get(student=pupil)
        assert case.status == CaseStatus.SUSPECTED
        with clock.frozen_at(dt.date(2026, 10, 12)):
            services.case_step_record(actor=teacher, case=case, kind=StepKind.HOME_VISIT, done_on=dt.date(2026, 10, 12))
            services.case_responsible_set(actor=officer, case=case, role="VILLAGE_HEAD", name="村长")
            for name in ("confirm", "start_persuasion", "mark_returned"):
                services.case_transition(actor=officer, case=case, name=name)
        actions = set(AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert {
        "care.case_open",
        "care.case_suspect",
        "care.case_confirm",
        "care.case_start_persuasion",
        "care.case_mark_returned",
    } <= actions
    assert verify_tenant_chain(w.tenant.pk) == []
