"""What the audit trail tells its readers on their home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.worklist import WorkItem
from schools import permissions
from schools.permissions import Action

from .models import AuditEvent


def audit_items(user: Any) -> list[WorkItem]:
    if not permissions.can(user, Action.AUDIT_VIEW):
        return []
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = AuditEvent.objects.visible_to(user).filter(occurred_at__gte=since).count()
    views = AuditEvent.objects.visible_to(user).filter(occurred_at__gte=since, action="pii.view").count()
    today_url = reverse("audits:list") + "?" + urlencode({"since": since.isoformat()})
    items = [WorkItem(label=_("Changes recorded today"), count=today, url=today_url, kind="info")]
    if views:
        items.append(
            WorkItem(
                label=_("Full ID numbers viewed today"),
                count=views,
                url=reverse("audits:list") + "?" + urlencode({"action": "pii.view", "since": since.isoformat()}),
                kind="info",
            )
        )
    return items
