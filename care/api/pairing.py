"""1+1 pairing under /api/v1/care/: pairings (list; pair a teacher with pupils in one call), home visits
(list; a paired teacher records one), risk flags (list; set one). The pages' services and permissions;
a service's refusal is core.api's 400."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import HasAction, RowField
from schools.permissions import Action
from students.access import student_get_for_user
from students.models import HomeVisit

from ..models import Pairing, RiskFlag, RiskKind
from ..pairing import selectors, services


class TeacherField(RowField):
    def resolve(self, *, user, text):
        return selectors.teacher_for(user=user, text=text)


class PairedPupilField(RowField):
    def resolve(self, *, user, text):
        return selectors.paired_student_for(user=user, pk=text)


class VisiblePupilField(RowField):
    def resolve(self, *, user, text):
        from django.http import Http404

        try:
            return student_get_for_user(user=user, pk=text)
        except Http404:
            return None


class PairingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pairing
        fields = ["id", "student", "school", "klass", "teacher", "started_on", "ended_on", "assigned_by"]


class PairingInputSerializer(serializers.Serializer):
    """Pair one teacher with the pupils named (their earlier pairings with another teacher end)."""

    teacher = TeacherField(help_text="the teacher's account id")
    students = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=2000)


class PairingResultSerializer(serializers.Serializer):
    paired = serializers.IntegerField()
    ended = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    teacher_total = serializers.IntegerField()
    over_limit = serializers.BooleanField()


class PairingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """结对帮扶: the pairings the caller sees; POST pairs a teacher with pupils (set-based, all or nothing)."""

    serializer_class = PairingSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.CARE_VIEW, "create": Action.PAIRING_MANAGE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a signed-in user
            return Pairing.objects.visible_to(self.request.user)
        return selectors.pairing_list(user=self.request.user)

    @extend_schema(request=PairingInputSerializer, responses={201: PairingResultSerializer})
    def create(self, request):
        data = PairingInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.pairing_assign(actor=request.user, teacher=values["teacher"], student_ids=values["students"])
        return Response(PairingResultSerializer(result).data, status=status.HTTP_201_CREATED)


class VisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = HomeVisit
        fields = [
            "id", "student", "purpose", "application", "visited_on", "visitor", "visitor_name", "met",
            "situation", "needs", "follow_ups", "next_due_on",
        ]  # fmt: skip


class VisitInputSerializer(serializers.Serializer):
    """A paired teacher's visit: not in the future; the next one due on a date, or after the usual interval."""

    student = PairedPupilField(help_text="a pupil paired with the caller")
    visited_on = serializers.DateField()
    met = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    situation = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    needs = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    follow_ups = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    next_due_on = serializers.DateField(required=False, allow_null=True, default=None)


class VisitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """家访/走访: the visits the caller sees or made; POST records a paired teacher's visit."""

    serializer_class = VisitSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.CARE_VIEW, "create": Action.VISIT_RECORD}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a signed-in user
            return HomeVisit.objects.visible_to(self.request.user)
        return selectors.visit_list(user=self.request.user)

    @extend_schema(request=VisitInputSerializer, responses={201: VisitSerializer})
    def create(self, request):
        data = VisitInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        visit = services.pairing_visit_record(actor=request.user, **data.validated_data)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class RiskFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskFlag
        fields = ["id", "student", "kind", "note", "set_by"]


class RiskFlagInputSerializer(serializers.Serializer):
    student = VisiblePupilField(help_text="a pupil the caller sees")
    kind = serializers.ChoiceField(choices=RiskKind.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RiskFlagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Risk flags of the watch list (重点关注): list; POST sets one (again: changes its note)."""

    serializer_class = RiskFlagSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.CARE_VIEW, "create": Action.RISK_FLAG_SET}

    def get_queryset(self):
        return RiskFlag.objects.visible_to(self.request.user).order_by("student_id", "kind", "pk")

    @extend_schema(request=RiskFlagInputSerializer, responses={201: RiskFlagSerializer})
    def create(self, request):
        data = RiskFlagInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        flag = services.risk_flag_set(actor=request.user, **data.validated_data)
        return Response(RiskFlagSerializer(flag).data, status=status.HTTP_201_CREATED)
