"""Funding under /api/v1/: programs, semesters and awards (read-only), award lists (资助名单) with
what the pages do to them: build, publish (公示), approve; budgets (compute, adjust, approve without
one); the same services, selectors and permissions as the pages. (Correcting an award is the
disbursements app's: `award-correct`.)

Each write operation reads its input through an input serializer and answers through an output one;
a service's refusal is core.api's 400."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import HasAction
from schools.permissions import Action
from schools.rowfields import SchoolField

from .. import selectors
from ..models import Award, AwardList, Budget, BudgetWaiver, Program, Semester
from ..rowfields import ProgramField, SemesterField
from ..services import awards, budgets


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


@extend_schema_field(OpenApiTypes.UUID)
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


# --- Budgets (精准预算) ------------------------------------------------------------------------------------


class BudgetProgramField(ProgramField):
    """A budgeted program (not emergency aid, which is granted one pupil at a time) by its id or code."""

    def resolve(self, *, user, text):
        program = super().resolve(user=user, text=text)
        return None if program is None or program.is_emergency else program


class BudgetQuerySerializer(serializers.Serializer):
    """Which budgets: a program's of a semester."""

    semester = SemesterField(help_text="the semester's id, or its code such as 2026-AUTUMN")
    program = BudgetProgramField(help_text="the program's id or code")


class BudgetComputeSerializer(BudgetQuerySerializer):
    """Input of computing a program's budgets of a semester for every school."""

    rural_reserve = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1),
        default=budgets.RURAL_RESERVE, help_text="the rural tilt, a share: 0.05 is 5% on top",
    )  # fmt: skip


class BudgetAdjustSerializer(serializers.Serializer):
    """Input of adjusting one school's budget: the district's adjustment (±) and why."""

    adjustment = serializers.DecimalField(max_digits=12, decimal_places=2)
    note = serializers.CharField(max_length=200)


class BudgetSerializer(serializers.ModelSerializer):
    """A school's budget: planned, the district's adjustment, the quota, what is approved and what is left."""

    school_name = serializers.CharField(source="school.name", read_only=True)
    quota = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    approved = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    left = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Budget
        fields = [
            "id", "program", "semester", "school", "school_name", "planned_students", "planned_amount",
            "adjustment", "quota", "approved", "left", "note",
        ]  # fmt: skip


class BudgetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Budgets by school: `GET ?semester=&program=` lists a program's budgets of a semester (quota,
    approved, left); `POST compute/` computes them for every school; `POST {id}/adjust/` adjusts one."""

    serializer_class = BudgetSerializer
    permission_classes = [HasAction]
    required_actions = {
        "list": Action.FUNDING_VIEW,
        "retrieve": Action.FUNDING_VIEW,
        "compute": Action.FUNDING_MANAGE,
        "adjust": Action.FUNDING_MANAGE,
    }

    def get_queryset(self):
        # The schema is drawn with no query to read (swagger_fake_view): the plain scoped rows then.
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            query = BudgetQuerySerializer(data=self.request.query_params, context=self.get_serializer_context())
            query.is_valid(raise_exception=True)
            return selectors.budget_overview(user=self.request.user, **query.validated_data)
        return Budget.objects.visible_to(self.request.user).order_by("pk")

    def _overview_of(self, budget: Budget) -> Budget:
        return selectors.budget_overview(user=self.request.user, program=budget.program, semester=budget.semester).get(
            pk=budget.pk
        )

    def retrieve(self, request, pk=None):
        return Response(BudgetSerializer(self._overview_of(self.get_object())).data)

    @extend_schema(parameters=[BudgetQuerySerializer])
    def list(self, request):
        return super().list(request)

    @extend_schema(request=BudgetComputeSerializer, responses={201: BudgetSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def compute(self, request):
        data = BudgetComputeSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        budgets.budgets_compute(actor=request.user, **data.validated_data)
        rows = selectors.budget_overview(
            user=request.user, program=data.validated_data["program"], semester=data.validated_data["semester"]
        )
        return Response(BudgetSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BudgetAdjustSerializer, responses=BudgetSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        budget = self.get_object()
        data = BudgetAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        budget = budgets.budget_adjust(actor=request.user, budget=budget, **data.validated_data)
        return Response(BudgetSerializer(self._overview_of(budget)).data)


class BudgetWaiverInputSerializer(BudgetQuerySerializer):
    """Input of recording that a program's lists of a semester may be approved without a budget."""

    reason = serializers.CharField(max_length=200)


class BudgetWaiverWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BudgetWaiverSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetWaiver
        fields = ["id", "program", "semester", "reason", "decided_by", "created_at"]


class BudgetWaiverViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """无预算审批: the district's recorded decisions that a program's lists may be approved without a
    budget. `POST` records one (with a reason); `POST {id}/withdraw/` withdraws it."""

    serializer_class = BudgetWaiverSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.FUNDING_VIEW, "create": Action.BUDGET_WAIVE, "withdraw": Action.BUDGET_WAIVE}

    def get_queryset(self):
        return BudgetWaiver.objects.visible_to(self.request.user).order_by("-created_at", "pk")

    @extend_schema(request=BudgetWaiverInputSerializer, responses={201: BudgetWaiverSerializer})
    def create(self, request):
        data = BudgetWaiverInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        waiver = budgets.budget_waiver_record(actor=request.user, **data.validated_data)
        return Response(BudgetWaiverSerializer(waiver).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BudgetWaiverWithdrawSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        waiver = self.get_object()
        data = BudgetWaiverWithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        budgets.budget_waiver_withdraw(actor=request.user, waiver=waiver, reason=data.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)
