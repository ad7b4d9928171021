"""Permission-checked lookups of students."""

from __future__ import annotations

from typing import Any

from schools.access import get_visible
from schools.permissions import Action

from .models import Student


def student_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Student:
    """The student if visible to the user (and `action` allowed on them); 404 / 403 otherwise."""
    return get_visible(Student, user=user, pk=pk, action=action)
