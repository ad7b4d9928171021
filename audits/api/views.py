from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

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


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The district's audit trail, newest first (auditors and the district center); filter with
    `?action=` and `?object=<id>`."""

    serializer_class = AuditEventSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.AUDIT_VIEW}

    def get_queryset(self):
        params = self.request.query_params
        return event_list(user=self.request.user, action=params.get("action", ""), object_id=params.get("object", ""))
