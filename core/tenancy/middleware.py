"""Sets the tenant and the actor once per request and runs the view in one tenant transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from core.audit import trail
from core.tokens import HashedTokenAuthentication

from .context import tenant_transaction


def _api_token_user(request: HttpRequest) -> Any:
    """The user of an `Authorization: Token …` header (an unexpired, unrevoked API token: core.tokens).
    DRF would find them only inside the view, but the tenant must be known before the view's transaction
    starts."""
    try:
        found = HashedTokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None  # DRF answers 401 itself when the view authenticates
    return found[0] if found else None


def _concrete(user: Any) -> Any:
    """The user object itself, out of the lazy wrappers that auth and django-otp put around it (the
    user was read by then: the session middleware and OTP's have run). Every attribute read through a
    wrapper is a function call, and a page reads the user's attributes hundreds of times, once per
    permission check."""
    while isinstance(user, LazyObject):
        # LazyObject's own protocol (`_wrapped`, `_setup`), which django-stubs does not declare.
        if vars(user)["_wrapped"] is empty:
            user._setup()  # type: ignore[attr-defined]
        user = vars(user)["_wrapped"]
    return user


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user = _concrete(request.user)
        if not user.is_authenticated and request.headers.get("Authorization", "").startswith("Token "):
            user = _api_token_user(request) or user
        tenant_id = user.tenant_id if user.is_authenticated and user.is_active else None
        request.tenant_id = tenant_id  # type: ignore[attr-defined]
        request_id = request.headers.get("X-Request-ID", "")[:36] or str(uuid.uuid4())
        source = "api" if request.path.startswith("/api/") else "admin" if request.path.startswith("/admin/") else "web"
        actor = trail.actor_for(user, source=source, request_id=request_id)
        with trail.acting_as(actor), tenant_transaction(tenant_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
