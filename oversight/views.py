"""Pages of oversight: the dashboard (charts drawn from a JSON data island by static/js/oversight.js,
each with its table and xlsx), and the periodic reports (list, make one now, a snapshot as a printable A4
page, its xlsx, and beside it the live figures). Thin: access helper → one selector or service call."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.pagecache import kept_page
from core.web import service_messages
from funding import selectors as funding_selectors
from schools import permissions
from schools.access import job_get_for_user
from schools.permissions import Action

from . import selectors, services
from .access import snapshot_get_for_user
from .exports import charts_xlsx
from .models import ReportKind


def _xlsx(charts: list[dict], filename: str) -> FileResponse:
    buffer = io.BytesIO()
    charts_xlsx(charts, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename)


def board_xlsx(request: HttpRequest, board: Any, stem: str) -> FileResponse:
    """A board's charts as xlsx, each chart's numbers as a sheet: every chart, or `?chart=<key>` alone
    (named in the file's name). Shared by the district's dashboard and the region's page."""
    charts = board.as_json()["charts"]
    key = request.GET.get("chart")
    if key:
        charts = [c for c in charts if c["key"] == key]
        if not charts:
            raise Http404
    return _xlsx(charts, f"{stem}{'-' + key if key else ''}.xlsx")


@login_required
@kept_page
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """数据看板 of a semester (the district's, or one's school's); `?format=xlsx` downloads every chart,
    `&chart=<key>` one of them."""
    permissions.require(request.user, Action.DASHBOARD_VIEW)
    semester = funding_selectors.semester_from_request(request)
    board = selectors.dashboard(user=request.user, semester=semester) if semester else None
    if board is not None and request.GET.get("format") == "xlsx":
        return board_xlsx(request, board, f"数据看板-{semester.code}")
    return render(
        request,
        "oversight/dashboard.html",
        {
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "board": board,
            "data": board.as_json() if board else None,
        },
    )


@login_required
@kept_page
def report_list_view(request: HttpRequest) -> HttpResponse:
    """The district's report snapshots, the buttons that make one now, and the progress of `?job=`."""
    permissions.require(request.user, Action.REPORT_VIEW)
    job_pk = request.GET.get("job")
    job = job_get_for_user(user=request.user, pk=job_pk, kind=services.REPORT_JOB_KIND) if job_pk else None
    return render(
        request,
        "oversight/reports.html",
        {
            "snapshots": selectors.snapshot_list(user=request.user)[:200],
            "kinds": ReportKind.choices,
            "generates": permissions.can(request.user, Action.REPORT_GENERATE),
            "job": job,
        },
    )


@login_required
@require_POST
def report_generate_view(request: HttpRequest) -> HttpResponse:
    """Start making a snapshot of the period so far (a job); back to the list with its progress bar."""
    permissions.require(request.user, Action.REPORT_GENERATE)
    kind = request.POST.get("kind")
    if kind not in ReportKind.values:
        raise Http404
    with service_messages(request):
        job = services.report_generate_start(actor=request.user, kind=kind)
        return redirect(f"{reverse('oversight:reports')}?job={job.pk}")
    return redirect("oversight:reports")


@login_required
def report_view(request: HttpRequest, pk) -> HttpResponse:
    """One snapshot as a printable A4 page, with the live figures beside it; `?format=xlsx` downloads it."""
    snapshot = snapshot_get_for_user(user=request.user, pk=pk)
    if request.GET.get("format") == "xlsx":
        return _xlsx(snapshot.figures.get("charts", []), f"{snapshot.get_kind_display()}-{snapshot.period}.xlsx")
    return render(
        request,
        "oversight/report.html",
        {
            "snapshot": snapshot,
            "charts": snapshot.figures.get("charts", []),
            "compared": selectors.snapshot_compare(user=request.user, snapshot=snapshot),
            "sealed": services.fingerprint(snapshot.figures) == snapshot.fingerprint,
        },
    )
