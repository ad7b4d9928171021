"""Funding under /api/v1/: programs, semesters and awards (read-only), and award lists (资助名单) with
what the pages do to them: build, publish (公示), approve; the same services, selectors and permissions
as the pages. (Correcting an award is the disbursements app's: `award-correct`.)

Each write operation reads its input through an input serializer and answers through an output one;
a service's refusal is core.api's 400."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import HasAction, RowField
from schools.permissions import Action
from schools.selectors import school_list

from .. import selectors
from ..models import Award, AwardList, Program, Semester
from ..services import awards


class ProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = [
            "id", "code", "name", "stages", "source", "payment_method", "requires_identification", "eligible_tiers",
            "eligible_categories", "rural_schools_only", "boarders_only", "is_emergency", "is_active",
        ]  # fmt: skip


class SemesterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Semester
        fields = ["id", "academic_year", "term", "starts_on", "ends_on", "deadline", "reopened_until"]


class AwardSerializer(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student.name", read_only=True)

    class Meta:
        model = Award
        fields = [
            "id", "program", "semester", "student", "student_name", "school", "klass", "tier", "amount", "status",
            "reason", "status_reason", "added_late",
        ]  # fmt: skip


class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProgramSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.FUNDING_VIEW, "retrieve": Action.FUNDING_VIEW}

    def get_queryset(self):
        return selectors.program_list(user=self.request.user)


class SemesterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SemesterSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.FUNDING_VIEW, "retrieve": Action.FUNDING_VIEW}

    def get_queryset(self):
        return selectors.semester_list(user=self.request.user)


class AwardViewSet(viewsets.ReadOnlyModelViewSet):
    """Awards the caller may see; `?semester=`, `?program=`, `?status=`, `?school=`, `?award_list=` filter."""

    serializer_class = AwardSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.FUNDING_VIEW,
        "retrieve": Action.FUNDING_VIEW,
    }
    filterset_fields = ["semester", "program", "status", "school", "award_list"]

    def get_queryset(self):
        return (
            Award.objects.visible_to(self.request.user)
            .select_related("student")
            .order_by("school_id", "student__name", "pk")
        )


class SemesterField(RowField):
    """A semester the caller may see, by its id or its code (2026-AUTUMN): another tenant's is "not found"."""

    def resolve(self, *, user, text):
        return selectors.semester_by_code(user=user, code=text)


class ProgramField(RowField):
    """An active program of the caller's district, by its id or its code (LIVING_SUBSIDY)."""

    def resolve(self, *, user, text):
        programs = selectors.program_list(user=user)
        try:
            return programs.filter(pk=uuid.UUID(text)).first()
        except ValueError:
            return programs.filter(code=text).first()


@extend_schema_field(OpenApiTypes.UUID)
class SchoolField(RowField):
    """A school the caller may see, by its id: another tenant's, or one outside the caller's units, is
    "not found"."""

    def resolve(self, *, user, text):
        try:
            pk = uuid.UUID(text)
        except ValueError:
            return None
        return school_list(user=user).filter(pk=pk).first()


class AwardListSerializer(serializers.ModelSerializer):
    """A list with its counts and the total of its live awards (the selector's sums)."""

    proposed = serializers.IntegerField(read_only=True)
    approved = serializers.IntegerField(read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = AwardList
        fields = [
            "id", "program", "semester", "school", "status", "starts_on", "ends_on", "notice_token", "proposed",
            "approved", "total",
        ]  # fmt: skip
        read_only_fields = fields


class AwardListBuildSerializer(serializers.Serializer):
    """Input of building a school's list for a program and semester, as the page does: everyone eligible
    and not yet on it is proposed (on an approved list: the omissions, published and approved again)."""

    semester = SemesterField(help_text="the semester's id, or its code such as 2026-AUTUMN")
    program = ProgramField(help_text="the program's id, or its code such as LIVING_SUBSIDY")
    school = SchoolField()


class AwardListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Award lists the caller may see; `?semester=`, `?program=`, `?school=`, `?status=` filter. Build one
    (`POST`, the school's officer), publish it (the officer), approve it after its publicity (the district).
    Its awards: `/awards/?award_list=`."""

    serializer_class = AwardListSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.FUNDING_VIEW,
        "retrieve": Action.FUNDING_VIEW,
        "create": Action.AWARD_PREPARE,
        "publish": Action.AWARD_PREPARE,
        "approve": Action.AWARD_APPROVE,
    }
    filterset_fields = ["semester", "program", "school", "status"]

    def get_queryset(self):
        return selectors.award_list_list(user=self.request.user)

    def _answer(self, award_list: AwardList) -> Response:
        """The list as the list endpoint shows it (with its counts and total, read again after the change)."""
        return Response(AwardListSerializer(self.get_queryset().get(pk=award_list.pk)).data)

    @extend_schema(request=AwardListBuildSerializer, responses={200: AwardListSerializer})
    def create(self, request):
        """Build (or complete) the school's list: 200 with the list, new or not."""
        data = AwardListBuildSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self._answer(awards.award_list_build(actor=request.user, **data.validated_data))

    @extend_schema(request=None, responses=AwardListSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """公示: publish the draft list for the district's number of working days from today."""
        return self._answer(awards.award_list_publish(actor=request.user, award_list=self.get_object()))

    @extend_schema(request=None, responses=AwardListSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a published list after its period, within the school's budget."""
        return self._answer(awards.award_list_approve(actor=request.user, award_list=self.get_object()))
