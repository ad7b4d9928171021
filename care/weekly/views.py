"""Pages of the weekly return: the district's week (who submitted, who is late, who has not), a
school's return to review and submit, the monthly and half-year summaries (xlsx). Thin: access helper
→ form → one service call."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.pagecache import kept_page
from core.web import form_errors_to_messages, service_messages
from schools import permissions
from schools.access import school_get_for_user
from schools.permissions import Action
from schools.workdays import CalendarYearNotLoaded

from . import forms, selectors, services, summary
from .deadline import week_of


def _day_from(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        return clock.today()


def _week_or_message(request: HttpRequest, day: dt.date):
    try:
        return week_of(day)
    except CalendarYearNotLoaded as missing:
        messages.error(request, " ".join(missing.messages))
        return None


def _nav(week_start: dt.date) -> dict[str, str]:
    return {
        "previous": (week_start - dt.timedelta(days=7)).isoformat(),
        "next": (week_start + dt.timedelta(days=7)).isoformat(),
    }


@login_required
@kept_page
def weekly_view(request: HttpRequest) -> HttpResponse:
    """The week of every school the person sees: counts and the list (missing first)."""
    user = request.user
    permissions.require(user, Action.WEEKLY_RETURN_VIEW)
    if "week" not in request.GET and permissions.can(user, Action.WEEKLY_RETURN_SUBMIT):
        own = list(selectors.schools_filing(user=user, action=Action.WEEKLY_RETURN_SUBMIT)[:2])
        if len(own) == 1:  # the school's officer goes straight to the return to submit
            return redirect("care:weekly_school", school_pk=own[0].pk)
    week = _week_or_message(request, _day_from(request))
    overview = None
    if week is not None:
        overview = selectors.week_overview(user=user, week=week, today=clock.today(), time=timezone.localtime().time())
    return render(
        request,
        "care/weekly.html",
        {"week": week, "overview": overview, **(_nav(week.start) if week else {})},
    )


@login_required
def weekly_school_view(request: HttpRequest, school_pk: str) -> HttpResponse:
    """One school's return of a week: the counts and the cases behind them; the officer submits it."""
    user = request.user
    if request.method == "POST":
        school = school_get_for_user(user=user, pk=school_pk, action=Action.WEEKLY_RETURN_SUBMIT)
        form = forms.WeeklyReturnForm(request.POST)
        if not form.is_valid():
            form_errors_to_messages(request, form)
            return redirect("care:weekly_school", school_pk=school.pk)
        data = form.cleaned_data
        with service_messages(request, success=_("The weekly return was submitted.")):
            services.weekly_return_submit(
                actor=user,
                school=school,
                day=data["week"],
                notes=data["notes"],
                expected=(data["seen_dropouts"], data["seen_suspected"]),
            )
        url = reverse("care:weekly_school", kwargs={"school_pk": school.pk})
        return redirect(f"{url}?week={data['week'].isoformat()}")
    school = school_get_for_user(user=user, pk=school_pk, action=Action.WEEKLY_RETURN_VIEW)
    today = clock.today()
    week = _week_or_message(request, _day_from(request))
    context: dict = {"school": school, "week": week}
    if week is not None:
        as_of = min(week.end, today)
        dropouts, suspected = selectors.case_counts(school_ids=[school.pk], as_of=as_of).get(school.pk, (0, 0))
        weekly = selectors.return_of(user=user, school=school, week_start=week.start)
        submitted = weekly is not None and weekly.status == "SUBMITTED"
        context.update(
            _nav(week.start),
            as_of=as_of,
            dropouts=dropouts,
            suspected=suspected,
            cases=selectors.cases_counted(user=user, school=school, as_of=as_of),
            weekly=weekly,
            submitted=submitted,
            late_now=week.is_late_at(today=today, time=timezone.localtime().time()),
            may_submit=(
                not submitted
                and week.due_on is not None
                and week.start <= today
                and permissions.can(user, Action.WEEKLY_RETURN_SUBMIT, school)
            ),
        )
    return render(request, "care/weekly_school.html", context)


@login_required
@kept_page
def summary_view(request: HttpRequest) -> HttpResponse:
    """控辍保学统计表 of a month or a half-year, per school, township and stage; `?format=xlsx` downloads it."""
    permissions.require(request.user, Action.WEEKLY_RETURN_VIEW)
    period = summary.Period.from_query(request.GET, today=clock.today())
    table = summary.dropout_summary(user=request.user, period=period)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        summary.summary_xlsx(table, buffer)
        buffer.seek(0)
        return FileResponse(buffer, as_attachment=True, filename=f"控辍保学统计表-{period.code}.xlsx")
    return render(
        request,
        "care/weekly_summary.html",
        {
            "table": table,
            "period": period,
            "periods": summary.Period.choices(today=clock.today()),
            "table_labels": [label for _key, _group, label in summary.COLUMNS],
        },
    )
