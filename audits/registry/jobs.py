"""The browser's way in to a department's list (部门数据导入): upload, background job, row report.

The upload is checked at once (a file that cannot be read, or lacks the mapping's columns, is refused
with its reason), stored in the uploads storage under registry/<tenant>/<job>/ like the roster, and imported by a
background job whose row report is written next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from core import storage
from core.audit import trail
from core.intake.problems import FileProblem
from core.tenancy.context import tenant_transaction
from schools import jobs, permissions
from schools.models import Job, User
from schools.permissions import Action

from ..models import ColumnMapping, RegistrySource
from .fields import FIELDS
from .reader import RegistryFileError, max_bytes, open_registry
from .services import MSG_MAPPING_SOURCE, default_mapping, registry_import

JOB_KIND = "registry_import"
UPLOAD_NAME = "upload"
REPORT_NAME = "report.xlsx"
#: Rejected rows shown on the page; the report has them all.
PROBLEMS_SHOWN = 10


def job_folder(job: Job) -> str:
    """Where a job's upload and report live in the uploads storage: registry/<tenant>/<job>/ (never
    served directly)."""
    return storage.job_folder("registry", job)


def registry_upload(
    *, upload: UploadedFile, actor: User, source: str, mapping: ColumnMapping | None, taken_on: dt.date
) -> Job:
    """Check an uploaded list (RegistryFileError with the reason if it cannot be used), store it and
    start its import job; the job's task is sent when the request's transaction commits."""
    from .tasks import registry_import_task

    permissions.require(actor, Action.REGISTRY_IMPORT)
    source = RegistrySource(source)
    if mapping is not None and mapping.source != source:
        raise ValidationError(MSG_MAPPING_SOURCE)
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise RegistryFileError(FileProblem.TOO_LARGE, limit=limit // (1024 * 1024))
    name = Path(upload.name or "registry").name[:200]
    columns = (mapping or default_mapping(source)).columns
    # As the import reads it: a saved mapping's columns must all be there; without one, only the
    # required fields' (a veterans' list may have no category column).
    required = {columns[f.key] for f in FIELDS if (f.required or mapping is not None) and columns.get(f.key)}
    params: dict[str, Any] = {
        "name": name,
        "source": str(source),
        "mapping": str(mapping.pk) if mapping is not None else "",
        "taken_on": taken_on.isoformat(),
    }
    with storage.scratch_folder("registry-") as scratch:
        incoming = storage.write_private(scratch / UPLOAD_NAME, upload.chunks())
        # Opening it now refuses an unreadable file (or one without the mapped columns) while the
        # person is still on the page, instead of in a job that fails later.
        workdir = scratch / "check"
        storage.makedirs_private(workdir)
        open_registry(incoming, workdir=workdir, required=required)
        job = jobs.job_start(kind=JOB_KIND, actor=actor, task=registry_import_task, params=params)
        stored = storage.store(f"{job_folder(job)}/{UPLOAD_NAME}", incoming)
    with trail.labelled("registry.upload", name):
        params["file"] = stored
        Job.objects.filter(pk=job.pk).update(params=params)
    return job


def registry_import_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The import of a job started by registry_upload, as the person who started it. A file that
    cannot be used, or has no valid row, is the job's result (its message shown on the page)."""
    stored = job.params["file"]
    with storage.scratch_folder("registry-") as scratch:
        refused, outcome, report = _import_from_scratch(job, stored=stored, scratch=scratch)
    if refused is not None:
        return refused
    snapshot = outcome.snapshot
    result: dict[str, Any] = {
        "snapshot": str(snapshot.pk),
        "created": outcome.created,
        "taken_on": snapshot.taken_on.isoformat(),
        **outcome.counts,
        "changes": snapshot.changes,
        "problems": snapshot.problems[:PROBLEMS_SHOWN],
        "report": report if outcome.created else "",
    }
    if not outcome.created:
        return result, _("This file was imported before; nothing changed.")
    return result, _("%(kept)s rows kept, %(rejected)s rejected") % result


def _import_from_scratch(job: Job, *, stored: str, scratch: Path) -> tuple[Any, Any, str]:
    """(refusal or None, outcome, stored report name): the import of the job's upload, read from a
    private scratch copy, its row report stored next to the upload."""
    report_path = scratch / REPORT_NAME
    outcome = None
    # One tenant transaction: the snapshot and its rows land whole or not at all; the progress goes
    # through the cache meanwhile (jobs.job_progress).
    with tenant_transaction(job.tenant_id):
        actor = User.objects.get(pk=job.actor_id)
        mapping = ColumnMapping.objects.filter(pk=job.params["mapping"]).first() if job.params.get("mapping") else None
        try:
            outcome = registry_import(
                actor=actor,
                source=job.params["source"],
                file=storage.fetch(stored, scratch / UPLOAD_NAME),
                file_name=job.params.get("name", ""),
                mapping=mapping,
                taken_on=dt.date.fromisoformat(job.params["taken_on"]),
                report_path=report_path,
                progress=lambda done, total: jobs.job_progress(job, done=done, total=total),
            )
        except RegistryFileError as exc:
            refused: Any = {"error": "FILE", "message": exc.message}, exc.message
        except ValidationError as exc:
            message = "；".join(exc.messages)
            refused = {"error": "NO_ROWS", "message": message, "report": ""}, message
        else:
            refused = None
    # Committed (or refused): the upload, which holds every family's full numbers, is no longer needed
    # (the row report keeps them masked). A crash leaves it for the job's next attempt, and for the
    # daily sweep after that.
    storage.discard(stored)
    report = storage.store(f"{job_folder(job)}/{REPORT_NAME}", report_path) if report_path.is_file() else ""
    if refused is not None and refused[0]["error"] == "NO_ROWS":
        refused[0]["report"] = report
    return refused, outcome, report
