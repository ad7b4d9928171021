"""Pages of the funding programs: award lists (资助名单) by school, program and semester, and emergency aid.

Thin: access helper → form → one service call → redirect with a message; refusals come back as
messages, never a 500.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import refusal_to_messages, service_messages
from schools import permissions
from schools.access import get_visible, school_get_for_user
from schools.permissions import Action
from students.access import student_get_for_user
from students.identification.publicity import notice_window

from . import forms as funding_forms
from . import selectors
from .filters import AwardListFilter
from .models import Award, AwardList, AwardListStatus, Budget, BudgetWaiver, Program
from .services import awards, budgets


@login_required
@kept_page
def award_lists_view(request: HttpRequest) -> HttpResponse:
    """The semester's award lists the user may see; officers build theirs from here."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = selectors.semester_from_request(request)
    builds_for = selectors.schools_preparing(user=request.user)
    rows = selectors.award_list_rows(user=request.user, semester=semester)
    rows = rows if semester else rows.none()
    filterset = AwardListFilter(request.GET or None, rows, user=request.user)
    if wants_export(request):
        return export_xlsx(selectors.award_list_counted(filterset.qs), AWARD_LIST_COLUMNS, filename="资助名单.xlsx")
    return render(
        request,
        "funding/award_lists.html",
        {
            **list_page(request, filterset, page_rows=selectors.award_list_figures, export=True),
            "semester": semester,
            "semesters": selectors.semester_list(user=request.user),
            "programs": selectors.program_list(user=request.user),
            "builds_for": builds_for,
        },
    )


AWARD_LIST_COLUMNS = [
    Column(_lazy("School"), lambda a: a.school.name, width=24),
    Column(_lazy("Program"), lambda a: a.program.name, width=24),
    Column(_lazy("Semester"), lambda a: a.semester, width=20),
    Column(_lazy("Status"), lambda a: a.get_status_display()),
    Column(_lazy("Proposed"), lambda a: a.proposed),
    Column(_lazy("Approved"), lambda a: a.approved),
    Column(_lazy("Amount"), lambda a: a.total),
]


@login_required
@require_POST
def award_list_build_view(request: HttpRequest) -> HttpResponse:
    semester = selectors.semester_from_request(request)
    school = school_get_for_user(user=request.user, pk=request.POST.get("school"), action=Action.AWARD_PREPARE)
    program = get_visible(Program, user=request.user, pk=request.POST.get("program"))
    try:
        built = awards.award_list_build(actor=request.user, program=program, semester=semester, school=school)
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("funding:award_lists")
    return redirect("funding:award_list", pk=built.pk)


@login_required
def award_list_view(request: HttpRequest, pk: str) -> HttpResponse:
    award_list = get_visible(AwardList, user=request.user, pk=pk)
    user = request.user
    return render(
        request,
        "funding/award_list.html",
        {
            "award_list": award_list,
            "awards": selectors.award_list_detail(award_list=award_list),
            "prepares": award_list.status == AwardListStatus.DRAFT
            and permissions.can(user, Action.AWARD_PREPARE, award_list),
            "approves": award_list.status == AwardListStatus.PUBLICITY
            and permissions.can(user, Action.AWARD_APPROVE, award_list),
            # 停发 / 追回 is proposed from the approved award's row (a second person decides).
            "corrects": permissions.can(user, Action.CORRECTION_PROPOSE, award_list),
            "notice": notice_window(starts_on=award_list.starts_on, ends_on=award_list.ends_on),
        },
    )


@login_required
@require_POST
def award_list_step_view(request: HttpRequest, pk: str, step: str) -> HttpResponse:
    """Publish (the school) or approve (the district) a list."""
    award_list = get_visible(AwardList, user=request.user, pk=pk)
    try:
        if step == "publish":
            done = awards.award_list_publish(actor=request.user, award_list=award_list)
            messages.success(request, _("Published until %(date)s.") % {"date": date_format(done.ends_on)})
        elif step == "approve":
            awards.award_list_approve(actor=request.user, award_list=award_list)
            messages.success(request, _("Approved."))
    except ValidationError as error:
        refusal_to_messages(request, error)
    return redirect("funding:award_list", pk=award_list.pk)


@login_required
@require_POST
def award_remove_view(request: HttpRequest, pk: str) -> HttpResponse:
    award = get_visible(Award, user=request.user, pk=pk, action=Action.AWARD_PREPARE)
    try:
        awards.award_remove(actor=request.user, award=award, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        refusal_to_messages(request, error)
    return redirect("funding:award_list", pk=award.award_list_id)


class EmergencyForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    reason = forms.CharField(max_length=200)


@login_required
def emergency_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    """临时救助: the school proposes aid for one student at any time."""
    student = student_get_for_user(user=request.user, pk=student_pk, action=Action.AWARD_PREPARE)
    semester = selectors.current_semester(user=request.user)
    form = EmergencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and semester is not None:
        try:
            award = awards.emergency_propose(
                actor=request.user, student=student, semester=semester, **form.cleaned_data
            )
        except (ValidationError, InvalidOperation) as error:
            refusal_to_messages(request, ValidationError(str(error)) if isinstance(error, InvalidOperation) else error)
        else:
            messages.success(request, _("Proposed: the district decides."))
            return redirect("funding:award_list", pk=award.award_list_id)
    return render(request, "funding/emergency.html", {"student": student, "form": form, "semester": semester})


@login_required
@kept_page
def emergency_index_view(request: HttpRequest) -> HttpResponse:
    """临时救助 from the menu: the semester's emergency aid in the user's units and, for the school, a
    pupil search leading to the proposal form."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = selectors.semester_from_request(request)
    proposes = permissions.can(request.user, Action.AWARD_PREPARE)
    q = request.GET.get("q", "")[:50]
    return render(
        request,
        "funding/emergency_index.html",
        {
            "semester": semester,
            "semesters": selectors.semester_list(user=request.user),
            "awards": selectors.emergency_awards(user=request.user, semester=semester)[:300],
            "proposes": proposes,
            "q": q,
            "candidates": selectors.emergency_candidates(user=request.user, q=q) if proposes else [],
        },
    )


@login_required
@require_POST
def emergency_approve_view(request: HttpRequest, pk: str) -> HttpResponse:
    award = get_visible(Award, user=request.user, pk=pk, action=Action.AWARD_APPROVE)
    with service_messages(request, success=_("Approved.")):
        awards.emergency_approve(actor=request.user, award=award)
    return redirect("funding:award_list", pk=award.award_list_id)


# --- Budgets (精准预算) ------------------------------------------------------------------------------------


def _budget_program(request: HttpRequest) -> Program | None:
    """The program the budget page works on: `program` from the query or the form, else the first one
    with budgets (emergency aid has none); 404 for one the user may not see."""
    wanted = request.GET.get("program") or request.POST.get("program")
    if wanted:
        return get_visible(Program, user=request.user, pk=wanted)
    return selectors.program_list(user=request.user).filter(is_emergency=False).first()


def _budgets_url(program: Program | None, semester) -> str:
    query = "&".join(
        f"{name}={obj.pk}" for name, obj in (("semester", semester), ("program", program)) if obj is not None
    )
    return f"{reverse('funding:budgets')}?{query}" if query else reverse("funding:budgets")


def _form_refused(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@kept_page
def budgets_view(request: HttpRequest) -> HttpResponse:
    """A program's budgets of a semester, school by school (quota, approved, left), with the district's
    compute and adjust forms and its decision on approving without a budget."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = selectors.semester_from_request(request)
    program = _budget_program(request)
    ready = semester is not None and program is not None
    rows = selectors.budget_rows(user=request.user, program=program, semester=semester) if ready else []
    return render(
        request,
        "funding/budgets.html",
        {
            "semester": semester,
            "semesters": selectors.semester_list(user=request.user),
            "program": program,
            "programs": selectors.program_list(user=request.user).filter(is_emergency=False),
            "rows": rows,
            "totals": {
                key: sum((getattr(r, key) for r in rows), Decimal(0))
                for key in ("planned_amount", "adjustment", "quota", "approved", "left")
            },
            "waiver": selectors.budget_waiver_for(user=request.user, program=program, semester=semester)
            if ready
            else None,
            "manages": permissions.can(request.user, Action.FUNDING_MANAGE),
            "waives": permissions.can(request.user, Action.BUDGET_WAIVE),
            "compute_form": funding_forms.BudgetComputeForm(),
        },
    )


@login_required
@require_POST
def budgets_compute_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.FUNDING_MANAGE)
    semester = selectors.semester_from_request(request)
    program = _budget_program(request)
    form = funding_forms.BudgetComputeForm(request.POST)
    if semester is None or program is None:
        messages.error(request, _("Choose a semester and a program first."))
    elif not form.is_valid():
        _form_refused(request, form)
    else:
        with service_messages(request, success=_("Budgets computed for every school.")):
            budgets.budgets_compute(
                actor=request.user, program=program, semester=semester, rural_reserve=form.reserve()
            )
    return redirect(_budgets_url(program, semester))


@login_required
@require_POST
def budget_adjust_view(request: HttpRequest, pk: str) -> HttpResponse:
    budget = get_visible(Budget, user=request.user, pk=pk, action=Action.FUNDING_MANAGE)
    form = funding_forms.BudgetAdjustForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
    else:
        with service_messages(request, success=_("Budget adjusted.")):
            budgets.budget_adjust(actor=request.user, budget=budget, **form.cleaned_data)
    return redirect(_budgets_url(budget.program, budget.semester))


@login_required
@require_POST
def budget_waiver_view(request: HttpRequest) -> HttpResponse:
    """无预算审批: record that the program's lists of the semester may be approved without a budget."""
    permissions.require(request.user, Action.BUDGET_WAIVE)
    semester = selectors.semester_from_request(request)
    program = _budget_program(request)
    form = funding_forms.BudgetWaiverForm(request.POST)
    if semester is None or program is None:
        messages.error(request, _("Choose a semester and a program first."))
    elif not form.is_valid():
        _form_refused(request, form)
    else:
        with service_messages(request, success=_("Recorded: this program's lists may be approved without a budget.")):
            budgets.budget_waiver_record(
                actor=request.user, program=program, semester=semester, reason=form.cleaned_data["reason"]
            )
    return redirect(_budgets_url(program, semester))


@login_required
@require_POST
def budget_waiver_withdraw_view(request: HttpRequest, pk: str) -> HttpResponse:
    waiver = get_visible(BudgetWaiver, user=request.user, pk=pk, action=Action.BUDGET_WAIVE)
    with service_messages(request, success=_("Withdrawn: this program's lists need a budget again.")):
        budgets.budget_waiver_withdraw(actor=request.user, waiver=waiver, reason=request.POST.get("reason", ""))
    return redirect(_budgets_url(waiver.program, waiver.semester))
