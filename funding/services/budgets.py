"""精准预算: each school's budget per program and semester, from the students it identified."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.money import format_money
from schools import permissions
from schools.models import Area, School
from schools.permissions import Action

from ..models import ZERO, Award, AwardStatus, Budget, BudgetWaiver, Program, Semester
from .awards import approved_total, eligible_students

MSG_BELOW_APPROVED = _(
    "The quota would be ¥%(quota)s, less than the ¥%(approved)s already approved for this school. Approved "
    "awards are not taken back by a budget: stop or recover awards first, or keep the adjustment at "
    "¥%(least)s or more."
)

MSG_RESERVE = _("The rural reserve must be between 0 and 100 percent.")
MSG_WAIVER_REASON = _("Say why this program's lists may be approved without a budget.")
MSG_WAIVER_EXISTS = _("Approval without a budget is already allowed for this program and semester.")
MSG_NOTE = _("Say why the budget is adjusted (the note is kept with it).")
MSG_EMERGENCY = _(
    "Emergency aid is granted one pupil at a time, within a budget if the school has one: it has no budget to compute."
)

#: Rural schools get this much on top of what their identified students need: a reserve for the
#: omissions and mid-year identifications that come later (the seeds' "budget tilted to rural schools").
RURAL_RESERVE = Decimal("0.05")


def budgets_compute(*, actor: Any, program: Program, semester: Semester, rural_reserve: Decimal = RURAL_RESERVE) -> int:
    """(Re)compute every school's planned budget for the program and semester; the district's
    adjustments stay as they are. Returns how many schools have a budget."""
    permissions.require(actor, Action.FUNDING_MANAGE)
    if not ZERO <= rural_reserve <= 1:
        raise ValidationError(MSG_RESERVE, code="reserve")
    if program.is_emergency:
        raise ValidationError(MSG_EMERGENCY, code="emergency")
    planned: dict[Any, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    schools = list(School.objects.filter(is_active=True).order_by("code"))
    # Pupils already on a list (proposed or approved) are planned too: `eligible_students` leaves them
    # out, so a budget computed again after the lists were built would otherwise fall to what is left
    # to put on them, below what is approved. One grouped query for every school.
    listed = {
        row["school_id"]: (row["n"], row["total"])
        for row in Award.objects.filter(
            program=program, semester=semester, status__in=[AwardStatus.PROPOSED, AwardStatus.APPROVED]
        )
        .values("school_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    }
    for school in schools:
        candidates = eligible_students(program=program, semester=semester, school=school)
        on_lists, listed_total = listed.get(school.pk, (0, ZERO))
        total = sum((c.amount for c in candidates), listed_total)
        if school.area == Area.RURAL:
            total = (total * (1 + rural_reserve)).quantize(Decimal("0.01"))
        planned[school.pk] = (len(candidates) + on_lists, total)
    with transaction.atomic(), trail.labelled("budget.compute", f"rural reserve {float(rural_reserve) * 100:g}%"):
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
    if not note.strip():
        raise ValidationError(MSG_NOTE, code="note")
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


def budget_waiver_record(*, actor: Any, program: Program, semester: Semester, reason: str) -> BudgetWaiver:
    """无预算审批: record (audited, with the reason) that the program's lists of the semester may be
    approved at schools without a budget row. Refused without a reason, or when already recorded."""
    permissions.require(actor, Action.BUDGET_WAIVE)
    reason = reason.strip()
    if not reason:
        raise ValidationError(MSG_WAIVER_REASON, code="reason")
    try:
        with transaction.atomic(), trail.labelled("budget.waive", reason):
            return BudgetWaiver.objects.create(
                program=program, semester=semester, reason=reason[:200], decided_by=actor
            )
    except IntegrityError:
        raise ValidationError(MSG_WAIVER_EXISTS, code="exists") from None


def budget_waiver_withdraw(*, actor: Any, waiver: BudgetWaiver, reason: str = "") -> None:
    """Withdraw the decision: from now on the program's lists need a budget again (approvals already
    made stand). Audited, with the reason if given."""
    permissions.require(actor, Action.BUDGET_WAIVE, waiver)
    with transaction.atomic(), trail.labelled("budget.waive_withdraw", reason.strip()[:200]):
        BudgetWaiver.objects.filter(pk=waiver.pk).delete()
