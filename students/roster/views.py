"""Pages of the roster import: the import page (template, upload, progress, recent imports), the
template download and the row report download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from core import storage
from core.pagecache import kept_page
from schools import permissions
from schools.access import job_get_for_user
from schools.permissions import Action
from schools.selectors import job_list

from .access import roster_report_get_for_user
from .forms import RosterUploadForm
from .problems import RosterFileError
from .services import JOB_KIND, roster_upload
from .template import roster_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "学籍名册导入模板.xlsx"


@login_required
@kept_page
def roster_view(request: HttpRequest) -> HttpResponse:
    """GET: the page (with the progress of `?job=`); POST: upload a roster and start its import. A
    file that cannot be read is refused at once, with its reason, as a form error."""
    permissions.require(request.user, Action.ROSTER_IMPORT)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = roster_upload(upload=form.cleaned_data["file"], actor=request.user)
        except RosterFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(f"{reverse('students:roster')}?job={job.pk}")
    job = job_get_for_user(user=request.user, pk=request.GET["job"], kind=JOB_KIND) if request.GET.get("job") else None
    context = {"form": form, "job": job, "jobs": job_list(user=request.user, kind=JOB_KIND)}
    return render(request, "students/roster/roster.html", context, status=400 if form.errors else 200)


@login_required
def roster_template_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.ROSTER_IMPORT)
    response = HttpResponse(roster_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, TEMPLATE_NAME)
    return response


@login_required
def roster_report_view(request: HttpRequest, pk: str) -> FileResponse:
    """The row report of an import, to whoever may see the job (who started it, and auditors)."""
    stored, name = roster_report_get_for_user(user=request.user, pk=pk)
    return FileResponse(storage.uploads().open(stored, "rb"), as_attachment=True, filename=name, content_type=XLSX)
