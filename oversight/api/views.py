"""Oversight under /api/v1/oversight/ (read only): the dashboard's figures of a semester, and the report
snapshots. The same selectors and permissions as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import HasAction
from funding import selectors as funding_selectors
from funding.rowfields import SemesterField
from schools.permissions import Action

from .. import selectors
from ..models import ReportSnapshot
from ..region import selectors as region_selectors
from ..region import services as region_services


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


class RegionQuerySerializer(serializers.Serializer):
    semester = serializers.CharField(
        required=False, help_text="the semester's code such as 2026-AUTUMN; default the latest"
    )


class RegionSerializer(DashboardSerializer):
    region = serializers.CharField()
    districts = serializers.ListField(child=serializers.CharField())
    semesters = serializers.ListField(child=serializers.CharField(), help_text="the codes with figures, newest first")


class RegionView(APIView):
    """GET /oversight/region/: a region account's figures of its districts (市/省), per district and
    program; counts and money only, never a pupil. Audited in each district's trail."""

    permission_classes = [HasAction]
    required_actions = {"get": Action.REGION_VIEW}

    @extend_schema(parameters=[RegionQuerySerializer], responses=RegionSerializer)
    def get(self, request):
        query = RegionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = region_selectors.region_of(user=request.user)
        districts = region_selectors.region_districts(user=request.user)
        codes = region_selectors.region_semesters(user=request.user)
        code = query.validated_data.get("semester") or (codes[0] if codes else "")
        if code and code not in codes:
            raise NotFound
        out = {"region": region.name, "districts": [d.name for d in districts], "semesters": codes}
        if not code:
            return Response(RegionSerializer({**out, "semester": "", "previous": "", "charts": []}).data)
        board = region_selectors.region_board(user=request.user, semester_code=code)
        region_services.region_view_record(
            user=request.user, region=region, district_ids=[d.pk for d in districts], semester_code=code, form="api"
        )
        return Response(RegionSerializer({**out, **board.as_json()}).data)
