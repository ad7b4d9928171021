"""The audit trail under /api/v1/audit-events/: read-only, for those who may read the trail (auditors,
the district center), newest first, page by page with a cursor, filtered by date, object and action."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, viewsets
from rest_framework.pagination import CursorPagination

from audits.models import AuditEvent
from audits.selectors import event_list
from core.api import HasAction
from schools.permissions import Action


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor_label",
            "source",
            "action",
            "object_type",
            "object_id",
            "before",
            "after",
            "reason",
            "hash",
        ]


class AuditEventFilter(filters.FilterSet):
    """`occurred_at_after` / `occurred_at_before`: a range of days (both included, in the district's time
    zone); `object_type` and `object_id`: one object's history (`object_id` alone: any type with that id);
    `action`: one kind of event. Codes are matched exactly, as they are stored."""

    occurred_at = filters.DateFromToRangeFilter(label="occurred between these days (both included)")
    action = filters.CharFilter(max_length=64)
    object_type = filters.CharFilter(max_length=100)
    object_id = filters.CharFilter(max_length=64)

    class Meta:
        model = AuditEvent
        fields = ["occurred_at", "action", "object_type", "object_id"]


class AuditEventPagination(CursorPagination):
    """Newest first by the tenant's chain position (`seq`, unique per tenant): the unique index on
    (tenant, seq) serves each page, and a page costs the same at the end of the trail as at its start.
    Page numbers made every page count the whole trail and skip all the rows before it (OFFSET): reading
    95,730 events took 9 minutes (docs/benchmarks.md, "Audit events through the API")."""

    ordering = "-seq"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The district's audit trail, newest first (auditors and the district center). Follow `next` to read
    on; filter by `occurred_at_after`/`occurred_at_before` (days), `object_type`, `object_id`, `action`."""

    serializer_class = AuditEventSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.AUDIT_VIEW}
    pagination_class = AuditEventPagination
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return event_list(user=self.request.user)
