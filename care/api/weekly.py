"""The weekly return (每周按时填报) under /api/v1/care/weekly-returns/: list and read the returns the
caller sees (scoped as the pages), and submit the school's return of a week. The same service and
permissions as the pages; a refusal (a second submit, a future week) is core.api's 400."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import HasAction, RowField
from schools.permissions import Action

from ..models import WeeklyReturn
from ..weekly import selectors, services


class SubmittingSchoolField(RowField):
    """A school the caller files returns for (another school, or another tenant's: "not found")."""

    def resolve(self, *, user, text):
        return selectors.school_for_submit(user=user, text=text)


class WeeklyReturnSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklyReturn
        fields = [
            "id", "school", "week_start", "status", "due_on", "dropouts", "suspected", "notes", "is_late",
            "submitted_by", "submitted_at", "reminded_at",
        ]  # fmt: skip


class WeeklyReturnInputSerializer(serializers.Serializer):
    """Submit a week's return. The counts are the cases' (computed by the service); `expected_*` are the
    counts the client showed its user: if given and the cases moved meanwhile, nothing is filed."""

    school = SubmittingSchoolField(help_text="the school's id")
    week = serializers.DateField(help_text="any day of the week (its Monday is the week)")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    expected_dropouts = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    expected_suspected = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)


class WeeklyReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Weekly returns of dropouts and suspected dropouts, one per school and week."""

    serializer_class = WeeklyReturnSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.WEEKLY_RETURN_VIEW,
        "retrieve": Action.WEEKLY_RETURN_VIEW,
        "create": Action.WEEKLY_RETURN_SUBMIT,
    }
    filterset_fields = ["school", "week_start", "status"]

    def get_queryset(self):
        return selectors.return_list(user=self.request.user)

    @extend_schema(request=WeeklyReturnInputSerializer, responses={201: WeeklyReturnSerializer})
    def create(self, request):
        data = WeeklyReturnInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        expected = (values["expected_dropouts"], values["expected_suspected"])
        weekly = services.weekly_return_submit(
            actor=request.user,
            school=values["school"],
            day=values["week"],
            notes=values["notes"],
            expected=None if None in expected else expected,
        )
        return Response(WeeklyReturnSerializer(weekly).data, status=status.HTTP_201_CREATED)
