"""Helpers for the door's tests (tests/test_door_*.py): the door switched on as in production, a
client that passed the second factor, the code an authenticator app would show now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction


def door_on(settings) -> Iterator[Any]:
    """Lockout and the second factor on (the rest of the suite runs with them off: settings_test).
    Each door test module makes it its `door` fixture."""
    settings.AXES_ENABLED = True
    settings.TWO_FACTOR_ENFORCED = True
    cache.clear()  # throttle counts of earlier tests (the cache is this run's Redis database)
    yield settings
    cache.clear()


def totp_now(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The six digits the authenticator app of `device` shows (computed from its key, as the app does)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> TOTPDevice:
    """A confirmed authenticator for `user`."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def verified_client(user) -> Client:
    """A client signed in as `user` whose session passed the second factor (an authenticator is
    enrolled for it if it has none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrolled(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def events(tenant, action: str, user=None) -> list[AuditEvent]:
    """The tenant's audit events of `action` (about `user`, if given), oldest first."""
    with tenant_transaction(tenant.pk):
        rows = AuditEvent.objects.filter(action=action)
        if user is not None:
            rows = rows.filter(object_id=str(user.pk))
        return list(rows.order_by("seq"))
