"""Oversight under /api/v1/oversight/ (read only): the dashboard's figures of a semester, and the report
snapshots. The same selectors and permissions as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import HasAction
from funding import selectors as funding_selectors
from funding.rowfields import SemesterField
from schools.permissions import Action

from .. import selectors
from ..models import ReportSnapshot


class DashboardQuerySerializer(serializers.Serializer):
    semester = SemesterField(
        required=False, help_text="the semester's id, or its code such as 2026-AUTUMN; default the latest"
    )


class ChartSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    headers = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(), help_text="[label, value, …]; money as strings")
    money = serializers.BooleanField()


class DashboardSerializer(serializers.Serializer):
    semester = serializers.CharField()
    previous = serializers.CharField()
    charts = ChartSerializer(many=True)


class DashboardView(APIView):
    """GET /oversight/dashboard/: the dashboard's figures (the caller's district, or their school)."""

    permission_classes = [HasAction]
    required_actions = {"get": Action.DASHBOARD_VIEW}

    @extend_schema(parameters=[DashboardQuerySerializer], responses=DashboardSerializer)
    def get(self, request):
        query = DashboardQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        semester = query.validated_data.get("semester") or funding_selectors.current_semester(user=request.user)
        if semester is None:
            return Response({"semester": "", "previous": "", "charts": []})
        return Response(DashboardSerializer(selectors.dashboard(user=request.user, semester=semester).as_json()).data)


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportSnapshot
        fields = [
            "id", "kind", "period", "period_start", "period_end", "semester", "scheduled", "generated_by",
            "created_at", "fingerprint", "figures",
        ]  # fmt: skip
        read_only_fields = fields


class SnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """The district's report snapshots (月调度、季汇总、半年通报), newest first."""

    serializer_class = SnapshotSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.REPORT_VIEW, "retrieve": Action.REPORT_VIEW}

    def get_queryset(self):
        return selectors.snapshot_list(user=self.request.user)
