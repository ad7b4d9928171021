"""Shared pieces of the REST API: the permission adapter and the error format.

Every endpoint names the action each of its operations needs (`required_actions`), and reads rows only
through a selector (which uses the one scoping helper). Decisions come from the permission module
through `core.authz`, as in the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework import permissions as drf_permissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import authz


class HasAction(drf_permissions.BasePermission):
    """Allows an operation when the user may perform the action the view names for it.

    `required_actions` maps DRF's action names ("list", "retrieve", a custom @action) to an Action;
    an operation missing from the map is refused, so a new endpoint cannot be open by omission.
    """

    def _action(self, view: Any) -> Any:
        return getattr(view, "required_actions", {}).get(getattr(view, "action", None) or view.request.method.lower())

    def has_permission(self, request: Any, view: Any) -> bool:
        action = self._action(view)
        return action is not None and authz.can(request.user, action)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        action = self._action(view)
        return action is not None and authz.can(request.user, action, obj)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The one error format of the API: DRF's, plus Django's own PermissionDenied as 403 and a
    service's refusal (Django's ValidationError) as 400 `{"detail": [message, …]}`, the messages a
    teacher reads on the pages. Views let a service's refusal propagate here instead of catching it."""
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"detail": exc.messages})
    return drf_exception_handler(exc, context)
