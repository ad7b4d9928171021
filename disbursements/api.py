"""The money under /api/v1/: corrections of awards, batches (build, release, the payment roster,
the bank's return), corrections and recoveries. The same services and permissions as the pages.

Each write operation reads its input through its own input serializer and answers through an output
serializer; malformed input is DRF's 400 with field errors, a service's refusal core.api's 400."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api import HasAction
from funding.models import Award, FundingSource
from funding.rowfields import SemesterField
from schools.permissions import Action
from schools.serializers import JobSerializer

from .models import Batch, BatchKind, Correction, PaymentLine, Recovery
from .services import batches, corrections, exports, returns


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Batch
        fields = ["id", "semester", "number", "kind", "status", "released_at"]


class LineSerializer(serializers.ModelSerializer):
    account = serializers.SerializerMethodField()

    class Meta:
        model = PaymentLine
        fields = [
            "id", "award", "student", "school", "program", "amount", "source", "bank", "account", "holder", "status",
            "return_file", "bank_code", "bank_message", "removed_reason",
        ]  # fmt: skip

    def get_account(self, line: PaymentLine) -> str:
        return str(line.account)  # masked: the full number only in the payment roster (audited)


class CorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Correction
        fields = [
            "id",
            "kind",
            "award",
            "line",
            "reverses",
            "amount",
            "reason",
            "evidence",
            "status",
            "decision_reason",
        ]


class RecoverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Recovery
        fields = ["id", "correction", "line", "amount", "recovered_amount", "status", "note"]


class BatchBuildSerializer(serializers.Serializer):
    """Input of building a batch."""

    semester = SemesterField(help_text="the semester's id, or its code such as 2026-AUTUMN")
    kind = serializers.ChoiceField(choices=BatchKind.choices)


class RosterQuerySerializer(serializers.Serializer):
    """The payment roster's query, as the page's export and `manage.py export_payments` take it: the
    file's type, and the lines of one bank (in that bank's layout) or one funding source only if given."""

    format = serializers.ChoiceField(
        choices=[f.value for f in exports.RosterFormat], default="xlsx", help_text="the file's type"
    )
    bank = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=50,
        help_text="only the lines paid through this bank, in the layout configured for it; "
        "all banks (in the default layout) if empty",
    )
    source = serializers.ChoiceField(
        choices=FundingSource.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="only the lines of this funding source",
    )


#: The roster's media types, by its `format`.
ROSTER_MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


class FileTypeNegotiation(DefaultContentNegotiation):
    """`?format=` names the file's type here (xlsx, csv), not a renderer: DRF's URL_FORMAT_OVERRIDE
    answered 404 to `?format=csv`. The file is sent whatever the Accept header says (a client asking
    for `text/csv` was answered 406); an error is rendered as JSON unless Accept names another renderer."""

    def filter_renderers(self, renderers, format):
        return renderers

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class BankReturnUploadSerializer(serializers.Serializer):
    """Input of importing the bank's return."""

    file = serializers.FileField(help_text="the bank's return file, CSV or xlsx")


class BankReturnResultSerializer(serializers.Serializer):
    """Output of importing the bank's return: one sentence for the person who imported it."""

    detail = serializers.CharField()


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Disbursement batches: build (`POST` with semester and kind), release, the roster, the return."""

    serializer_class = BatchSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.FUNDING_VIEW,
        "retrieve": Action.FUNDING_VIEW,
        "create": Action.BATCH_MANAGE,
        "release": Action.BATCH_MANAGE,
        "lines": Action.FUNDING_VIEW,
        "roster": Action.BATCH_MANAGE,
        "bank_return": Action.BATCH_MANAGE,
    }

    def get_queryset(self):
        return Batch.objects.visible_to(self.request.user).order_by("semester_id", "number")

    @extend_schema(request=BatchBuildSerializer, responses={202: JobSerializer})
    def create(self, request):
        """Build a batch: a background job, as on the page (a county's semester is many thousand lines).
        Answers 202 with the job; poll `/api/v1/jobs/{id}/` until SUCCEEDED, whose `result` names the
        batch (`batch`, `number`, `lines`, `skipped`) or why none was built (`refused`). A second request
        while a build of the semester is queued or running answers with that job."""
        data = BatchBuildSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        job = batches.batch_build_start(actor=request.user, **data.validated_data)
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/jobs/{job.pk}/"
        return response

    @extend_schema(request=None, responses=BatchSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        batch = batches.batch_release(actor=request.user, batch=self.get_object())
        return Response(BatchSerializer(batch).data)

    @extend_schema(responses=LineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        batch = self.get_object()
        qs = PaymentLine.objects.visible_to(request.user).filter(batch=batch).order_by("school_id", "pk")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LineSerializer(page, many=True).data)

    @extend_schema(
        parameters=[RosterQuerySerializer],
        responses={(200, media_type): OpenApiTypes.BINARY for media_type in ROSTER_MEDIA_TYPES.values()},
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileTypeNegotiation)
    def roster(self, request, pk=None):
        """The payment roster in the bank's layout (full numbers: the export is audited)."""
        batch = self.get_object()
        query = RosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, bank, source = (query.validated_data[k] for k in ("format", "bank", "source"))
        buffer = io.BytesIO()
        exports.payment_roster(
            actor=request.user, batch=batch, bank=bank or None, source=source or None, fmt=fmt, target=buffer
        )
        buffer.seek(0)
        return FileResponse(
            buffer,
            as_attachment=True,
            filename=f"roster-{batch.number}.{fmt}",
            content_type=ROSTER_MEDIA_TYPES[fmt],
        )

    @extend_schema(request={"multipart/form-data": BankReturnUploadSerializer}, responses=BankReturnResultSerializer)
    @action(detail=True, methods=["post"], url_path="return", parser_classes=[MultiPartParser])
    def bank_return(self, request, pk=None):
        """Import the bank's return file (CSV or xlsx)."""
        batch = self.get_object()
        data = BankReturnUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix.lower()[:8]) as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
            handle.flush()
            result = returns.bank_return_import(
                actor=request.user, batch=batch, path_or_file=handle.name, file_name=upload.name
            )
        return Response(BankReturnResultSerializer({"detail": str(result)}).data)


class CorrectionDecisionSerializer(serializers.Serializer):
    """Input of deciding a proposed correction (a rejection says why)."""

    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CorrectionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CorrectionSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.FUNDING_VIEW, "decide": Action.CORRECTION_APPROVE}

    def get_queryset(self):
        return Correction.objects.visible_to(self.request.user).order_by("-created_at", "pk")

    @extend_schema(request=CorrectionDecisionSerializer, responses=CorrectionSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        correction = self.get_object()
        data = CorrectionDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        correction = corrections.correction_decide(actor=request.user, correction=correction, **data.validated_data)
        return Response(CorrectionSerializer(correction).data)


class RecoveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RecoverySerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.FUNDING_VIEW}

    def get_queryset(self):
        return Recovery.objects.visible_to(self.request.user).order_by("status", "-created_at", "pk")


class CorrectionProposalSerializer(serializers.Serializer):
    """Input of proposing to stop or recover an award."""

    reason = serializers.CharField()
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class AwardCorrectView(generics.GenericAPIView):
    """POST /awards/{id}/correct/: propose to stop (not paid yet) or recover (paid) an award; a second
    person approves. Here rather than on funding's read-only award endpoint: the correction is ours."""

    permission_classes = [HasAction]
    required_actions = {"post": Action.CORRECTION_PROPOSE}
    serializer_class = CorrectionSerializer

    def get_queryset(self):
        return Award.objects.visible_to(self.request.user)

    @extend_schema(request=CorrectionProposalSerializer, responses={201: CorrectionSerializer})
    def post(self, request, pk=None):
        award = self.get_object()
        data = CorrectionProposalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        correction = corrections.correction_propose(actor=request.user, award=award, **data.validated_data)
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)
