"""Dropout control under /api/v1/care/: the class's day of absences, the cases, their steps and chiefs.
The same services and permissions as the pages; a service's refusal is core.api's 400."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import HasAction, RowField
from schools.permissions import Action

from .. import selectors, services
from ..models import AbsenceReason, CaseResponsible, CaseStep, ChiefRole, DropoutCase, NoticeLevel, Placement, StepKind


class ClassField(RowField):
    def resolve(self, *, user, text):
        return selectors.class_for_user(user=user, text=text)


class AccountField(RowField):
    def resolve(self, *, user, text):
        return selectors.account_of_tenant(user=user, text=text)


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseStep
        fields = ["id", "kind", "done_on", "notes", "next_on", "notice_level", "from_status", "to_status", "actor"]


class ResponsibleSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()

    class Meta:
        model = CaseResponsible
        fields = ["id", "role", "name", "phone", "user"]

    def get_phone(self, row: CaseResponsible) -> str:
        return row.phone.masked if row.phone else ""


class CaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = DropoutCase
        fields = [
            "id", "student", "school", "grade", "klass", "status", "opened_on", "last_absent_on", "absent_days",
            "school_notice_on", "home_visit_due_on", "suspected_on", "decided_on", "placement", "close_reason",
        ]  # fmt: skip


class AbsenceRowSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=AbsenceReason.choices)


class AttendanceInputSerializer(serializers.Serializer):
    """Input of recording a class's day: the absent pupils only (everyone else was present)."""

    klass = ClassField(help_text="the class's id")
    day = serializers.DateField()
    absences = AbsenceRowSerializer(many=True, allow_empty=True)


class AttendanceResultSerializer(serializers.Serializer):
    absent = serializers.IntegerField()
    opened = serializers.IntegerField()
    extended = serializers.IntegerField()
    suspected = serializers.IntegerField()
    returned = serializers.IntegerField()


class AttendanceRecordView(generics.GenericAPIView):
    """POST /care/attendance/: a class teacher records the day's absences of their class in one call."""

    permission_classes = [HasAction]
    required_actions = {"post": Action.ATTENDANCE_RECORD}
    serializer_class = AttendanceInputSerializer

    @extend_schema(request=AttendanceInputSerializer, responses={201: AttendanceResultSerializer})
    def post(self, request):
        data = AttendanceInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        absences = {row["student"]: row["reason"] for row in values["absences"]}
        result = services.attendance_record(
            actor=request.user, klass=values["klass"], day=values["day"], absences=absences
        )
        return Response(AttendanceResultSerializer(result).data, status=status.HTTP_201_CREATED)


class TransitionInputSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(services.TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    placement = serializers.ChoiceField(choices=Placement.choices, required=False, allow_blank=True, default="")
    expected_status = serializers.CharField(required=False, allow_null=True, default=None)


class StepInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(k, v) for k, v in StepKind.choices if k != StepKind.STATUS])
    done_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    next_on = serializers.DateField(required=False, allow_null=True, default=None)
    notice_level = serializers.ChoiceField(choices=NoticeLevel.choices, required=False, allow_null=True, default=None)


class ResponsibleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ChiefRole.choices)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    user = AccountField(required=False, allow_null=True, default=None, help_text="an account of the district")


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Dropout cases (控辍保学个案): read, move one step, record what was done, name the six chiefs."""

    serializer_class = CaseSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.CARE_VIEW,
        "retrieve": Action.CARE_VIEW,
        "transition": Action.CASE_DECIDE,
        "steps": Action.CASE_STEP,
        "responsibles": Action.CASE_DECIDE,
    }

    def get_queryset(self):
        return DropoutCase.objects.visible_to(self.request.user).order_by("-last_absent_on", "pk")

    @extend_schema(request=TransitionInputSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        case = self.get_object()
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_transition(actor=request.user, case=case, **data.validated_data)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=StepInputSerializer, responses={201: StepSerializer})
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        case = self.get_object()
        data = StepInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = services.case_step_record(actor=request.user, case=case, **data.validated_data)
        return Response(StepSerializer(step).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResponsibleInputSerializer, responses={201: ResponsibleSerializer})
    @action(detail=True, methods=["post"])
    def responsibles(self, request, pk=None):
        case = self.get_object()
        data = ResponsibleInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        row = services.case_responsible_set(actor=request.user, case=case, **data.validated_data)
        return Response(ResponsibleSerializer(row).data, status=status.HTTP_201_CREATED)
