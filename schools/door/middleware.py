"""The door on every request: session limits, then the second factor and a due password change."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from . import services

#: Paths an account may open before it has passed the door (signing in and out, the second factor,
#: the password change, the language, static files, the public notices, the health check).
OPEN_PATHS = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/password/",
    "/accounts/two-factor/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/p/",
    "/api/v1/token/",
)


def _now() -> float:
    return time.time()


def _answer(request: HttpRequest, to: str, *, api_message: str) -> HttpResponse:
    """Send the person to `to`: a redirect for pages (HX-Redirect for htmx), a 401/403 for the API."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": [api_message]}, status=403)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = to
        return response
    return HttpResponseRedirect(to)


class DoorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._check(request)
        response = refused if refused is not None else self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or not hasattr(request, "session") or "_auth_user_id" not in request.session:
            return None  # anonymous, or an API token (DRF checks those)
        session, now = request.session, _now()
        started, seen = session.get(services.SESSION_STARTED), session.get(services.SESSION_SEEN)
        if started is None or seen is None:
            session[services.SESSION_STARTED] = session[services.SESSION_SEEN] = now
        else:
            idle = now - seen > settings.SESSION_IDLE_MINUTES * 60
            expired = now - started > settings.SESSION_ABSOLUTE_HOURS * 3600
            if idle or expired:
                services.sign_in_end(request=request, reason="idle" if idle else "lifetime")
                path = request.get_full_path()
                logout(request)
                to = reverse("login") + "?" + urlencode({"next": path, "expired": "1"})
                return _answer(request, to, api_message=_("Your session has ended. Please sign in again."))
            services.sign_in_touch(request=request, now=now)
        if session.get(services.SESSION_CLEAR):
            return None
        if request.path.startswith(OPEN_PATHS):
            request.door_pending = True  # type: ignore[attr-defined]  # pages of the door show no menu
            return None
        if services.second_factor_needed(user) and not user.is_verified():
            return _answer(
                request,
                reverse("door:verify") + "?" + urlencode({"next": request.get_full_path()}),
                api_message=_("Pass the second factor first."),
            )
        if user.must_change_password:
            return _answer(request, reverse("password_change"), api_message=_("Change your password first."))
        session[services.SESSION_CLEAR] = True
        return None
