"""Pages of the reconciliation (比对): start a run of a semester (→ background job → progress bar →
the run), the runs, a run's lists (filtered, paginated, exported) and the two actions on them."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import refusal_to_messages
from funding import selectors as funding_selectors
from schools import jobs, permissions
from schools.access import job_get_for_user
from schools.permissions import Action

from ..filters import FindingListFilter, RunFilter
from ..models import FindingKind, ReasonCode
from .exports import findings_export
from .selectors import (
    category_names,
    evidence_summary,
    finding_list,
    finding_schools,
    masked_name,
    run_get_for_user,
    run_rows,
)
from .services import (
    ACT_JOB_KIND,
    CORRECTIONS,
    JOB_KIND,
    OMISSIONS,
    reconciliation_act_start,
    reconciliation_start,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@kept_page
def runs_view(request: HttpRequest) -> HttpResponse:
    """The runs, the semester select with the run button, and the progress of `?job=`."""
    permissions.require(request.user, Action.RECONCILIATION_VIEW)
    job = job_get_for_user(user=request.user, pk=request.GET["job"], kind=JOB_KIND) if request.GET.get("job") else None
    filterset = RunFilter(request.GET or None, run_rows(user=request.user), user=request.user)
    if wants_export(request):
        return export_xlsx(filterset.qs, RUN_COLUMNS, filename="比对记录.xlsx")
    context = {
        **list_page(request, filterset, export=True),
        "semesters": funding_selectors.semester_list(user=request.user),
        "semester": funding_selectors.current_semester(user=request.user),
        "job": job,
        "runs_allowed": permissions.can(request.user, Action.RECONCILIATION_RUN),
    }
    return render(request, "audits/reconciliation/runs.html", context)


RUN_COLUMNS = [
    Column(gettext_lazy("When"), lambda r: timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"), width=18),
    Column(gettext_lazy("Semester"), lambda r: r.semester, width=20),
    Column(gettext_lazy("Status"), lambda r: r.get_status_display()),
    Column(gettext_lazy("Started by"), lambda r: r.started_by),
    Column(gettext_lazy("Omissions"), lambda r: (r.counts or {}).get("OMISSION", 0)),
    Column(gettext_lazy("To stop"), lambda r: (r.counts or {}).get("STOP", 0)),
    Column(gettext_lazy("To recover"), lambda r: (r.counts or {}).get("RECOVER", 0)),
    Column(gettext_lazy("Tier too low"), lambda r: (r.counts or {}).get("TIER", 0)),
    Column(gettext_lazy("In another district"), lambda r: (r.counts or {}).get("ELSEWHERE", 0)),
]


@login_required
@require_POST
def run_start_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.RECONCILIATION_RUN)
    semester = funding_selectors.semester_from_request(request)
    if semester is None:
        messages.error(request, _("There is no semester to reconcile yet."))
        return redirect("reconciliation:runs")
    job = reconciliation_start(actor=request.user, semester=semester)
    return redirect(f"{reverse('reconciliation:runs')}?job={job.pk}")


@login_required
def run_view(request: HttpRequest, pk: str) -> HttpResponse:
    """A run: its counts and its lists, filtered by list, reason and school, 50 a page."""
    run = run_get_for_user(user=request.user, pk=pk)
    filterset = FindingListFilter(request.GET or None, finding_list(user=request.user, run=run), user=request.user)
    listed = list_page(request, filterset, tabs=[])
    page = listed["page"]
    chosen = filterset.values()
    categories = category_names(user=request.user)
    rows = [(f, masked_name(f), evidence_summary(f, categories)) for f in page]
    counts = run.counts or {}
    context = {
        "run": run,
        "page": page,
        **listed,
        "rows": rows,
        "chosen": {
            "kinds": chosen.get("kind") or [],
            "reason": chosen.get("reason") or "",
            "school": chosen.get("school"),
        },
        "kinds": [(k, label, counts.get(k, 0)) for k, label in FindingKind.choices],
        "reasons": [
            (r, label, sum(v for key, v in counts.items() if key.endswith(f":{r}"))) for r, label in ReasonCode.choices
        ],
        "schools": finding_schools(user=request.user, run=run),
        "acts": permissions.can(request.user, Action.RECONCILIATION_ACT),
        "job": jobs.job_live(job_get_for_user(user=request.user, pk=request.GET["job"], kind=ACT_JOB_KIND))
        if request.GET.get("job")
        else None,
    }
    return render(request, "audits/reconciliation/run.html", context)


@login_required
def run_export_view(request: HttpRequest, pk: str) -> FileResponse:
    """The run's (filtered) lists as a workbook, written to a temporary file (constant memory)."""
    run = run_get_for_user(user=request.user, pk=pk)
    filterset = FindingListFilter(request.GET or None, finding_list(user=request.user, run=run), user=request.user)
    findings = filterset.qs.iterator(chunk_size=2000)
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    findings_export(findings=findings, categories=category_names(user=request.user), target=target)
    target.seek(0)
    name = f"比对结果-{run.semester}-{run.created_at:%Y%m%d%H%M}.xlsx"
    return FileResponse(target, as_attachment=True, filename=name, content_type=XLSX)


def _act_start(request: HttpRequest, pk: str, what: str) -> HttpResponse:
    """Start acting on a run's list as a background job and show its progress on the run's page."""
    run = run_get_for_user(user=request.user, pk=pk)
    try:
        job = reconciliation_act_start(actor=request.user, run=run, what=what)
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("reconciliation:run", pk=run.pk)
    return redirect(f"{reverse('reconciliation:run', kwargs={'pk': run.pk})}?job={job.pk}")


@login_required
@require_POST
def run_omissions_view(request: HttpRequest, pk: str) -> HttpResponse:
    """补发: the omissions onto the schools' lists for the reissue batch, by a background job. A second
    click while it runs lands on the same job; after it, finds nothing open and acts on nothing."""
    return _act_start(request, pk, OMISSIONS)


@login_required
@require_POST
def run_corrections_view(request: HttpRequest, pk: str) -> HttpResponse:
    """停发 / 追回: proposed stops and recoveries (each approved by a second person), by a background job."""
    return _act_start(request, pk, CORRECTIONS)
