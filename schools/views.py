"""Pages of the school structure: the schools a user may see, and one school's grades and classes; the
platform operator's official calendar (the years loaded, a year's days, the upload and its template);
one's API tokens (and, for the tenant administrator, those of the district's accounts)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import clock, tokens
from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import service_messages
from schools import jobs, permissions, services
from schools.access import api_token_get_for_user, job_get_for_user, school_get_for_user
from schools.filters import SchoolFilter
from schools.forms import ApiTokenForm, OfficialCalendarForm
from schools.official_calendar import selectors as calendar_selectors
from schools.official_calendar.services import official_calendar_load
from schools.permissions import Action
from schools.selectors import api_token_list, api_token_list_for_tenant, class_list, school_list, student_counts


@login_required
@kept_page
def school_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.SCHOOL_VIEW)
    sees_students = permissions.can(request.user, Action.STUDENT_VIEW)
    filterset = SchoolFilter(request.GET or None, school_list(user=request.user), user=request.user)
    counts = student_counts(user=request.user, by="school") if sees_students else {}
    if wants_export(request):
        columns = SCHOOL_COLUMNS + (
            [Column(_("Students attending"), lambda s: counts.get(s.pk, 0))] if sees_students else []
        )
        return export_xlsx(filterset.qs, columns, filename="学校.xlsx")
    context = list_page(request, filterset, per_page=100, export=True)
    for school in context["page"]:
        school.student_count = counts.get(school.pk, 0) if sees_students else None
    return render(request, "schools/school_list.html", {**context, "sees_students": sees_students})


SCHOOL_COLUMNS = [
    Column(_lazy("School code"), lambda s: s.code, text=True),
    Column(_lazy("Name"), lambda s: s.name, width=30),
    Column(_lazy("Stages"), lambda s: s.get_stages_display()),
    Column(_lazy("Area"), lambda s: s.get_area_display()),
    Column(_lazy("Township"), lambda s: s.township),
    Column(_lazy("Grades"), lambda s: s.grade_count),
    Column(_lazy("Classes"), lambda s: s.class_count),
]


@login_required
def school_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    school = school_get_for_user(user=request.user, pk=pk)
    sees_students = permissions.can(request.user, Action.STUDENT_VIEW, school)
    classes = list(class_list(user=request.user, school=school))
    counts = student_counts(user=request.user, by="klass") if sees_students else {}
    for klass in classes:
        klass.student_count = counts.get(klass.pk, 0) if sees_students else None
    return render(
        request,
        "schools/school_detail.html",
        {"school": school, "classes": classes, "sees_students": sees_students},
    )


@login_required
def job_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    """htmx: the progress bar of a background job, polled until the job finishes, then its result."""
    job = jobs.job_live(job_get_for_user(user=request.user, pk=pk))
    return render(request, "jobs/_progress.html", {"job": job, "result_template": f"jobs/{job.kind}.html"})


# --- The official calendar (platform operator) -------------------------------------------------------


@login_required
def official_calendar_view(request: HttpRequest) -> HttpResponse:
    """GET: every year of the national calendar and the upload form; POST: load a year from its CSV
    file. A refused file comes back on the form with each bad line named, and nothing is changed."""
    permissions.require(request.user, Action.CALENDAR_MANAGE)
    form = OfficialCalendarForm(request.POST or None, request.FILES or None, initial={"year": clock.today().year + 1})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            loaded = official_calendar_load(
                year=form.cleaned_data["year"], data=upload.read(), source=upload.name, actor=request.user
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            if loaded.changed:
                messages.success(
                    request,
                    _("%(year)s loaded: %(holidays)s holidays and %(workdays)s adjusted working days.")
                    % {"year": loaded.year, "holidays": loaded.holidays, "workdays": loaded.workdays},
                )
            else:
                messages.info(
                    request, _("%(year)s already has exactly these days: nothing changed.") % {"year": loaded.year}
                )
            return redirect("schools:calendar_year", year=loaded.year)
    context = {"form": form, "years": calendar_selectors.official_calendar_years()}
    return render(request, "schools/calendar.html", context, status=400 if form.errors else 200)


@login_required
def official_calendar_year_view(request: HttpRequest, year: int) -> HttpResponse:
    """One year: where it came from, and its holidays and adjusted working days."""
    permissions.require(request.user, Action.CALENDAR_MANAGE)
    row = calendar_selectors.official_calendar_year(year=year)
    if row is None:
        raise Http404
    days = calendar_selectors.official_calendar_days(year=year)
    return render(request, "schools/calendar_year.html", {"calendar_year": row, "days": days})


@login_required
def official_calendar_template_view(request: HttpRequest) -> HttpResponse:
    """The CSV to fill in for `?year=`: the days loaded, or the package's, or an empty template."""
    permissions.require(request.user, Action.CALENDAR_MANAGE)
    try:
        year = int(request.GET.get("year") or clock.today().year + 1)
    except ValueError as exc:
        raise Http404 from exc
    data = calendar_selectors.official_calendar_file(year=year)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="official-calendar-{year}.csv"'
    return response


# --- API tokens ---------------------------------------------------------------------------------------


@never_cache
@login_required
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    """GET: the user's API tokens (name, created, expiry, never the key) and, for the tenant
    administrator, every token of the district's accounts; POST: a new token, whose key this one
    answer shows and nothing ever shows again (it is not kept: not in the database, not in the session)."""
    form = ApiTokenForm(request.POST or None)
    key = ""
    if request.method == "POST" and form.is_valid():
        with service_messages(request):
            _token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        if not key:
            return redirect("schools:tokens")
        form = ApiTokenForm()
    context = {
        "form": form,
        "key": key,
        "ttl_days": tokens.token_ttl().days,
        "now": timezone.now(),
        "mine": api_token_list(user=request.user),
        "district": api_token_list_for_tenant(user=request.user),
        "may_create": request.user.tenant_id is not None,
    }
    return render(request, "schools/api_tokens.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def api_token_revoke_view(request: HttpRequest, pk: str) -> HttpResponse:
    """Revoke one token: one's own, or (tenant administrator) one of the district's accounts."""
    token = api_token_get_for_user(user=request.user, pk=pk)
    with service_messages(
        request, success=_("Token \u201c%(name)s\u201d revoked: it no longer signs in.") % {"name": token.name}
    ):
        services.api_token_revoke(token=token, actor=request.user)
    return redirect("schools:tokens")
