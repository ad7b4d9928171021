"""The browser's way in to a department's list (部门数据导入): upload, background job, row report.

The upload is checked at once (a file that cannot be read, or lacks the mapping's columns, is refused
with its reason), stored under MEDIA_ROOT/registry/<tenant>/<job>/ like the roster, and imported by a
background job whose row report is written next to it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
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


def job_folder(job: Job) -> Path:
    """Where a job's upload and report live: MEDIA_ROOT/registry/<tenant>/<job>/ (never served directly)."""
    return Path(settings.MEDIA_ROOT) / "registry" / str(job.tenant_id) / str(job.pk)


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
    root = Path(settings.MEDIA_ROOT) / "registry" / str(actor.tenant_id)
    incoming = root / f"incoming-{uuid.uuid4().hex}"
    params: dict[str, Any] = {
        "name": name,
        "source": str(source),
        "mapping": str(mapping.pk) if mapping is not None else "",
        "taken_on": taken_on.isoformat(),
    }
    try:
        storage.write_private(incoming, upload.chunks())
        # Opening it now refuses an unreadable file (or one without the mapped columns) while the
        # person is still on the page, instead of in a job that fails later.
        with tempfile.TemporaryDirectory(prefix="registry-check-") as workdir:
            open_registry(incoming, workdir=Path(workdir), required=required)
        job = jobs.job_start(kind=JOB_KIND, actor=actor, task=registry_import_task, params=params)
        folder = job_folder(job)
        storage.makedirs_private(folder)
        stored = folder / UPLOAD_NAME
        shutil.move(incoming, stored)
    finally:
        incoming.unlink(missing_ok=True)
    with trail.labelled("registry.upload", name):
        params["file"] = str(stored.relative_to(settings.MEDIA_ROOT))
        Job.objects.filter(pk=job.pk).update(params=params)
    return job


def registry_import_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The import of a job started by registry_upload, as the person who started it. A file that
    cannot be used, or has no valid row, is the job's result (its message shown on the page)."""
    path = Path(settings.MEDIA_ROOT) / job.params["file"]
    report_path = path.parent / REPORT_NAME
    report = str(report_path.relative_to(settings.MEDIA_ROOT))
    # One tenant transaction: the snapshot and its rows land whole or not at all; the progress goes
    # through the cache meanwhile (jobs.job_progress).
    with tenant_transaction(job.tenant_id):
        actor = User.objects.get(pk=job.actor_id)
        mapping = ColumnMapping.objects.filter(pk=job.params["mapping"]).first() if job.params.get("mapping") else None
        try:
            outcome = registry_import(
                actor=actor,
                source=job.params["source"],
                file=path,
                file_name=job.params.get("name", ""),
                mapping=mapping,
                taken_on=dt.date.fromisoformat(job.params["taken_on"]),
                report_path=report_path,
                progress=lambda done, total: jobs.job_progress(job, done=done, total=total),
            )
        except RegistryFileError as exc:
            refused = {"error": "FILE", "message": exc.message}, exc.message
        except ValidationError as exc:
            message = "；".join(exc.messages)
            refused = (
                {"error": "NO_ROWS", "message": message, "report": report if report_path.is_file() else ""},
                message,
            )
        else:
            refused = None
    # Committed (or refused): the upload, which holds every family's full numbers, is no longer needed
    # (the row report keeps them masked). A crash leaves it for the job's next attempt, and for the
    # daily sweep after that.
    storage.discard(path)
    if report_path.exists():
        report_path.chmod(storage.FILE_MODE)
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
        "report": report if outcome.created and report_path.is_file() else "",
    }
    if not outcome.created:
        return result, _("This file was imported before; nothing changed.")
    return result, _("%(kept)s rows kept, %(rejected)s rejected") % result
