"""Reads of the audit trail, for auditors and the district center."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import AuditEvent


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
