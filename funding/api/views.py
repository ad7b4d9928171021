"""Funding under /api/v1/: programs, semesters and awards, read-only; the same selectors and
permissions as the pages. (Correcting an award is the disbursements app's: `award-correct`.)"""

from __future__ import annotations

import uuid
from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import HasAction, RowField
from schools.permissions import Action

from .. import selectors
from ..models import Award, Budget, BudgetWaiver, Program, Semester
from ..services import budgets


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


# --- Budgets (精准预算) ------------------------------------------------------------------------------------


class SemesterField(RowField):
    """A semester the caller may see, by its id or its code (2026-AUTUMN)."""

    def resolve(self, *, user, text):
        return selectors.semester_by_code(user=user, code=text)


class ProgramField(RowField):
    """A budgeted program (not emergency aid) the caller may see, by its id or its code."""

    def resolve(self, *, user, text):
        programs = selectors.program_list(user=user).filter(is_emergency=False)
        try:
            return programs.filter(pk=uuid.UUID(text)).first()
        except ValueError:  # not an id: a code, or nothing
            return programs.filter(code=text).first()


class BudgetQuerySerializer(serializers.Serializer):
    """Which budgets: a program's of a semester."""

    semester = SemesterField(help_text="the semester's id, or its code such as 2026-AUTUMN")
    program = ProgramField(help_text="the program's id or code")


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
