"""Pages of the door: the second factor (enrolment, the code at sign-in), one's sessions and tokens,
and the administrator's list of accounts to unlock or reset."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from schools import permissions
from schools.selectors import api_token_list

from . import selectors, services
from .forms import CodeForm

LOCKED_OUT = gettext_lazy(
    "Too many failed sign-ins. Signing in is locked for %(minutes)d minutes; try again later, or ask your "
    "administrator to unlock the account."
)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@never_cache
@login_required
def verify_view(request: HttpRequest) -> HttpResponse:
    """二次验证: the code from the authenticator (or a recovery code) after the password."""
    if not user_has_device(request.user):
        return redirect("door:enrol")
    if request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        if services.second_factor_verify(request=request, user=request.user, code=form.cleaned_data["code"]):
            return redirect(_next(request))
        form.add_error("code", _("This code is not valid (or was used already). Try the next one."))
    return render(request, "door/verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
def enrol_view(request: HttpRequest) -> HttpResponse:
    """绑定身份验证器: the QR code of a new authenticator, confirmed by one of its codes. Someone who has one
    already must pass it first (a stolen password does not enrol a new phone)."""
    if user_has_device(request.user) and not request.user.is_verified():
        return redirect("door:verify")
    device = services.totp_device_pending(user=request.user)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        codes = services.totp_enrol_confirm(
            request=request, user=request.user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            return render(request, "door/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", _("This code is not valid. Check the time on your phone and try the next one."))
    # Drawn here as SVG: the secret never leaves the server for a QR service.
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    manual = base64.b32encode(device.bin_key).decode().rstrip("=")  # for typing into the app instead
    return render(request, "door/enrol.html", {"form": form, "qr": qr, "manual_key": manual, "next": _next(request)})


@never_cache
@login_required
def security_view(request: HttpRequest) -> HttpResponse:
    """账号安全: one's sessions and API tokens, sign out everywhere, the authenticator."""
    return render(
        request,
        "door/security.html",
        {
            "sign_ins": selectors.sign_in_list(user=request.user),
            "current": request.session.get(services.SESSION_SIGN_IN),
            "tokens": api_token_list(user=request.user) if request.user.tenant_id else [],
            "enrolled": user_has_device(request.user),
        },
    )


@require_POST
@login_required
def sign_out_everywhere_view(request: HttpRequest) -> HttpResponse:
    ended = services.sign_out_everywhere(request=request, user=request.user)
    messages.success(request, _("Signed out everywhere else (%(n)d sessions); API tokens revoked.") % {"n": ended})
    return redirect("door:security")


@require_POST
@login_required
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        return redirect("door:verify")
    codes = services.recovery_codes_replace(user=request.user)
    services.security_event(account=request.user, action="user.recovery_codes_replace")
    return render(request, "door/recovery_codes.html", {"codes": codes, "next": "/"})


@never_cache
@login_required
def accounts_view(request: HttpRequest) -> HttpResponse:
    """账号解锁: the accounts the administrator keeps, with recent failures and the authenticator."""
    permissions.require(request.user, permissions.Action.ACCOUNT_UNLOCK)
    accounts = list(selectors.account_security_list(user=request.user))
    for account in accounts:
        account.locked = selectors.is_locked(account.failures)
    return render(request, "door/accounts.html", {"accounts": accounts})


def _account(request: HttpRequest, pk: str):
    permissions.require(request.user, permissions.Action.ACCOUNT_UNLOCK)
    account = selectors.account_security_list(user=request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


@require_POST
@login_required
def account_unlock_view(request: HttpRequest, pk: str) -> HttpResponse:
    account = _account(request, pk)
    services.account_unlock(account=account, actor=request.user)
    messages.success(request, _("%(user)s may sign in again.") % {"user": account.username})
    return redirect("door:accounts")


@require_POST
@login_required
def account_two_factor_reset_view(request: HttpRequest, pk: str) -> HttpResponse:
    account = _account(request, pk)
    services.two_factor_reset(account=account, actor=request.user)
    messages.success(
        request, _("%(user)s enrols a new authenticator at the next sign-in.") % {"user": account.username}
    )
    return redirect("door:accounts")


def locked_out_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """axes' answer to a locked account or address (429): the lockout page, which says the same
    whether the account exists or not."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": [str(LOCKED_OUT) % {"minutes": minutes}]}, status=429)
    return render(request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429)
