"""Pages of the departments' lists (部门数据): snapshots and mappings, the mapping editor (sample file →
one select per field → save), the upload (→ background job → result) and the row report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import storage
from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from schools import permissions
from schools.access import job_get_for_user
from schools.permissions import Action
from schools.selectors import job_list
from students.models import HardshipCategory

from ..filters import SnapshotFilter
from ..models import RegistrySource
from .access import registry_report_get_for_user
from .fields import suggest_columns
from .forms import MappingForm, RegistryUploadForm, SampleForm
from .jobs import JOB_KIND, registry_upload
from .reader import RegistryFileError, peek_headers
from .selectors import mapping_list, snapshot_list
from .services import mapping_save

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@kept_page
def registry_view(request: HttpRequest) -> HttpResponse:
    """GET: the snapshots per source, the mappings, the upload form and the progress of `?job=`; POST:
    upload a list and start its import. A file that cannot be used is refused at once, as a form error."""
    permissions.require(request.user, Action.REGISTRY_VIEW)
    imports = permissions.can(request.user, Action.REGISTRY_IMPORT)
    form = RegistryUploadForm(request.POST or None, request.FILES or None, user=request.user) if imports else None
    if request.method == "POST":
        permissions.require(request.user, Action.REGISTRY_IMPORT)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                job = registry_upload(
                    upload=data["file"],
                    actor=request.user,
                    source=data["source"],
                    mapping=data["mapping"],
                    taken_on=data["taken_on"],
                )
            except RegistryFileError as exc:
                form.add_error("file", exc.message)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(f"{reverse('registry:index')}?job={job.pk}")
    job = job_get_for_user(user=request.user, pk=request.GET["job"], kind=JOB_KIND) if request.GET.get("job") else None
    filterset = SnapshotFilter(request.GET or None, snapshot_list(user=request.user), user=request.user)
    if request.method == "GET" and wants_export(request):
        return export_xlsx(filterset.qs, SNAPSHOT_COLUMNS, filename="部门名单.xlsx")
    context = {
        **list_page(request, filterset, export=True),
        "form": form,
        "job": job,
        "jobs": job_list(user=request.user, kind=JOB_KIND),
        "mappings": mapping_list(user=request.user),
        "imports": imports,
    }
    return render(request, "audits/registry/registry.html", context, status=400 if form and form.errors else 200)


SNAPSHOT_COLUMNS = [
    Column(gettext_lazy("Source"), lambda s: s.get_source_display(), width=30),
    Column(gettext_lazy("As of"), lambda s: s.taken_on),
    Column(gettext_lazy("File"), lambda s: s.file_name, width=30),
    Column(gettext_lazy("Column mapping"), lambda s: s.mapping.name if s.mapping else ""),
    Column(gettext_lazy("Rows kept"), lambda s: s.rows_valid),
    Column(gettext_lazy("Rows rejected"), lambda s: s.rows_rejected),
    Column(gettext_lazy("Imported by"), lambda s: s.imported_by),
]


@login_required
def mapping_view(request: HttpRequest) -> HttpResponse:
    """列映射: GET asks for a sample file; POSTing the sample reads its header row and offers one select
    per field, pre-filled with a guess; POSTing the selects saves the mapping."""
    permissions.require(request.user, Action.REGISTRY_IMPORT)
    categories = list(
        HardshipCategory.objects.visible_to(request.user).order_by("sort_order", "code").values_list("code", "name")
    )
    sample = SampleForm(request.POST or None, request.FILES or None) if "headers" not in request.POST else SampleForm()
    mapping = None
    if request.method == "POST" and "headers" in request.POST:
        headers = MappingForm.headers_from(request.POST)
        mapping = MappingForm(request.POST, headers=headers, categories=categories)
        if mapping.is_valid():
            try:
                saved = mapping_save(
                    actor=request.user,
                    source=mapping.cleaned_data["source"],
                    name=mapping.cleaned_data["name"],
                    columns=mapping.columns(),
                    default_category=mapping.cleaned_data["default_category"],
                )
            except ValidationError as exc:
                mapping.add_error(None, exc)
            else:
                messages.success(request, _("The column mapping “%(name)s” was saved.") % {"name": saved.name})
                return redirect("registry:index")
    elif request.method == "POST" and sample.is_valid():
        source = sample.cleaned_data["source"]
        try:
            headers = peek_headers(sample.cleaned_data["sample"])
        except RegistryFileError as exc:
            sample.add_error("sample", exc.message)
        else:
            initial = MappingForm.initial_for(source=source, headers=headers, suggested=suggest_columns(headers))
            mapping = MappingForm(initial=initial, headers=headers, categories=categories)
    context = {
        "sample": sample,
        "mapping": mapping,
        "source_label": dict(RegistrySource.choices).get(mapping["source"].value(), "") if mapping else "",
    }
    invalid = sample.errors or (mapping is not None and mapping.errors)
    return render(request, "audits/registry/mapping.html", context, status=400 if invalid else 200)


@login_required
def registry_report_view(request: HttpRequest, pk: str) -> FileResponse:
    """The row report of an import, to whoever may see the job (who started it, and auditors)."""
    stored, name = registry_report_get_for_user(user=request.user, pk=pk)
    return FileResponse(storage.uploads().open(stored, "rb"), as_attachment=True, filename=name, content_type=XLSX)
