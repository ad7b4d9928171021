"""Permission-checked lookups: one object for one user, or 404.

Not visible to the user (another tenant's, outside their unit, or missing) answers exactly like a
missing row: 404. Visible but the action is not allowed: 403.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404

from . import permissions
from .models import Grade, School, SchoolClass
from .permissions import Action

M = TypeVar("M", bound=Model)


def get_visible(model: type[M], *, user: Any, pk: Any, action: Action | None = None) -> M:
    """The row if `user` may see it (and perform `action` on it, if given); else 404 / 403."""
    try:
        obj = model.objects.visible_to(user).get(pk=pk)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if action is not None and not permissions.can(user, action, obj):
        raise PermissionDenied
    return obj


def school_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> School:
    return get_visible(School, user=user, pk=pk, action=action)


def grade_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Grade:
    return get_visible(Grade, user=user, pk=pk, action=action)


def class_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> SchoolClass:
    return get_visible(SchoolClass, user=user, pk=pk, action=action)
