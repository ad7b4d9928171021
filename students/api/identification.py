"""The identification under /api/v1/: applications with their transitions, publicity lists, objections.

The same services as the pages; a refused decision is a 400 with the message a teacher would read.
Each write operation reads its input through an input serializer and answers through an output one.
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import clock
from core.api import HasAction, RowField
from schools.permissions import Action
from schools.rowfields import SchoolField
from students.access import student_get_for_user
from students.identification import publicity, selectors, workflow
from students.models import AttachmentKind, HardshipApplication, Objection, Publicity, Tier

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
    decisions = serializers.SerializerMethodField()

    @extend_schema_field(DecisionSerializer(many=True))
    def get_decisions(self, application: HardshipApplication) -> list[dict]:
        # The story in the order it happened: a related manager has no order of its own.
        return DecisionSerializer(application.decisions.order_by("created_at", "pk"), many=True).data

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


#: A whole class, or a school's list, in one request; more is a file import's business.
MAX_BULK_ROWS = 2000


class DetailsSerializer(serializers.Serializer):
    """Input of the class evaluation (班级评议) and home visit (家访); a field left out stays as it is."""

    class_evaluation = serializers.CharField(required=False, allow_blank=True, default=None)
    visit_on = serializers.DateField(required=False, allow_null=True, default=None)
    visit_by = serializers.CharField(required=False, allow_blank=True, max_length=100, default=None)
    visit_findings = serializers.CharField(required=False, allow_blank=True, default=None)


class DetailsRowSerializer(DetailsSerializer):
    application = serializers.UUIDField()


class BulkDetailsSerializer(serializers.Serializer):
    rows = serializers.ListField(child=DetailsRowSerializer(), min_length=1, max_length=MAX_BULK_ROWS)


class VillageSerializer(serializers.Serializer):
    """Input of the village or community committee's confirmation (村委会/居委会确认)."""

    confirmed_by = serializers.CharField(max_length=100)
    confirmed_on = serializers.DateField()


class VillageRowSerializer(VillageSerializer):
    application = serializers.UUIDField()


class BulkVillageSerializer(serializers.Serializer):
    rows = serializers.ListField(child=VillageRowSerializer(), min_length=1, max_length=MAX_BULK_ROWS)


class DecideRowSerializer(DecideSerializer):
    application = serializers.UUIDField()


class BulkDecisionsSerializer(serializers.Serializer):
    rows = serializers.ListField(child=DecideRowSerializer(), min_length=1, max_length=MAX_BULK_ROWS)


class AttachSerializer(serializers.Serializer):
    """Input of a proof document (multipart): its kind and the file."""

    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField()


class BulkAttachSerializer(serializers.Serializer):
    """Input of proofs for many pupils (multipart): `application`, `kind` and `file` repeated, the n-th
    of each belonging together."""

    application = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=200)
    kind = serializers.ListField(child=serializers.ChoiceField(choices=AttachmentKind.choices), min_length=1)
    file = serializers.ListField(child=serializers.FileField(), min_length=1)

    def validate(self, attrs):
        if not len(attrs["application"]) == len(attrs["kind"]) == len(attrs["file"]):
            raise serializers.ValidationError(_("Give an application, a kind and a file for each proof."))
        return attrs


class AttachmentOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    application = serializers.UUIDField(source="application_id")
    kind = serializers.CharField()
    original_name = serializers.CharField()
    size = serializers.IntegerField()


class BulkApplicationsSerializer(serializers.Serializer):
    """Output of a bulk step: every application as it now is, in the order of the request's rows."""

    applications = ApplicationSerializer(many=True)


class BulkAttachmentsSerializer(serializers.Serializer):
    attachments = AttachmentOutSerializer(many=True)


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hardship applications the caller may see; `?status=` filters, `?status=mine` is the caller's queue."""

    permission_classes = [HasAction]
    required_actions = {
        "list": Action.APPLICATION_VIEW,
        "retrieve": Action.APPLICATION_VIEW,
        "create": Action.APPLICATION_NOMINATE,
        "decide": Action.APPLICATION_VIEW,  # which step the caller may decide is the state machine's call
        "bulk_decide": Action.APPLICATION_VIEW,
        # Each step's own permission is the service's call (the step's reviewer, on their rows).
        "details": Action.APPLICATION_VIEW,
        "village": Action.APPLICATION_VIEW,
        "attachments": Action.APPLICATION_VIEW,
        "bulk_details": Action.APPLICATION_VIEW,
        "bulk_village": Action.APPLICATION_VIEW,
        "bulk_decisions": Action.APPLICATION_VIEW,
        "bulk_attachments": Action.APPLICATION_VIEW,
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

    # --- The review steps, one application or a whole class. The bulk forms are all or nothing: a
    # refused row is a 400 naming each refused row (「第N行」) and nothing is written.

    @extend_schema(request=DetailsSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def details(self, request, pk=None):
        """Record the class evaluation and the home visit (the class teacher, in class evaluation)."""
        application = self.get_object()
        data = DetailsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = workflow.application_record_details(
            actor=request.user, application=application, **data.validated_data
        )
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=VillageSerializer, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def village(self, request, pk=None):
        """Record the village committee's confirmation (the school officer, in the school's review)."""
        application = self.get_object()
        data = VillageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.village_confirm(actor=request.user, application=application, **data.validated_data)
        return Response(ApplicationSerializer(self.get_object()).data)

    @extend_schema(request={"multipart/form-data": AttachSerializer}, responses={201: AttachmentOutSerializer})
    @action(detail=True, methods=["post"])
    def attachments(self, request, pk=None):
        """Attach a proof document (while the class or the school works on the application)."""
        application = self.get_object()
        data = AttachSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = workflow.attachment_add(
            actor=request.user,
            application=application,
            kind=data.validated_data["kind"],
            upload=data.validated_data["file"],
        )
        return Response(AttachmentOutSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BulkDetailsSerializer, responses={200: BulkApplicationsSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-details")
    def bulk_details(self, request):
        """A whole class's evaluations and home visits in one request; all recorded, or none."""
        data = BulkDetailsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            workflow.DetailsRow(application_id=row.pop("application"), **row) for row in data.validated_data["rows"]
        ]
        applications = workflow.applications_record_details_bulk(actor=request.user, rows=rows)
        return Response(BulkApplicationsSerializer({"applications": applications}).data)

    @extend_schema(request=BulkVillageSerializer, responses={200: BulkApplicationsSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-village")
    def bulk_village(self, request):
        """Many pupils' village confirmations in one request; all recorded, or none."""
        data = BulkVillageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            workflow.VillageRow(application_id=row.pop("application"), **row) for row in data.validated_data["rows"]
        ]
        applications = workflow.applications_village_confirm_bulk(actor=request.user, rows=rows)
        return Response(BulkApplicationsSerializer({"applications": applications}).data)

    @extend_schema(request=BulkDecisionsSerializer, responses={200: BulkApplicationsSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-decisions")
    def bulk_decisions(self, request):
        """A decision per pupil (each with its reason and the state the reviewer saw); all taken, or none.
        (bulk-decide is the other form: one decision for many, each that cannot move skipped.)"""
        data = BulkDecisionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            workflow.DecisionRow(application_id=row.pop("application"), **row) for row in data.validated_data["rows"]
        ]
        applications = workflow.applications_decide_rows(actor=request.user, rows=rows)
        return Response(BulkApplicationsSerializer({"applications": applications}).data)

    @extend_schema(request={"multipart/form-data": BulkAttachSerializer}, responses={201: BulkAttachmentsSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-attachments")
    def bulk_attachments(self, request):
        """Proofs for many pupils in one multipart request; all attached, or none."""
        data = BulkAttachSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rows = [
            workflow.AttachRow(application_id=pk, kind=kind, upload=upload)
            for pk, kind, upload in zip(values["application"], values["kind"], values["file"], strict=True)
        ]
        attachments = workflow.attachments_add_bulk(actor=request.user, rows=rows)
        return Response(BulkAttachmentsSerializer({"attachments": attachments}).data, status=status.HTTP_201_CREATED)


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


@extend_schema_field(OpenApiTypes.UUID)
class PublicityCreateSerializer(serializers.Serializer):
    """Input of drafting a publicity list (拟公示名单) of a school, as the page does: every application of
    the school approved by it and on no other draft goes on the list."""

    school = SchoolField()
    academic_year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text="this academic year if not given"
    )
    title = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="the usual title if empty"
    )


class ResolveSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    decision = serializers.CharField()


class PublicityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Publicity lists: draft (officer, `POST` with the school), sign (principal), publish (officer),
    record objections."""

    serializer_class = PublicitySerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.APPLICATION_VIEW,
        "retrieve": Action.APPLICATION_VIEW,
        "create": Action.PUBLICITY_MANAGE,
        "sign": Action.PUBLICITY_SIGN,
        "publish": Action.PUBLICITY_MANAGE,
        "objections": Action.PUBLICITY_MANAGE,
    }

    def get_queryset(self):
        return selectors.publicity_list(user=self.request.user).prefetch_related("entries", "objections")

    @extend_schema(request=PublicityCreateSerializer, responses={201: PublicitySerializer})
    def create(self, request):
        """Draft the school's list for the academic year; refused (400) when no application waits for it."""
        data = PublicityCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        item = publicity.publicity_create(
            actor=request.user,
            school=values["school"],
            academic_year=values.get("academic_year") or clock.current_school_year(),
            title=values["title"],
        )
        return Response(PublicitySerializer(item).data, status=status.HTTP_201_CREATED)

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
