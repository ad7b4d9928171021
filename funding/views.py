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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.web import refusal_to_messages, service_messages
from schools import permissions
from schools.access import get_visible, school_get_for_user
from schools.permissions import Action
from schools.selectors import school_list
from students.access import student_get_for_user
from students.identification.publicity import notice_window

from . import selectors
from .models import Award, AwardList, AwardListStatus, Program
from .services import awards


@login_required
def award_lists_view(request: HttpRequest) -> HttpResponse:
    """The semester's award lists the user may see; officers build theirs from here."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = selectors.semester_from_request(request)
    builds_for = [s for s in school_list(user=request.user) if permissions.can(request.user, Action.AWARD_PREPARE, s)]
    return render(
        request,
        "funding/award_lists.html",
        {
            "semester": semester,
            "semesters": selectors.semester_list(user=request.user),
            "lists": selectors.award_list_list(user=request.user, semester=semester) if semester else [],
            "programs": selectors.program_list(user=request.user),
            "builds_for": builds_for,
        },
    )


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
            messages.success(request, _("Published until %(date)s.") % {"date": done.ends_on.isoformat()})
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
@require_POST
def emergency_approve_view(request: HttpRequest, pk: str) -> HttpResponse:
    award = get_visible(Award, user=request.user, pk=pk, action=Action.AWARD_APPROVE)
    with service_messages(request, success=_("Approved.")):
        awards.emergency_approve(actor=request.user, award=award)
    return redirect("funding:award_list", pk=award.award_list_id)
