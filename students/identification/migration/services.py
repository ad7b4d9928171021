"""The identified-list import (认定名单迁移): from an uploaded workbook to migrated identifications.

`identification_migration_import` is the one import; the background job (`migration_job_run`) runs it
for an upload made on the page. It is one transaction: every row is checked first (set-based lookups
in chunks), and only if no row is rejected are the new applications and their decision rows written,
with one INSERT each (bulk_create, audited by the ORM hooks) and one audit event for the file. A file
with a rejected row imports nothing (a district fixes its list and imports it again: a half-migrated
year would be hard to tell from a finished one). Rows whose pupil already has a live application of the
year are reported and left alone; importing the same file again finds every row already imported and
writes nothing, not even an audit row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core import clock, files, storage
from core.audit import trail
from core.intake.problems import FileProblem
from core.tenancy.context import current_tenant_id, tenant_transaction
from schools import jobs, permissions
from schools.models import Job, User
from schools.permissions import Action

from ...models import ApplicationDecision, ApplicationStatus, Decision, HardshipApplication
from ..summary import identified_summary_touch
from .report import write_report
from .validate import (
    EXISTING,
    IMPORTABLE,
    REJECTED,
    UNCHANGED,
    Context,
    MigrationFileError,
    Row,
    checked_rows,
    read_rows,
)

JOB_KIND = "identification_migration"
UPLOAD_FOLDER = "identification-migration"
UPLOAD_NAME = "upload.xlsx"
REPORT_NAME = "report.xlsx"
#: How many academic years back a list may be for (the current one included).
YEARS_BACK = 5
AUDIT_ACTION = "identification.migrate_import"
MSG_RACE = _(
    "While the list was being imported, an application was created for one of its pupils. Nothing was "
    "imported; import the file again."
)
MSG_YEAR = _("Choose an academic year between %(first)s and %(last)s.")

S = ApplicationStatus


class MigrationRefused(Exception):
    """The import cannot run as asked (a year out of range, a race with a nomination): nothing written.
    `code` is stable, `message` for the person who imported."""

    def __init__(self, code: str, message: Any) -> None:
        self.code, self.message = code, str(message)
        super().__init__(self.message)


@dataclass
class MigrationOutcome:
    """What an import did: rows per outcome, rejected rows per error code, whether anything was
    written, and the file's SHA-256."""

    sha256: str = ""
    applied: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def as_result(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "imported": self.counts[IMPORTABLE] if self.applied else 0,
            "unchanged": self.counts[UNCHANGED],
            "existing": self.counts[EXISTING],
            "rejected": self.counts[REJECTED],
            "errors": dict(self.errors),
            "sha256": self.sha256,
        }


def academic_years(*, today: dt.date) -> list[int]:
    """The years a list may be imported for, newest first: the current academic year and those before."""
    current = clock.school_year_of(today)
    return list(range(current, current - YEARS_BACK, -1))


def identification_migration_import(
    *,
    path: str | Path,
    file_name: str,
    academic_year: int,
    actor: User,
    report_path: str | Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> MigrationOutcome:
    """Import an identified list into the current tenant as `actor` (IDENTIFICATION_MIGRATE). Raises
    MigrationFileError if the file cannot be read at all; otherwise every row ends up imported, already
    imported, reported (a live application exists) or rejected, and the report says which and why.
    All or nothing: one rejected row and nothing is written."""
    tenant_id = current_tenant_id()
    today = clock.today()
    with tenant_transaction(tenant_id):
        permissions.require(actor, Action.IDENTIFICATION_MIGRATE)
    if academic_year not in academic_years(today=today):
        years = academic_years(today=today)
        raise MigrationRefused("YEAR", MSG_YEAR % {"first": years[-1], "last": years[0]})
    _path, sha256 = files.on_disk(path, workdir=None, name=UPLOAD_NAME, limit=settings.MAX_UPLOAD_BYTES)
    outcome = MigrationOutcome(sha256=sha256)
    total, cells = read_rows(path)
    rows: list[Row] = []
    with tenant_transaction(tenant_id):
        ctx = Context.load(academic_year=academic_year, today=today)
        for chunk in checked_rows(cells, ctx):
            rows.extend(chunk)
            if on_progress is not None:
                on_progress(len(rows), total)
        for row in rows:
            outcome.counts[row.outcome] += 1
            if row.outcome == REJECTED:
                outcome.errors.update({e.code for e in row.errors})
        importable = [r for r in rows if r.outcome == IMPORTABLE]
        if importable and not outcome.counts[REJECTED]:
            try:
                with transaction.atomic():
                    _write(importable, actor=actor, academic_year=academic_year, file_name=file_name)
                    trail.record(
                        tenant_id=tenant_id,
                        action=AUDIT_ACTION,
                        object_type_="students.identification_list",
                        object_id=sha256,
                        after={
                            "file": file_name,
                            "sha256": sha256,
                            "academic_year": academic_year,
                            "imported": len(importable),
                            "unchanged": outcome.counts[UNCHANGED],
                            "existing": outcome.counts[EXISTING],
                        },
                        reason=f"identified list {file_name}"[:500],
                    )
            except IntegrityError:
                # The one-live-application constraint: a teacher nominated one of these pupils between
                # the check and the write. Nothing of this import stays.
                raise MigrationRefused("RACE", MSG_RACE) from None
            outcome.applied = True
    if report_path is not None:
        write_report(report_path, rows=rows, applied=outcome.applied, file_name=file_name, counts=outcome.counts)
    return outcome


def _write(rows: list[Row], *, actor: User, academic_year: int, file_name: str) -> None:
    """The migrated applications, identified through the model's `migrate` transition, and their steps
    with the historical dates: one INSERT for the applications and one for the decisions."""
    reason = str(_("Migrated from the identified list %(file)s")) % {"file": file_name}
    applications = []
    for row in rows:
        app = HardshipApplication(
            student_id=row.student_id,
            school_id=row.school_id,
            grade_id=row.grade_id,
            klass_id=row.klass_id,
            academic_year=academic_year,
            nominated_by=actor,
            proposed_tier=row.tier,
            categories=row.categories,
            family_situation=row.family_situation,
            tier=row.tier,
            identified_on=row.dates["identified_on"],
            # The district identified the pupil on the evidence of its time; nothing is asked again.
            materials_complete=True,
            migrated=True,
        )
        app.migrate()
        applications.append(app)
    with trail.labelled("application.migrate", reason[:500]):
        HardshipApplication.objects.bulk_create(applications)
    decisions = []
    for row, app in zip(rows, applications, strict=True):
        steps = [
            (Decision.NOMINATE, "", S.CLASS_EVALUATION, "", row.dates.get("nominated_on")),
            (Decision.APPROVE, S.CLASS_EVALUATION, S.GRADE_REVIEW, "", row.dates.get("class_evaluated_on")),
            (Decision.APPROVE, S.SCHOOL_REVIEW, S.SCHOOL_APPROVED, row.tier, row.dates.get("school_reviewed_on")),
            (Decision.APPROVE, S.DISTRICT_REVIEW, S.IDENTIFIED, row.tier, row.dates["identified_on"]),
        ]
        # The steps the list dates; the identification itself always.
        decisions.extend(
            ApplicationDecision(
                application=app,
                decision=decision,
                from_status=source,
                to_status=target,
                tier=tier,
                reason=reason,
                actor=None,
                decided_on=day,
                migrated=True,
            )
            for decision, source, target, tier, day in steps
            if day is not None
        )
    with trail.labelled("application.migrate", reason[:500]):
        ApplicationDecision.objects.bulk_create(decisions)
    identified_summary_touch(applications=applications)


# --- The browser's way in: upload, background job, report ----------------------------------------------


def job_folder(job: Job) -> str:
    """Where a job's upload and report live in the uploads storage (never served directly)."""
    return storage.job_folder(UPLOAD_FOLDER, job)


def migration_upload(*, upload: UploadedFile, academic_year: int, actor: User) -> Job:
    """Check an uploaded list (a bad file is refused at once: MigrationFileError), store it and start
    the import job for `academic_year`; its task is sent when the request's transaction commits."""
    from .tasks import identification_migration_task
    from .validate import inspect

    permissions.require(actor, Action.IDENTIFICATION_MIGRATE)
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise MigrationFileError(FileProblem.TOO_LARGE, limit=settings.MAX_UPLOAD_BYTES // (1024 * 1024))
    name = Path(upload.name or UPLOAD_NAME).name[:200]
    with storage.scratch_folder("migration-") as scratch:
        incoming = storage.write_private(scratch / UPLOAD_NAME, upload.chunks())
        inspect(incoming)
        params = {"name": name, "academic_year": academic_year}
        job = jobs.job_start(kind=JOB_KIND, actor=actor, task=identification_migration_task, params=params)
        stored = storage.store(f"{job_folder(job)}/{UPLOAD_NAME}", incoming)
    with trail.labelled("identification.migration_upload", name):
        Job.objects.filter(pk=job.pk).update(params={**params, "file": stored})
    return job


def migration_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The import of a job started by migration_upload, as the person who started it; the row report
    is stored next to the upload, which is deleted when the import ends (it holds full ID numbers). A
    file that cannot be used is the job's result (its message on the page), not a crash. The import
    reads a private scratch copy, deleted when the job ends."""
    stored = job.params["file"]
    name = job.params.get("name", UPLOAD_NAME)
    with tenant_transaction(job.tenant_id):
        actor = User.objects.get(pk=job.actor_id)
    with storage.scratch_folder("migration-") as scratch:
        report_path = scratch / REPORT_NAME
        try:
            outcome = identification_migration_import(
                path=storage.fetch(stored, scratch / UPLOAD_NAME),
                file_name=name,
                academic_year=int(job.params["academic_year"]),
                actor=actor,
                report_path=report_path,
                on_progress=lambda done, total: jobs.job_progress(job, done=done, total=total),
            )
        except (MigrationFileError, MigrationRefused) as exc:
            storage.discard(stored)
            code = exc.problem.value if isinstance(exc, MigrationFileError) else exc.code
            return {"error": code, "message": exc.message}, exc.message
        storage.discard(stored)
        report = storage.store(f"{job_folder(job)}/{REPORT_NAME}", report_path) if report_path.exists() else ""
    result = outcome.as_result()
    if report:
        result["report"] = report
    if outcome.applied:
        message = _("%(imported)s imported, %(unchanged)s already imported, %(existing)s with an application") % result
    elif result["rejected"]:
        message = _("Nothing imported: %(rejected)s rows rejected") % result
    else:
        message = _("Nothing to import: %(unchanged)s already imported, %(existing)s with an application") % result
    return result, str(message)
