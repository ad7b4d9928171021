"""Semesters: created with their standards; locked after the deadline unless explicitly reopened."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from schools import permissions
from schools.permissions import Action

from ..models import Semester, Term
from .catalogue import standards_for_new_semester

MSG_LOCKED = _("The lists of %(semester)s are locked since its deadline; the district must reopen them first.")


def semester_create(
    *, actor: Any, academic_year: int, term: str, starts_on: dt.date, ends_on: dt.date, deadline: dt.date
) -> Semester:
    """A new semester, with the standards of the one before (or the reference figures)."""
    permissions.require(actor, Action.FUNDING_MANAGE)
    semester = Semester(
        academic_year=academic_year, term=Term(term), starts_on=starts_on, ends_on=ends_on, deadline=deadline
    )
    semester.full_clean()
    semester.save()
    standards_for_new_semester(semester)
    return semester


def semester_is_open(semester: Semester, *, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return today <= semester.deadline or (semester.reopened_until is not None and today <= semester.reopened_until)


def require_open(semester: Semester, *, today: dt.date | None = None) -> None:
    if not semester_is_open(semester, today=today):
        raise ValidationError(MSG_LOCKED % {"semester": semester})


def semester_reopen(*, actor: Any, semester: Semester, until: dt.date, reason: str) -> Semester:
    """An explicit, audited reopening of a locked semester for late entries."""
    permissions.require(actor, Action.SEMESTER_REOPEN, semester)
    if not reason.strip():
        raise ValidationError(_("Say why the semester is reopened."))
    semester.reopened_until = until
    with trail.labelled("semester.reopen", reason):
        semester.save(update_fields=["reopened_until", "updated_at"])
    return semester
