"""The roster import (学籍名册导入): from an uploaded workbook to the register, row report included.

`roster_import` is the one import, used by the background job (`roster_import_job_run`, for uploads in
the browser) and by `manage.py import_roster`. It works for the current tenant, in short transactions
(one per chunk of rows), so progress is visible and a long import never holds locks for minutes; each
chunk is all or nothing, and each row is written whole or not at all.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import storage
from core.audit import trail
from core.crypto import mask
from core.tenancy.context import current_tenant_id, tenant_transaction
from schools import jobs, permissions
from schools.models import Job, School, SchoolClass, User
from schools.permissions import Action

from ..models import Student
from . import pipeline, reader
from .apply import CREATED, REJECTED, UNCHANGED, UPDATED, ApplyContext, apply_chunk
from .problems import FileProblem, RosterFileError
from .report import RowReportWriter
from .validate import RosterContext, RowReport

JOB_KIND = "roster_import"
#: Rows per transaction: big enough for set-based writes to pay, small enough for a lively progress bar.
CHUNK_SIZE = 5000
UPLOAD_NAME = "upload.xlsx"
SUMMARY_MESSAGE = _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(rejected)s rejected")
REPORT_NAME = "report.xlsx"
#: Rejected rows shown on the page after an import (with their reasons); the report lists every row.
FIRST_REJECTIONS = 20


@dataclass
class ImportOutcome:
    """What an import did: rows per outcome, rejected rows per error code, and where the time went."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    #: the first rejected rows with their reasons, for the page (the report has them all)
    first_rejections: list[dict[str, Any]] = field(default_factory=list)

    def note_rejection(self, r: RowReport) -> None:
        """Keep a rejected row for the page while fewer than FIRST_REJECTIONS are kept: its row number,
        name, masked ID number and reasons, as the report words them."""
        if len(self.first_rejections) < FIRST_REJECTIONS:
            self.first_rejections.append(
                {
                    "row": r.row,
                    "name": r.name,
                    "id_number": mask(r.id_text, "id_number"),
                    "reasons": "；".join(dict.fromkeys(str(e.message) for e in r.errors)) or str(r.note),
                }
            )

    @property
    def created(self) -> int:
        return self.counts[CREATED]

    @property
    def updated(self) -> int:
        return self.counts[UPDATED]

    @property
    def unchanged(self) -> int:
        return self.counts[UNCHANGED]

    @property
    def rejected(self) -> int:
        return self.counts[REJECTED]

    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, rejected {self.rejected}"

    def as_result(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": dict(self.errors),
            "first_rejections": self.first_rejections,
        }


def roster_import(
    *,
    path: str | Path,
    file_name: str,
    actor: User | None,
    report_path: str | Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> ImportOutcome:
    """Import a roster file into the current tenant's register, as `actor` (their ROSTER_IMPORT scope:
    a school officer's rows for other schools are rejected) or, with actor=None, for the whole tenant
    (the command line). Raises RosterFileError if the file cannot be read; otherwise every row ends up
    created, updated, unchanged or rejected, and the report (if asked for) says which and why.
    Importing the same file again changes nothing and writes no audit row."""
    tenant_id = current_tenant_id()
    outcome = ImportOutcome()
    clock = _Clock(outcome.timings)
    # Started first: the readers start up while this process checks the file.
    with pipeline.reader_beside(path) as beside:
        with clock("inspect"):
            inspection = reader.inspect(path)
        today = timezone.localdate()
        parallel = beside is not None and pipeline.uses_readers(inspection.rows)
        if not parallel:
            beside = None  # (stopped when the block ends)
        with tenant_transaction(tenant_id):
            ctx, apply_ctx = _contexts(actor=actor, tenant_id=tenant_id, file_name=file_name, today=today)
            # Read beside the import, new pupils are prepared ahead: those whose ID number and registration
            # number nobody holds now.
            known = list(Student.objects.values_list("id_number_hash", "student_no_hash")) if parallel else None
        plan = pipeline.Plan(
            path=str(path),
            inspection=inspection,
            ctx=ctx,
            chunk_size=chunk_size,
            tenant_id=tenant_id,
            reason=apply_ctx.reason,
            known_ids=frozenset(k[0] for k in known) if known is not None else None,
            known_nos=frozenset(k[1] for k in known if k[1]) if known is not None else frozenset(),
            # Read beside, the first chunks are small: the import starts writing sooner (pipeline.sizes).
            first_chunk=max(1, chunk_size // 10) if parallel else None,
            # Read beside, each reader writes its chunks too, on a connection of its own.
            apply=apply_ctx if parallel else None,
            actor=trail.current_actor() if parallel else None,
            database=pipeline.connection_settings() if parallel else None,
        )
        report = RowReportWriter(report_path) if report_path else None
        try:
            for chunk in pipeline.chunks(plan, beside=beside, timings=outcome.timings):
                if not chunk.applied:
                    with clock("write"), tenant_transaction(tenant_id):
                        apply_chunk(chunk.reports, apply_ctx)
                for r in chunk.reports:
                    outcome.counts[r.outcome] += 1
                    if r.outcome == REJECTED:
                        outcome.errors.update({e.code for e in r.errors})
                        outcome.note_rejection(r)
                if report is not None:
                    with clock("report"):
                        report.write(chunk.reports)
                if on_progress is not None:
                    on_progress(chunk.done, chunk.total)
        except BaseException:
            if report is not None:
                report.abort()
            raise
        if report is not None:
            with clock("report"):
                report.close(file_name=file_name, counts=outcome.counts, errors=outcome.errors)
        outcome.timings["audit"] = outcome.timings.get("audit", 0) + apply_ctx.audit_seconds
        return outcome


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, phase: str) -> _Phase:
        return _Phase(self.timings, phase)


class _Phase:
    def __init__(self, timings: dict[str, float], phase: str) -> None:
        self.timings, self.phase = timings, phase

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.phase] = self.timings.get(self.phase, 0) + time.perf_counter() - self.started


def _contexts(
    *, actor: User | None, tenant_id: uuid.UUID, file_name: str, today: Any
) -> tuple[RosterContext, ApplyContext]:
    """The tenant's schools and classes, and what the importer may do (inside a tenant transaction)."""
    importable = None
    if actor is not None:
        permissions.require(actor, Action.ROSTER_IMPORT)
        importable = frozenset(School.objects.visible_to(actor, Action.ROSTER_IMPORT).values_list("pk", flat=True))
    schools = {
        code: (pk, name) for pk, code, name in School.objects.filter(is_active=True).values_list("pk", "code", "name")
    }
    classes = {
        (school_id, stage, year, number): (grade_id, pk)
        for pk, school_id, grade_id, number, stage, year in SchoolClass.objects.values_list(
            "pk", "school_id", "grade_id", "number", "grade__stage", "grade__entry_year"
        )
    }
    ctx = RosterContext(schools=schools, classes=classes, importable=importable, today=today)
    apply_ctx = ApplyContext(
        tenant_id=tenant_id,
        reason=f"roster import {file_name}"[:500],
        school_names={pk: name for pk, name in schools.values()},
        nameable=importable,
        today=today,
    )
    return ctx, apply_ctx


# --- The browser's way in: upload, background job, report ----------------------------------------------


def job_folder(job: Job) -> str:
    """Where a job's upload and report live in the uploads storage: roster/<tenant>/<job>/ (never served
    directly)."""
    return storage.job_folder("roster", job)


def roster_upload(*, upload: UploadedFile, actor: User) -> Job:
    """Check an uploaded roster (a bad file is refused at once, with its message: RosterFileError),
    store it and start the import job. The job's task is sent when the request's transaction commits."""
    from .tasks import roster_import_task

    permissions.require(actor, Action.ROSTER_IMPORT)
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise RosterFileError(FileProblem.TOO_LARGE, limit=settings.MAX_UPLOAD_BYTES // (1024 * 1024))
    name = Path(upload.name or UPLOAD_NAME).name[:200]
    # Checked from a private scratch copy (the reader needs a path), then stored through the storage.
    with storage.scratch_folder("roster-") as scratch:
        incoming = storage.write_private(scratch / UPLOAD_NAME, upload.chunks())
        reader.inspect(incoming)
        job = jobs.job_start(kind=JOB_KIND, actor=actor, task=roster_import_task, params={"name": name})
        stored = storage.store(f"{job_folder(job)}/{UPLOAD_NAME}", incoming)
    with trail.labelled("roster.upload", name):
        Job.objects.filter(pk=job.pk).update(params={"name": name, "file": stored})
    return job


def roster_import_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The import of a job started by roster_upload, as the person who started it; the row report is
    stored next to the upload. A file that cannot be read is the job's result (its message shown on
    the page), not a crash. The pipeline reads a private scratch copy, deleted when the job ends."""
    stored = job.params["file"]
    name = job.params.get("name", UPLOAD_NAME)
    with tenant_transaction(job.tenant_id):
        actor = User.objects.get(pk=job.actor_id)
    with storage.scratch_folder("roster-") as scratch:
        report_path = scratch / REPORT_NAME
        try:
            outcome = roster_import(
                path=storage.fetch(stored, scratch / UPLOAD_NAME),
                file_name=name,
                actor=actor,
                report_path=report_path,
                on_progress=lambda done, total: jobs.job_progress(job, done=done, total=total),
            )
        except RosterFileError as exc:
            storage.discard(stored)
            return {"error": exc.problem.value, "message": exc.message}, exc.message
        # The upload holds every pupil's full numbers: gone as soon as the import ends (the row report
        # keeps them masked). A crash leaves it for the job's next attempt, and the daily sweep after that.
        storage.discard(stored)
        report = storage.store(f"{job_folder(job)}/{REPORT_NAME}", report_path) if report_path.exists() else ""
    result = outcome.as_result()
    result["report"] = report
    return result, _(
        "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(rejected)s rejected"
    ) % result
