"""Writes of the door: sign-ins and their end, lockout events and unlocking, the second factor's
enrolment, use and reset, sign out everywhere. Every security event is a row of the account's tenant
audit trail (a platform operator's, who has no tenant, go to the log)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import django_otp
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import trail
from core.tenancy.context import current_tenant_id_or_none, tenant_transaction
from schools import permissions
from schools.models import ApiToken, SignIn, User

from .backends import client_address

log = logging.getLogger("schools.door")

#: Session keys of the door (timestamps are epoch seconds).
SESSION_STARTED = "door.started"
SESSION_SEEN = "door.seen"
SESSION_CLEAR = "door.clear"  # the second factor and the password were checked for this session
SESSION_SIGN_IN = "door.sign_in"
#: How often a session's "last used" is written (its idle clock is exact; the list need not be).
SEEN_WRITE_EVERY = 60


def security_event(*, account: User, action: str, after: dict[str, Any] | None = None, reason: str = "") -> None:
    """One security event of `account` in its tenant's audit trail (its own transaction if the request
    works for no tenant yet, as the sign-in page does)."""
    if account.tenant_id is None:
        log.warning("security event %s of %s (no tenant: not in an audit chain) %s", action, account.username, after)
        return
    if current_tenant_id_or_none() == account.tenant_id:
        trail.record(tenant_id=account.tenant_id, action=action, obj=account, after=after, reason=reason)
        return
    with tenant_transaction(account.tenant_id):
        trail.record(tenant_id=account.tenant_id, action=action, obj=account, after=after, reason=reason)


def _account(username: str | None) -> User | None:
    """The account of a username typed at the door, if there is one (the message never says)."""
    if not username:
        return None
    return User.objects.filter(username=username, is_system=False).first()


# --- Failed sign-ins and lockout (django-axes counts; these write the trail) ---------------------------


def sign_in_failed(*, username: str | None, request: HttpRequest | None) -> None:
    """A wrong password (or a refused one, while locked): audited for an existing account."""
    account = _account(username)
    if account is not None:
        address = client_address(request) if request is not None else None
        security_event(account=account, action="user.sign_in_failed", after={"ip": address})


def locked_out(*, username: str | None, ip_address: str | None) -> None:
    """The account (or the address) reached the failure limit, or tried again while locked."""
    account = _account(username)
    if account is not None:
        security_event(
            account=account,
            action="user.lockout",
            after={"ip": ip_address, "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        )


def account_unlock(*, account: User, actor: User) -> int:
    """Forget the account's failed sign-ins: it may sign in again at once. Audited; returns how many
    failure records were removed (0: it was not locked)."""
    if not permissions.may_unlock(actor, account):
        raise PermissionDenied
    removed = axes_reset(username=account.username)
    security_event(account=account, action="user.unlock", after={"by": actor.username, "records": removed})
    return removed


# --- Sessions ------------------------------------------------------------------------------------------


def sign_in_record(*, request: HttpRequest, user: User) -> SignIn:
    """A new session of `user` (called on every sign-in): its row for the list, its clocks."""
    now = timezone.now()
    row = SignIn.objects.create(
        user=user,
        last_seen_at=now,
        ip_address=client_address(request),
        user_agent=request.headers.get("User-Agent", "")[:200],
    )
    session = request.session
    session[SESSION_STARTED] = session[SESSION_SEEN] = now.timestamp()
    session[SESSION_SIGN_IN] = str(row.pk)
    # Decided here, once, where nothing is due (most accounts): their pages then ask nothing more.
    if user.must_change_password or second_factor_needed(user):
        session.pop(SESSION_CLEAR, None)
    else:
        session[SESSION_CLEAR] = True
    return row


def sign_in_end(*, request: HttpRequest, reason: str = "") -> None:
    """The session's row ends (sign-out, idle or absolute timeout)."""
    sign_in_id = request.session.get(SESSION_SIGN_IN) if hasattr(request, "session") else None
    if sign_in_id:
        SignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).update(ended_at=timezone.now())
    user = getattr(request, "user", None)
    if reason and user is not None and getattr(user, "is_authenticated", False):
        security_event(account=user, action="user.session_timeout", after={"why": reason})


def sign_in_touch(*, request: HttpRequest, now: float) -> None:
    """The session was used: its idle clock restarts (and, once a minute, its row's "last used")."""
    session = request.session
    seen = session.get(SESSION_SEEN) or now
    if now - seen >= SEEN_WRITE_EVERY:
        session[SESSION_SEEN] = now
        sign_in_id = session.get(SESSION_SIGN_IN)
        if sign_in_id:
            SignIn.objects.filter(pk=sign_in_id).update(last_seen_at=dt.datetime.fromtimestamp(now, tz=dt.UTC))


def sign_out_everywhere(*, request: HttpRequest, user: User) -> int:
    """End every other session of `user` (the session check includes the generation, so they fail at
    their next request) and revoke every API token. This session stays signed in. Audited."""
    from schools import services as school_services

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        User.objects.filter(pk=locked.pk).update(session_generation=F("session_generation") + 1)
        locked.refresh_from_db(fields=["session_generation"])
        user.session_generation = locked.session_generation
        current = request.session.get(SESSION_SIGN_IN)
        ended = (
            SignIn.objects.filter(user=user, ended_at__isnull=True).exclude(pk=current).update(ended_at=timezone.now())
        )
        tokens = list(ApiToken.objects.filter(token__user=user).select_related("token__user"))
        for token in tokens:
            school_services.api_token_revoke(token=token, actor=user)
        security_event(
            account=user, action="user.sign_out_everywhere", after={"sessions": ended, "tokens": len(tokens)}
        )
    update_session_auth_hash(request, user)  # this session carries the new generation
    return ended


# --- The second factor ------------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being enrolled (not confirmed yet): the same one until it is confirmed, so
    that a page reload shows the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_enrol_confirm(*, request: HttpRequest, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a code it shows: it replaces any earlier one, ten new recovery
    codes replace the old (returned once, shown once), and this session has passed the second factor.
    None if the code is wrong (nothing changes)."""
    if device.user_id != user.pk or not device.verify_token(code.strip()):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_replace(user=user)
        security_event(account=user, action="user.two_factor_enrol", after={"device": device.name})
    django_otp.login(request, device)
    request.session.pop(SESSION_CLEAR, None)
    return codes


def recovery_codes_replace(*, user: User) -> list[str]:
    """Ten new one-time recovery codes (the old ones stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def second_factor_verify(*, request: HttpRequest | None, user: User, code: str) -> Any:
    """Check a code from the authenticator or a recovery code (each works once: django-otp refuses a
    TOTP code already used and deletes a recovery code). The device on success, else None; audited
    either way. With a request, the session has then passed the second factor."""
    device = match_token(user, code.strip().replace(" ", "")) if code else None
    if device is None:
        security_event(account=user, action="user.two_factor_failed")
        return None
    if isinstance(device, StaticDevice):
        security_event(account=user, action="user.recovery_code_used", after={"left": device.token_set.count()})
    if request is not None:
        django_otp.login(request, device)
        request.session.pop(SESSION_CLEAR, None)
    return device


def two_factor_reset(*, account: User, actor: User) -> None:
    """Remove the account's authenticator and recovery codes (a lost phone): it enrols again at its
    next sign-in. By the tenant administrator (the platform operator for tenant administrators)."""
    if not permissions.may_unlock(actor, account):
        raise PermissionDenied
    with transaction.atomic():
        TOTPDevice.objects.filter(user=account).delete()
        StaticDevice.objects.filter(user=account).delete()
        User.objects.filter(pk=account.pk).update(session_generation=F("session_generation") + 1)
        security_event(account=account, action="user.two_factor_reset", after={"by": actor.username})


def second_factor_needed(user: Any) -> bool:
    """Must this account pass a second factor? Its role requires it (schools.permissions), or it
    enrolled of its own will. settings.TWO_FACTOR_ENFORCED off, or a demo district in DEBUG
    (settings.TWO_FACTOR_OFF_FOR_*): only those who enrolled."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user_has_device(user):
        return True
    if not settings.TWO_FACTOR_ENFORCED:
        return False
    if user.is_platform_operator:
        return user.username not in settings.TWO_FACTOR_OFF_FOR_OPERATORS
    if user.tenant_id is None:
        # A region's oversight account (市/省) reads several districts' figures: asked like the operator.
        return user.username not in settings.TWO_FACTOR_OFF_FOR_OPERATORS
    if settings.TWO_FACTOR_OFF_FOR_TENANTS and user.tenant.slug in settings.TWO_FACTOR_OFF_FOR_TENANTS:
        return False
    if current_tenant_id_or_none() == user.tenant_id:
        return permissions.two_factor_required(user)
    with tenant_transaction(user.tenant_id):
        return permissions.two_factor_required(user)


# --- Passwords -----------------------------------------------------------------------------------------


def password_changed(*, user: User) -> None:
    """The person chose a new password: no change is due any more. Audited."""
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
    security_event(account=user, action="user.password_change")


def password_set_by_admin(*, account: User, actor: User) -> None:
    """An administrator set the password: the person must change it at their next sign-in. Audited."""
    User.objects.filter(pk=account.pk).update(must_change_password=True)
    account.must_change_password = True
    security_event(account=account, action="user.password_set", after={"by": actor.username})
