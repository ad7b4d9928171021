"""The lockout check in front of the password check (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """Where a sign-in comes from: the connection's address, or behind our TLS proxy (BEHIND_TLS_PROXY)
    the right-most X-Forwarded-For entry, which the proxy itself appended (those left of it are
    whatever the client wrote)."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None


class LockoutBackend(AxesStandaloneBackend):
    """axes' check, for sign-ins that come with a request (the sign-in page, the token endpoint).
    Without one (the test client, a shell) nobody is guessing from outside: nothing to count, and the
    password backend decides alone, where axes would refuse every such call."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PasswordBackend(ModelBackend):
    """Django's password backend, reading the signed-in user with their district (or region) in the same
    query: every page names the district in its top bar, which was one more query a request."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("tenant", "region").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
