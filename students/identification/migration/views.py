"""Pages of the identified-list import: the page (template, year, upload, progress, recent imports),
the template download and the row report download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from core import storage
from schools import permissions
from schools.access import job_get_for_user
from schools.permissions import Action
from schools.selectors import job_list

from .access import migration_report_get_for_user
from .forms import MigrationUploadForm
from .services import JOB_KIND, migration_upload
from .template import migration_template
from .validate import MigrationFileError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "已认定学生名单导入模板.xlsx"


@login_required
def migration_view(request: HttpRequest) -> HttpResponse:
    """GET: the page (with the progress of `?job=`); POST: upload a list for a chosen year and start
    its import. A file that cannot be read is refused at once, as a form error."""
    permissions.require(request.user, Action.IDENTIFICATION_MIGRATE)
    form = MigrationUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = migration_upload(
                upload=form.cleaned_data["file"], academic_year=form.cleaned_data["academic_year"], actor=request.user
            )
        except MigrationFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(f"{reverse('students:identification_migration')}?job={job.pk}")
    job = job_get_for_user(user=request.user, pk=request.GET["job"], kind=JOB_KIND) if request.GET.get("job") else None
    context = {"form": form, "job": job, "jobs": job_list(user=request.user, kind=JOB_KIND)}
    return render(request, "students/identification/migration.html", context, status=400 if form.errors else 200)


@login_required
def migration_template_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.IDENTIFICATION_MIGRATE)
    response = HttpResponse(migration_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, TEMPLATE_NAME)
    return response


@login_required
def migration_report_view(request: HttpRequest, pk: str) -> FileResponse:
    """The row report of an import, to whoever may see the job (who started it, and auditors)."""
    stored, name = migration_report_get_for_user(user=request.user, pk=pk)
    return FileResponse(storage.uploads().open(stored, "rb"), as_attachment=True, filename=name, content_type=XLSX)
