"""Pages of dropout control: the class's day of absences (one phone-friendly form), the cases, one
case with its steps and chiefs, the printable notices. Thin: access helper → form → one service call."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from core import clock
from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import form_errors_to_messages, service_messages
from schools import permissions
from schools.access import class_get_for_user
from schools.permissions import Action

from . import forms, selectors, services
from .access import case_get_for_user
from .filters import CaseFilter
from .models import NoticeLevel


def _day_from(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return clock.today()


@login_required
def attendance_index_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.ATTENDANCE_RECORD)
    classes = list(selectors.attendance_classes(user=request.user))
    if len(classes) == 1:
        return redirect("care:attendance_class", class_pk=classes[0].pk)
    return render(request, "care/attendance_index.html", {"classes": classes})


@login_required
def attendance_class_view(request: HttpRequest, class_pk: str) -> HttpResponse:
    klass = class_get_for_user(user=request.user, pk=class_pk, action=Action.ATTENDANCE_RECORD)
    if request.method == "POST":
        form = forms.AttendanceForm(request.POST)
        if not form.is_valid():
            form_errors_to_messages(request, form)
            return redirect("care:attendance_class", class_pk=klass.pk)
        day = form.cleaned_data["day"]
        with service_messages(request):
            result = services.attendance_record(actor=request.user, klass=klass, day=day, absences=form.absences)
            messages.success(
                request,
                _("Recorded %(date)s: %(absent)d absent, %(opened)d new cases, %(suspected)d suspected dropouts.")
                % {
                    "date": date_format(day),
                    "absent": result.absent,
                    "opened": result.opened,
                    "suspected": result.suspected,
                },
            )
        return redirect(f"{reverse('care:attendance_class', kwargs={'class_pk': klass.pk})}?date={day.isoformat()}")
    day = _day_from(request)
    rows = selectors.class_day_sheet(user=request.user, klass=klass, day=day)
    return render(
        request,
        "care/attendance_class.html",
        {"klass": klass, "day": day, "rows": rows, "reasons": forms.AbsenceReason.choices, "prefix": forms.ROW_PREFIX},
    )


@login_required
@kept_page
def case_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.CARE_VIEW)
    filterset = CaseFilter(request.GET or None, selectors.case_list(user=request.user), user=request.user)
    if wants_export(request):
        return export_xlsx(filterset.qs, CASE_COLUMNS, filename="控辍保学个案.xlsx")
    return render(
        request,
        "care/case_list.html",
        {
            **list_page(request, filterset, export=True),
            "records": permissions.can(request.user, Action.ATTENDANCE_RECORD),
        },
    )


CASE_COLUMNS = [
    Column(_lazy("Pupil"), lambda c: c.student.name),
    Column(_lazy("School"), lambda c: c.school.name, width=24),
    Column(_lazy("Class"), lambda c: c.klass, width=16),
    Column(_lazy("Status"), lambda c: c.get_status_display()),
    Column(_lazy("First unexplained absence"), lambda c: c.opened_on),
    Column(_lazy("Days"), lambda c: c.absent_days, width=8),
    Column(_lazy("Home visit due"), lambda c: c.home_visit_due_on),
]


@login_required
def case_view(request: HttpRequest, pk: str) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    user = request.user
    decides = permissions.can(user, Action.CASE_DECIDE, case)
    return render(
        request,
        "care/case_detail.html",
        {
            "case": case,
            "steps": selectors.case_steps(user=user, case=case),
            "responsibles": selectors.case_responsibles(user=user, case=case),
            "corrections": selectors.case_corrections(user=user, case=case),
            "decides": decides and case.is_open,
            "records_steps": permissions.can(user, Action.CASE_STEP, case) and case.is_open,
            "step_form": forms.StepForm(initial={"done_on": clock.today()}),
            "responsible_form": forms.ResponsibleForm(),
            "transition_form": forms.TransitionForm(),
            "notice_levels": NoticeLevel.choices,
        },
    )


@login_required
@require_POST
def case_transition_view(request: HttpRequest, pk: str) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("care:case", pk=case.pk)
    data = form.cleaned_data
    with service_messages(request, success=_("The case was updated.")):
        services.case_transition(
            actor=request.user,
            case=case,
            name=data["name"],
            reason=data["reason"],
            placement=data["placement"],
            expected_status=data["expected_status"] or None,
        )
    return redirect("care:case", pk=case.pk)


@login_required
@require_POST
def case_step_view(request: HttpRequest, pk: str) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    form = forms.StepForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("care:case", pk=case.pk)
    with service_messages(request, success=_("The step was recorded.")):
        services.case_step_record(actor=request.user, case=case, **form.cleaned_data)
    return redirect("care:case", pk=case.pk)


@login_required
@require_POST
def case_responsible_view(request: HttpRequest, pk: str) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    form = forms.ResponsibleForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("care:case", pk=case.pk)
    with service_messages(request, success=_("The responsible person was named.")):
        services.case_responsible_set(actor=request.user, case=case, **form.cleaned_data)
    return redirect("care:case", pk=case.pk)


@login_required
def case_notice_view(request: HttpRequest, pk: str, level: int) -> HttpResponse:
    """A written notice of the ladder for this case, as an A4 page to print (server-rendered)."""
    case = case_get_for_user(user=request.user, pk=pk)
    if level not in NoticeLevel.values:
        raise Http404
    return render(
        request,
        "care/notice_print.html",
        {
            "case": case,
            "level": NoticeLevel(level),
            "responsibles": selectors.case_responsibles(user=request.user, case=case),
            "today": clock.today(),
        },
    )
