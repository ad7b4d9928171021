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
from drf_spectacular.openapi import AutoSchema
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
        if "\x00" in str(data):  # as DRF's CharField: PostgreSQL refuses NUL in a text parameter (a 500)
            self.fail("invalid")
        row = self.resolve(user=self.context["request"].user, text=str(data).strip())
        if row is None:
            self.fail("not_found")
        return row

    def to_representation(self, value: Any) -> str:
        return str(value.pk)


#: The body of every error answer: `{"detail": "…"}`, `{"detail": ["…", …]}` (a service's refusal) or
#: `{"field": ["…", …], …}` (malformed input).
ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": 'An error: {"detail": message or [messages]} or {field: [messages]}.',
}
ERROR_DESCRIPTIONS = {
    "400": "Malformed input (field errors) or a refusal of the service (detail).",
    "401": "No credentials, or a bad or expired token.",
    "403": "The caller's role may not do this.",
    "404": "No such row among those the caller may see (another tenant's answers the same), or no such page.",
}


class ApiSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers each operation can really give, in the one error
    format: 401 and 403 wherever credentials and an action are required, 404 where the path names a row
    or a list is paged, 400 where input is read (a body, filters, a query serializer). An operation
    documents only what it may answer, so a client (and the schema test) can rely on the list."""

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            responses.setdefault(
                code,
                {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                },
            )
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        open_to_all = all(isinstance(p, drf_permissions.AllowAny) for p in self.view.get_permissions())
        if not open_to_all:
            codes += ["401", "403"]
        reads_input = (
            self.method in ("POST", "PUT", "PATCH")
            or bool(self._get_filter_parameters())
            or any(p for p in self.get_override_parameters())
        )
        if reads_input:
            codes.append("400")
        if "{" in self.path or self._get_paginator() is not None:
            codes.append("404")
        return codes
