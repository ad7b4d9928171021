"""Pages of the 1+1 pairing: the coverage and the bulk pairing form (school, district), a teacher's
pupils with their visits due, the visit form (a phone's), the watch list, a pupil's risk flags.
Thin: access helper → form → one service call."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import clock
from core.listing import list_page, state_key
from core.pagecache import kept_page
from core.paging import CachedCountPaginator
from core.web import form_errors_to_messages, service_messages
from schools import permissions
from schools.access import get_visible
from schools.permissions import Action
from schools.selectors import school_list
from students.access import student_get_for_user
from students.selectors import STUDENT_COUNTS_TTL

from ..filters import WatchFilter
from ..models import RiskFlag
from . import forms, selectors, services


@login_required
@kept_page
def pairing_view(request: HttpRequest) -> HttpResponse:
    """覆盖情况: who needs a teacher and has none, who carries too many; the bulk pairing form."""
    permissions.require(request.user, Action.PAIRING_MANAGE)
    schools = list(school_list(user=request.user))
    school_id = request.GET.get("school") or None
    if school_id and all(str(s.pk) != school_id for s in schools):
        raise Http404
    found = selectors.coverage(user=request.user, school_id=school_id)
    return render(request, "care/pairing.html", {"coverage": found, "schools": schools, "school_id": school_id or ""})


@login_required
@require_POST
def pairing_assign_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.PAIRING_MANAGE)
    form = forms.PairingAssignForm(request.POST)
    back = reverse("care:pairing")
    if request.GET.get("school"):
        back += f"?school={request.GET['school']}"
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect(back)
    teacher = selectors.teacher_for(user=request.user, text=form.cleaned_data["teacher"])
    with service_messages(request):
        result = services.pairing_assign(actor=request.user, teacher=teacher, student_ids=form.cleaned_data["students"])
        messages.success(
            request,
            _("Paired %(paired)d pupil(s); %(ended)d changed teacher; the teacher now looks after %(total)d.")
            % {"paired": result.paired, "ended": result.ended, "total": result.teacher_total},
        )
        if result.over_limit:
            messages.warning(request, _("This teacher now looks after more pupils than the district's limit."))
    return redirect(back)


@login_required
@kept_page
def my_pupils_view(request: HttpRequest) -> HttpResponse:
    """我的结对学生: the teacher's paired pupils, the visits due first."""
    permissions.require(request.user, Action.VISIT_RECORD)
    rows = selectors.my_pairings(user=request.user)
    return render(request, "care/my_pupils.html", {"rows": rows, "today": clock.today()})


@login_required
def visit_new_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    """走访记录: the visit form of a paired teacher (phone-friendly); a refusal keeps what was typed."""
    permissions.require(request.user, Action.VISIT_RECORD)
    student = selectors.paired_student_for(user=request.user, pk=student_pk)
    if student is None:
        raise Http404
    form = forms.VisitForm(request.POST or None, initial={"visited_on": clock.today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.pairing_visit_record(actor=request.user, student=student, **form.cleaned_data)
            except ValidationError as refused:
                for message in refused.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Visit to %(pupil)s recorded.") % {"pupil": student.name})
                return redirect("care:my_pupils")
        status = 400
    return render(request, "care/visit_form.html", {"form": form, "student": student}, status=status)


@login_required
@kept_page
def watch_list_view(request: HttpRequest) -> HttpResponse:
    """重点关注: the pupils at risk the user looks after, 50 a page, with their risks.

    The page's pupils are found by walking the user's pupils in the list's order; their total (which
    tests all of them) is kept half a minute per user and filter, as the register's tab counts are.
    Two queries for the rows: the page, then the page's pupils' risks."""
    user = request.user
    permissions.require(user, Action.CARE_VIEW)
    filterset = WatchFilter(request.GET or None, selectors.watch_pupils(user=user), user=user)
    counted = WatchFilter(request.GET or None, selectors.watch_pupils(user=user, counting=True), user=user)
    paginator = partial(
        CachedCountPaginator, key=state_key(filterset, "watch-total"), ttl=STUDENT_COUNTS_TTL, count=counted.qs.count
    )
    context = list_page(request, filterset, paginator=paginator, tabs=[], page_rows=selectors.watch_page_rows)
    return render(request, "care/watch_list.html", context)


@login_required
@require_POST
def risk_flag_set_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    student = student_get_for_user(user=request.user, pk=student_pk)
    permissions.require(request.user, Action.RISK_FLAG_SET, student)
    form = forms.RiskFlagForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
    else:
        with service_messages(request, success=_("Risk recorded: the pupil is on the watch list.")):
            services.risk_flag_set(actor=request.user, student=student, **form.cleaned_data)
    return redirect("students:detail", pk=student.pk)


@login_required
@require_POST
def risk_flag_clear_view(request: HttpRequest, pk: str) -> HttpResponse:
    flag = get_visible(RiskFlag, user=request.user, pk=pk, action=Action.RISK_FLAG_SET)
    with service_messages(request, success=_("Risk cleared.")):
        services.risk_flag_clear(actor=request.user, flag=flag)
    return redirect("students:detail", pk=flag.student_id)
