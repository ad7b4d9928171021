"""The lockout check in front of the password check (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """axes' check, for sign-ins that come with a request (the sign-in page, the token endpoint).
    Without one (the test client, a shell) nobody is guessing from outside: nothing to count, and the
    password backend decides alone, where axes would refuse every such call."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
