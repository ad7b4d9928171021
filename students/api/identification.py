"""The identification under /api/v1/: applications with their transitions, publicity lists, objections.

The same services as the pages; a refused decision is a 400 with the message a teacher would read.
Each write operation reads its input through an input serializer and answers through an output one.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import clock
from core.api import HasAction, RowField
from schools.permissions import Action
from students.access import student_get_for_user
from students.identification import publicity, selectors, workflow
from students.models import HardshipApplication, Objection, Publicity, Tier

DECISIONS = ["approve", "return", "reject", "withdraw"]


class DecisionSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()

    class Meta:
        model = HardshipApplication.decisions.rel.related_model
        fields = ["decision", "from_status", "to_status", "tier", "reason", "actor", "created_at"]


class ApplicationSerializer(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student.name", read_only=True)

    class Meta:
        model = HardshipApplication
        fields = [
            "id", "student", "student_name", "school", "grade", "klass", "academic_year", "status",
            "proposed_tier", "categories", "suggested_tier", "suggestion_reason", "tier", "family_situation",
            "visit_on", "visit_by", "visit_findings", "class_evaluation", "village_confirmed_by",
            "village_confirmed_on", "materials_complete", "identified_on",
        ]  # fmt: skip
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSerializer):
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "decisions"]
        read_only_fields = fields


class NominateSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    proposed_tier = serializers.ChoiceField(
        choices=Tier.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Leave empty to take the special category's tier (refused when no special category applies).",
    )
    academic_year = serializers.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="The school year's first year; default: the current one.",
    )
    family_situation = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    visit_on = serializers.DateField(required=False, allow_null=True, default=None)
    visit_by = serializers.CharField(required=False, allow_blank=True, default="")
    visit_findings = serializers.CharField(required=False, allow_blank=True, default="")


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    expected_status = serializers.CharField(required=False, allow_null=True, default=None)
    tier = serializers.ChoiceField(choices=[("", ""), *Tier.choices], required=False, default="")


class BulkDecideSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), max_length=2000)
    decision = serializers.ChoiceField(choices=DECISIONS[:3])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SkippedApplicationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField()


class BulkOutcomeSerializer(serializers.Serializer):
    moved = serializers.ListField(child=serializers.UUIDField())
    skipped = SkippedApplicationSerializer(many=True)


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hardship applications the caller may see; `?status=` filters, `?status=mine` is the caller's queue."""

    permission_classes = [HasAction]
    required_actions = {
        "list": Action.APPLICATION_VIEW,
        "retrieve": Action.APPLICATION_VIEW,
        "create": Action.APPLICATION_NOMINATE,
        "decide": Action.APPLICATION_VIEW,  # which step the caller may decide is the state machine's call
        "bulk_decide": Action.APPLICATION_VIEW,
    }

    def get_serializer_class(self):
        return ApplicationDetailSerializer if self.action == "retrieve" else ApplicationSerializer

    def get_queryset(self):
        wanted = self.request.query_params.get("status", "")
        if wanted == "mine":
            return selectors.waiting_for(user=self.request.user)
        return selectors.application_list(user=self.request.user, status=wanted)

    @extend_schema(request=NominateSerializer, responses={201: ApplicationSerializer})
    def create(self, request):
        """Nominate a student of the caller's class for a school year (the current one unless given)."""
        data = NominateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        student = student_get_for_user(user=request.user, pk=values.pop("student"), action=Action.APPLICATION_NOMINATE)
        academic_year = values.pop("academic_year", None) or clock.current_school_year()
        application = workflow.application_nominate(
            actor=request.user,
            student=student,
            academic_year=academic_year,
            data=workflow.Nomination(**values),
        )
        return Response(ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecideSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve, return, reject or withdraw at the application's current step."""
        application = self.get_object()
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = workflow.application_decide(
            actor=request.user, application_id=application.pk, **data.validated_data
        )
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=BulkDecideSerializer, responses={200: BulkOutcomeSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-decide")
    def bulk_decide(self, request):
        """The same decision on many applications; each that cannot move is listed with the reason."""
        data = BulkDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = workflow.applications_decide(
            actor=request.user,
            application_ids=data.validated_data["ids"],
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
        )
        skipped = [{"id": pk, "reason": why} for pk, why in outcome.skipped]
        return Response(BulkOutcomeSerializer({"moved": outcome.moved, "skipped": skipped}).data)


class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objection
        fields = ["id", "application", "received_on", "raised_by", "channel", "content", "status", "decision"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.UUID)
class ApplicationField(RowField):
    """An application the caller may see, by its id: one of another school or tenant is "not found"."""

    def resolve(self, *, user, text):
        try:
            pk = uuid.UUID(text)
        except ValueError:
            return None
        return selectors.application_list(user=user).filter(pk=pk).first()


class ObjectionRecordSerializer(serializers.Serializer):
    """Input of recording an objection: who raised it, when, how, what, and about whom if they said."""

    application = ApplicationField(required=False, allow_null=True, default=None)
    received_on = serializers.DateField()
    raised_by = serializers.CharField(max_length=100)
    channel = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    content = serializers.CharField()


class PublicitySerializer(serializers.ModelSerializer):
    objections = ObjectionSerializer(many=True, read_only=True)
    applications = serializers.SerializerMethodField()

    class Meta:
        model = Publicity
        fields = [
            "id", "school", "academic_year", "title", "status", "working_days", "starts_on", "ends_on",
            "notice_token", "applications", "objections",
        ]  # fmt: skip

    def get_applications(self, obj) -> list[str]:
        return [str(e.application_id) for e in obj.entries.all() if not e.withdrawn]


class ResolveSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    decision = serializers.CharField()


class PublicityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Publicity lists: sign (principal), publish (officer), record objections."""

    serializer_class = PublicitySerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.APPLICATION_VIEW,
        "retrieve": Action.APPLICATION_VIEW,
        "sign": Action.PUBLICITY_SIGN,
        "publish": Action.PUBLICITY_MANAGE,
        "objections": Action.PUBLICITY_MANAGE,
    }

    def get_queryset(self):
        return selectors.publicity_list(user=self.request.user).prefetch_related("entries", "objections")

    @extend_schema(request=None, responses=PublicitySerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        item = publicity.publicity_sign(actor=request.user, publicity=self.get_object())
        return Response(PublicitySerializer(item).data)

    @extend_schema(request=None, responses=PublicitySerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        item = publicity.publicity_publish(actor=request.user, publicity=self.get_object())
        return Response(PublicitySerializer(item).data)

    @extend_schema(request=ObjectionRecordSerializer, responses={201: ObjectionSerializer})
    @action(detail=True, methods=["post"])
    def objections(self, request, pk=None):
        item = self.get_object()
        data = ObjectionRecordSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        objection = publicity.objection_record(actor=request.user, publicity=item, **data.validated_data)
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)


class ObjectionViewSet(viewsets.GenericViewSet):
    """Answer an objection (upheld: the student leaves the list and goes back to the school's review)."""

    serializer_class = ObjectionSerializer
    permission_classes = [HasAction]
    required_actions = {"resolve": Action.PUBLICITY_MANAGE}

    def get_queryset(self):
        return Objection.objects.visible_to(self.request.user)

    @extend_schema(request=ResolveSerializer, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        objection = self.get_object()
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = publicity.objection_resolve(actor=request.user, objection=objection, **data.validated_data)
        return Response(ObjectionSerializer(objection).data)
