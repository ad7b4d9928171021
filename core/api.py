"""Shared pieces of the REST API: the permission adapter, the error format, and the field that names
a row in an operation's input.

Every endpoint names the action each of its operations needs (`required_actions`), and reads rows only
through a selector (which uses the one scoping helper). Decisions come from the permission module
through `core.authz`, as in the pages. Every write operation validates its input with an input
serializer and answers with an output serializer; a row named in the input is a `RowField`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
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


@extend_schema_field(OpenApiTypes.STR)
class RowField(serializers.Field):
    """A row named in an operation's input, looked up for the caller by a selector (`resolve`, which
    each subclass defines): the row among those the user may see, or None. None is one "not found"
    for a missing row, another tenant's and one outside the caller's units alike, so the answer never
    tells which. The serializer needs the request in its context (a view's get_serializer_context())."""

    default_error_messages = {"invalid": _("Not a valid string."), "not_found": _("Not found.")}

    def resolve(self, *, user: Any, text: str) -> Any | None:
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid")
        row = self.resolve(user=self.context["request"].user, text=str(data).strip())
        if row is None:
            self.fail("not_found")
        return row

    def to_representation(self, value: Any) -> str:
        return str(value.pk)
