from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import HasAction
from schools.permissions import Action
from students.models import Student
from students.selectors import StudentFilter, student_list
from students.services import REVEALABLE, student_reveal


@extend_schema_field(OpenApiTypes.STR)
class MaskedField(serializers.Field):
    """A personal number in its masked form (the full form only through `reveal`)."""

    def to_representation(self, value):
        return str(value) if value else ""


class StudentSerializer(serializers.ModelSerializer):
    id_number = MaskedField(read_only=True)

    class Meta:
        model = Student
        fields = [
            "id",
            "name",
            "id_number",
            "student_no",
            "gender",
            "birth_date",
            "school",
            "grade",
            "klass",
            "enrollment_status",
            "is_boarding",
            "hukou",
            "township",
            "village",
        ]


class RevealQuerySerializer(serializers.Serializer):
    """Input of revealing a personal number: which one (the query's `field`)."""

    field = serializers.ChoiceField(choices=sorted(REVEALABLE), default="id_number")


class RevealedSerializer(serializers.Serializer):
    """Output of revealing a personal number: the field and its full value."""

    field = serializers.CharField()
    value = serializers.CharField()


class StudentViewSet(viewsets.ReadOnlyModelViewSet):
    """Students the caller's role reaches, with ID numbers masked."""

    serializer_class = StudentSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.STUDENT_VIEW,
        "retrieve": Action.STUDENT_VIEW,
        "reveal": Action.STUDENT_VIEW_PII,
    }

    def get_queryset(self):
        params = self.request.query_params
        filters = StudentFilter(
            school_id=params.get("school") or None,
            klass_id=params.get("klass") or None,
            status=params.get("status", ""),
            q=params.get("q", ""),
        )
        return student_list(user=self.request.user, filters=filters)

    @extend_schema(parameters=[RevealQuerySerializer], request=None, responses=RevealedSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """The full value of a personal number; the view is written to the audit trail."""
        student = self.get_object()
        query = RevealQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        field = query.validated_data["field"]
        value = student_reveal(student=student, field=field, actor=request.user)
        return Response(RevealedSerializer({"field": field, "value": value}).data)
