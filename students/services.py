"""Writes of the student register, and the audited reveal of personal numbers.

`student_status_change` is the one path of a single pupil's enrollment change (学籍变动) outside the
roster import (which stages the same history rows in bulk): the status, its history row and the audit
events in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from schools import permissions
from schools.permissions import Action

from .models import EnrollmentStatus, StatusChange, Student

#: The personal numbers a user may ask to see in full, and what each is called.
REVEALABLE = {"id_number": _("ID number"), "card_account": _("account number")}


def student_reveal(*, student: Student, field: str, actor: Any) -> str:
    """The full value of a personal number, for a user whose role needs it; the view is audited
    (who, when, which student, which field) in the same transaction as the answer."""
    if field not in REVEALABLE:
        raise ValueError(f"{field} is not a revealable field")
    permissions.require(actor, Action.STUDENT_VIEW_PII, student)
    value = getattr(student, field)
    trail.record(tenant_id=student.tenant_id, action="pii.view", obj=student, after={"field": field})
    return value.reveal() if value else ""


def student_status_change(
    *, student: Student, to_status: str, changed_on: dt.date, reason: str, source: str = "manual"
) -> StatusChange | None:
    """学籍变动: set the pupil's enrollment status and keep the change as history, audited under the
    label `student.status_change` with its reason. Returns None when the status is already that (a
    repeated decision changes nothing). Called by services that checked the person's right to make the
    decision behind it (a dropout case confirmed or returned: care.services), inside their transaction."""
    if to_status not in EnrollmentStatus.values:
        raise ValueError(f"{to_status} is not an enrollment status")
    with transaction.atomic():
        s = Student.objects.select_for_update().get(pk=student.pk)
        if s.enrollment_status == to_status:
            return None
        before = s.enrollment_status
        s.enrollment_status = to_status
        with trail.labelled("student.status_change", reason):
            s.save(update_fields=["enrollment_status", "updated_at"])
            return StatusChange.objects.create(
                student=s,
                from_status=before,
                to_status=to_status,
                changed_on=changed_on,
                reason=reason[:200],
                source=source,
            )
