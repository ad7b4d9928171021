"""Sign-in events, from Django and django-axes, into the door's services (and so the audit trail)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import services


@receiver(user_logged_in, dispatch_uid="door.signed_in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.sign_in_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="door.signed_out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.sign_in_end(request=request)


@receiver(user_login_failed, dispatch_uid="door.sign_in_failed")
def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    if request is not None:  # the test client and shells sign in without one: nobody guessing
        services.sign_in_failed(username=credentials.get("username"), request=request)


@receiver(user_locked_out, dispatch_uid="door.locked_out")
def _locked_out(sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any) -> None:
    services.locked_out(username=username, ip_address=ip_address)
