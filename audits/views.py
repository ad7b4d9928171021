"""The audit trail as pages: the event list, and a check of the tenant's chain."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.pagecache import kept_page
from core.paging import LookaheadPaginator
from schools import jobs, permissions
from schools.permissions import Action

from .filters import EventFilter
from .selectors import action_names, event_list
from .sentences import action_phrase, sentence
from .tasks import VERIFY_JOB_KIND, verify_chain


@login_required
@kept_page
def event_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.AUDIT_VIEW)
    filterset = EventFilter(request.GET or None, event_list(user=request.user), user=request.user)
    values = filterset.values()
    # The trail grows by every change of the district (millions of rows in a few years): count only as
    # far as the pages shown, through the trail's own ordered index, as the register does.
    page = LookaheadPaginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audits/event_list.html",
        {
            "filter": filterset,
            "page": page,
            "rows": [(e, sentence(e)) for e in page],
            "actions": sorted(((a, action_phrase(a)) for a in action_names(user=request.user)), key=lambda x: x[1]),
            "action": values.get("action") or "",
            "since": values.get("since"),
        },
    )


@login_required
@require_POST
def verify_view(request: HttpRequest) -> HttpResponse:
    """htmx: start verifying the tenant's chain in the background; answers with the progress bar.

    A read, decided so: it changes no tenant data (the job row records who asked and what was found),
    and checking the chain is the read-only auditor's own work, so AUDIT_VIEW is enough."""
    permissions.require(request.user, Action.AUDIT_VIEW)
    job = jobs.job_start(kind=VERIFY_JOB_KIND, actor=request.user, task=verify_chain)
    return render(request, "jobs/_progress.html", {"job": job, "result_template": f"jobs/{job.kind}.html"})
