"""Reads of the audit trail, for auditors and the district center."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import AuditChainHead, AuditEvent


def event_list(*, user: Any, action: str = "", object_type: str = "", object_id: str = "") -> QuerySet[AuditEvent]:
    """Visible audit events, newest first, optionally for one action, object type or object."""
    qs = AuditEvent.objects.visible_to(user).select_related("actor")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs.order_by("-seq")


def action_names(*, user: Any) -> list[str]:
    return list(AuditEvent.objects.visible_to(user).values_list("action", flat=True).distinct().order_by("action"))


def changes_since(*, user: Any, since: Any, limit: int = 8) -> list[dict[str, Any]]:
    """What changed since a moment: [{"action", "n"}] of the visible events from it on (as the trail's
    `since` filter reads it), the most frequent actions first. One grouped query."""
    return list(
        AuditEvent.objects.visible_to(user)
        .filter(occurred_at__gte=since)
        .order_by()
        .values("action")
        .annotate(n=Count("pk"))
        .order_by("-n", "action")[:limit]
    )


def chain_state(*, user: Any) -> dict[str, Any]:
    """The tenant's audit chain as its home page shows it: the head (last sequence number) and the
    latest verification job (its status, when, what it found)."""
    from schools.models import Job

    from .tasks import VERIFY_JOB_KIND

    head = AuditChainHead.objects.filter(tenant_id=user.tenant_id).values_list("last_seq", flat=True).first()
    verified = Job.objects.visible_to(user).filter(kind=VERIFY_JOB_KIND).order_by("-created_at", "-pk").first()
    return {"last_seq": head or 0, "verified": verified}
