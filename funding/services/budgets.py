"""精准预算: each school's budget per program and semester, from the students it identified."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.money import format_money
from schools import permissions
from schools.models import Area, School
from schools.permissions import Action

from ..models import ZERO, Budget, Program, Semester
from .awards import approved_total, eligible_students

MSG_BELOW_APPROVED = _(
    "The quota would be ¥%(quota)s, less than the ¥%(approved)s already approved for this school. Approved "
    "awards are not taken back by a budget: stop or recover awards first, or keep the adjustment at "
    "¥%(least)s or more."
)

#: Rural schools get this much on top of what their identified students need: a reserve for the
#: omissions and mid-year identifications that come later (the seeds' "budget tilted to rural schools").
RURAL_RESERVE = Decimal("0.05")


def budgets_compute(*, actor: Any, program: Program, semester: Semester, rural_reserve: Decimal = RURAL_RESERVE) -> int:
    """(Re)compute every school's planned budget for the program and semester; the district's
    adjustments stay as they are. Returns how many schools have a budget."""
    permissions.require(actor, Action.FUNDING_MANAGE)
    planned: dict[Any, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    schools = list(School.objects.filter(is_active=True).order_by("code"))
    for school in schools:
        candidates = eligible_students(program=program, semester=semester, school=school)
        total = sum((c.amount for c in candidates), ZERO)
        if school.area == Area.RURAL:
            total = (total * (1 + rural_reserve)).quantize(Decimal("0.01"))
        planned[school.pk] = (len(candidates), total)
    with transaction.atomic(), trail.labelled("budget.compute"):
        existing = {
            b.school_id: b for b in Budget.objects.select_for_update().filter(program=program, semester=semester)
        }
        new, changed = [], []
        for school in schools:
            count, amount = planned[school.pk]
            budget = existing.get(school.pk)
            if budget is None:
                new.append(
                    Budget(
                        program=program, semester=semester, school=school, planned_students=count, planned_amount=amount
                    )
                )
            elif (budget.planned_students, budget.planned_amount) != (count, amount):
                budget.planned_students, budget.planned_amount = count, amount
                changed.append(budget)
        Budget.objects.bulk_create(new)
        Budget.objects.bulk_update(changed, ["planned_students", "planned_amount", "updated_at"])
    return len(schools)


def budget_adjust(*, actor: Any, budget: Budget, adjustment: Decimal, note: str) -> Budget:
    """The district moves money between schools (a positive or negative adjustment, with a note). The
    quota never falls below what is already approved: the budget row stays locked until commit, as an
    approval holds it, so an approval and a cut at once wait for each other instead of passing both."""
    permissions.require(actor, Action.FUNDING_MANAGE, budget)
    with transaction.atomic():
        budget = Budget.objects.select_for_update().get(pk=budget.pk)
        budget_check_quota(budget=budget, adjustment=adjustment)
        budget.adjustment, budget.note = adjustment, note
        with trail.labelled("budget.adjust", note):
            budget.save(update_fields=["adjustment", "note", "updated_at"])
    return budget


def budget_check_quota(*, budget: Budget, adjustment: Decimal) -> None:
    """Refuse an adjustment that would put the quota below what the school already has approved."""
    approved = approved_total(program=budget.program_id, semester=budget.semester_id, school=budget.school_id)
    quota = budget.planned_amount + adjustment
    if quota < approved:
        least = approved - budget.planned_amount
        params = {"quota": format_money(quota), "approved": format_money(approved), "least": format_money(least)}
        raise ValidationError(MSG_BELOW_APPROVED, code="below_approved", params=params)
