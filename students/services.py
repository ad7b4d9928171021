"""Writes of the student register, and the audited reveal of personal numbers.

`student_status_change` is the one path of a single pupil's enrollment change (学籍变动) outside the
roster import (which stages the same history rows in bulk): the status, its history row and the audit
events in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import clock
from core.audit import trail
from schools import permissions
from schools.permissions import Action

from .models import EnrollmentStatus, HardshipApplication, HomeVisit, StatusChange, Student, VisitPurpose

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


# --- Home visits (家访 / 走访): the one record, whoever writes it -------------------------------------------

MSG_VISIT_FUTURE = _("The visit date cannot be in the future: record a visit once it has taken place.")
MSG_VISIT_NEXT = _("The next visit cannot be due before the date of this one.")
MSG_VISIT_DATE = _("Give the date of the visit.")


class VisitError(ValidationError):
    """A refused home visit, with a message for the person who recorded it."""


def home_visit_record(
    *,
    actor: Any,
    student: Student,
    purpose: str,
    visited_on: dt.date | None,
    met: str = "",
    situation: str = "",
    needs: str = "",
    follow_ups: str = "",
    next_due_on: dt.date | None = None,
) -> HomeVisit:
    """家访: record a visit the actor made to the pupil's family. The caller has checked the actor's
    right to (care: the paired teacher); this checks the dates and writes the row, audited."""
    if visited_on is None:
        raise VisitError(MSG_VISIT_DATE)
    if visited_on > clock.today():
        raise VisitError(MSG_VISIT_FUTURE)
    if next_due_on is not None and next_due_on < visited_on:
        raise VisitError(MSG_VISIT_NEXT)
    if purpose not in VisitPurpose.values:
        raise ValueError(f"{purpose} is not a visit purpose")
    with trail.labelled(f"visit.record_{purpose.lower()}"):
        return HomeVisit.objects.create(
            student=student,
            school_id=student.school_id,
            grade_id=student.grade_id,
            klass_id=student.klass_id,
            purpose=purpose,
            visited_on=visited_on,
            visitor=actor,
            visitor_name=(actor.get_full_name() or actor.username)[:100],
            met=met.strip()[:200],
            situation=situation.strip(),
            needs=needs.strip(),
            follow_ups=follow_ups.strip(),
            next_due_on=next_due_on,
            recorded_by=actor,
        )


def home_visits_sync_from_applications(*, actor: Any, applications: list[HardshipApplication]) -> None:
    """The nomination's home visit (入户调查) is a HomeVisit like any other: after the identification
    workflow wrote the nominations' visit fields, their one visit record each follows them (created,
    changed, or removed when the date is cleared). Three statements at most, whatever the number."""
    if not applications:
        return
    existing = {v.application_id: v for v in HomeVisit.objects.filter(application__in=applications)}
    new, changed, gone = [], [], []
    now = timezone.now()
    for app in applications:
        visit = existing.get(app.pk)
        if app.visit_on is None:
            if visit is not None:
                gone.append(visit.pk)
            continue
        values = {
            "visited_on": app.visit_on,
            "visitor_name": (app.visit_by or "")[:100],
            "situation": app.visit_findings or "",
        }
        if visit is None:
            new.append(
                HomeVisit(
                    student_id=app.student_id,
                    school_id=app.school_id,
                    grade_id=app.grade_id,
                    klass_id=app.klass_id,
                    purpose=VisitPurpose.IDENTIFICATION,
                    application=app,
                    recorded_by=actor,
                    **values,
                )
            )
        elif any(getattr(visit, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(visit, k, v)
            visit.updated_at = now
            changed.append(visit)
    with trail.labelled("visit.record_identification"):
        if new:
            HomeVisit.objects.bulk_create(new)
        if changed:
            HomeVisit.objects.bulk_update(changed, ["visited_on", "visitor_name", "situation", "updated_at"])
        if gone:
            HomeVisit.objects.filter(pk__in=gone).delete()
