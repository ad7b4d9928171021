"""Reads of the door: one's sessions and tokens, the accounts an administrator keeps (locked or not,
enrolled or not), each list in one query."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools import permissions
from schools.models import SignIn, Tenant, User


def sign_in_list(*, user: Any) -> QuerySet[SignIn]:
    """The person's sessions still alive (not ended, used within the idle time, younger than the
    absolute lifetime), newest first."""
    now = timezone.now()
    return SignIn.objects.filter(
        user=user,
        ended_at__isnull=True,
        last_seen_at__gte=now - settings.SESSION_IDLE_MINUTES * timezone.timedelta(minutes=1),
        created_at__gte=now - settings.SESSION_ABSOLUTE_HOURS * timezone.timedelta(hours=1),
    ).order_by("-created_at", "-pk")


def account_security_list(*, user: Any) -> QuerySet[User]:
    """The accounts `user` may unlock or reset (their district's, for the tenant administrator; tenant
    administrators, for the platform operator), each with its recent failures (`failures`, `locked`)
    and whether it has an authenticator (`enrolled`)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = (
        AccessAttempt.objects.filter(username=OuterRef("username"), attempt_time__gte=since)
        .values("username")
        .annotate(n=Sum("failures_since_start"))
        .values("n")
    )
    if permissions.is_platform_operator(user):
        admins = set().union(*(permissions.tenant_admin_ids(pk) for pk in Tenant.objects.values_list("pk", flat=True)))
        accounts = User.objects.filter(pk__in=admins)
    else:
        accounts = User.objects.visible_to(user, permissions.Action.ACCOUNT_UNLOCK).filter(is_system=False)
    return accounts.annotate(
        failures=Coalesce(Subquery(failures, output_field=IntegerField()), Value(0)),
        enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
    ).order_by("username", "pk")


def is_locked(failures: int) -> bool:
    return failures >= settings.AXES_FAILURE_LIMIT
