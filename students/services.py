"""Writes of the student register, and the audited reveal of personal numbers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.audit import trail
from schools import permissions
from schools.permissions import Action

from .models import Student

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
