"""Funding under /api/v1/: programs, semesters and awards, read-only; the same selectors and
permissions as the pages. (Correcting an award is the disbursements app's: `award-correct`.)"""

from __future__ import annotations

from rest_framework import serializers, viewsets

from core.api import HasAction
from schools.permissions import Action

from .. import selectors
from ..models import Award, Program, Semester


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
    """Awards the caller may see; `?semester=`, `?program=`, `?status=` filter."""

    serializer_class = AwardSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.FUNDING_VIEW,
        "retrieve": Action.FUNDING_VIEW,
    }
    filterset_fields = ["semester", "program", "status", "school"]

    def get_queryset(self):
        return (
            Award.objects.visible_to(self.request.user)
            .select_related("student")
            .order_by("school_id", "student__name", "pk")
        )
