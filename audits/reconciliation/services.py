"""Running a reconciliation and acting on its lists.

`reconciliation_run` computes the lists (engine.reconcile) and writes the run and its findings in one
transaction: a worker killed half-way leaves nothing, and the job simply runs again. A run whose inputs
(fingerprints of the snapshots and of the tenant's data) equal a finished run's finds that run and
writes nothing. Acting on a list goes through the ordinary services: omissions become proposed awards
on the schools' lists (published by the school, approved by the district, paid by the reissue batch);
errors become proposed stops and recoveries (approved by a second person). A finding acted on is marked,
so a second click does nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.tenancy.context import current_tenant_id, tenant_transaction
from funding.models import Award, Program, Semester
from funding.services.awards import award_omissions_add
from schools import jobs, permissions
from schools.models import Job, JobStatus, School, SchoolClass, User
from schools.permissions import Action
from students.models import Student

from ..models import Finding, FindingKind, FindingStatus, ReasonCode, ReconciliationRun, RunStatus
from .engine import FindingRow, Progress, reconcile

JOB_KIND = "reconciliation"


def reconciliation_start(*, actor: Any, semester: Semester) -> Job:
    """Queue a run of the semester (the browser's button): a background job with a progress bar."""
    from .tasks import reconciliation_task

    permissions.require(actor, Action.RECONCILIATION_RUN)
    return jobs.job_start(kind=JOB_KIND, actor=actor, task=reconciliation_task, params={"semester": str(semester.pk)})


def reconciliation_run(
    *, actor: Any, semester: Semester, progress: Progress | None = None
) -> tuple[ReconciliationRun, bool]:
    """Run the reconciliation of the semester; returns (run, created). Same inputs: the finished run."""
    tenant = current_tenant_id()
    # Reads in one tenant transaction (a worker task runs with atomic=False, so outside one the
    # database's tenant setting is not active); the write in another, below.
    with tenant_transaction(tenant):
        permissions.require(actor, Action.RECONCILIATION_RUN)
        outcome = reconcile(semester=semester, progress=progress)
        same = ReconciliationRun.objects.filter(
            semester=semester, status=RunStatus.DONE, inputs_fingerprint=outcome.fingerprint
        ).first()
    if same is not None:
        return same, False
    counts: dict[str, int] = defaultdict(int)
    for f in outcome.findings:
        counts[str(f.kind)] += 1
        counts[f"{f.kind}:{f.reason}"] += 1
    try:
        with tenant_transaction(tenant):
            run = ReconciliationRun(
                semester=semester,
                started_by=actor,
                status=RunStatus.DONE,
                inputs=outcome.inputs,
                inputs_fingerprint=outcome.fingerprint,
                counts=dict(counts),
                finished_at=timezone.now(),
            )
            with trail.labelled("reconciliation.run"):
                run.save()
            # The run's audit row (with its counts and input fingerprints) stands for its findings.
            _write_findings(run, outcome.findings)
    except IntegrityError:
        # Another worker finished the same inputs at the same moment: theirs is the run.
        with tenant_transaction(tenant):
            same = ReconciliationRun.objects.get(
                semester=semester, status=RunStatus.DONE, inputs_fingerprint=outcome.fingerprint
            )
        return same, False
    return run, True


_FINDING_COLUMNS = (
    "student_id", "school_id", "grade_id", "klass_id", "program_id", "award_id",
    "kind", "reason", "category", "amount", "evidence",
)  # fmt: skip


def _write_findings(run: ReconciliationRun, findings: list[FindingRow]) -> None:
    """All the run's findings in a few statements: on PostgreSQL COPY into a TEMP table and one
    INSERT … SELECT (COPY cannot write through forced row-level security); elsewhere bulk INSERTs."""
    tenant_id = current_tenant_id()
    if connection.vendor != "postgresql":
        Finding._base_manager.bulk_create(
            [
                Finding(
                    tenant_id=tenant_id, run=run, kind=f.kind, reason=f.reason, student_id=f.student_id,
                    school_id=f.school_id, grade_id=f.grade_id, klass_id=f.klass_id, program_id=f.program_id,
                    award_id=f.award_id, category=f.category, amount=f.amount, evidence=f.evidence,
                )
                for f in findings
            ],
            batch_size=2000,
        )  # fmt: skip
        return
    qn = connection.ops.quote_name
    table = qn(Finding._meta.db_table)
    cols = ", ".join(qn(c) for c in _FINDING_COLUMNS)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS finding_stage AS SELECT {cols} FROM {table} WHERE 1 = 0"  # noqa: S608
        )
        cursor.execute("TRUNCATE finding_stage")
        with cursor.cursor.copy(f"COPY finding_stage ({cols}) FROM STDIN") as copy:
            for f in findings:
                copy.write_row(
                    (
                        f.student_id, f.school_id, f.grade_id, f.klass_id, f.program_id, f.award_id,
                        str(f.kind), str(f.reason), f.category, f.amount,
                        json.dumps(f.evidence, ensure_ascii=False, default=str),
                    )
                )  # fmt: skip
        # Every reference is proved in the same statement, for all the findings at once: the join
        # finds only the run, pupils, classes, programs and awards that row-level security lets this
        # tenant see, so a finding naming anything else is not inserted and the count tells. (Per-row
        # foreign keys did the same at about 3 µs a key, five keys a finding: seconds per run.)
        refs = {m: qn(m._meta.db_table) for m in (ReconciliationRun, Student, SchoolClass, Program, Award)}
        picked = ", ".join(f"f.{qn(c)}" for c in _FINDING_COLUMNS)
        cursor.execute(
            f"INSERT INTO {table} (id, tenant_id, run_id, created_at, updated_at, status, acted_ref, {cols}) "  # noqa: S608
            f"SELECT gen_random_uuid(), %s, r.id, %s, %s, %s, '', {picked} FROM finding_stage f "
            f"JOIN {refs[ReconciliationRun]} r ON r.tenant_id = %s AND r.id = %s "
            f"JOIN {refs[Student]} st ON st.tenant_id = r.tenant_id AND st.id = f.student_id "
            f"JOIN {refs[SchoolClass]} c ON c.tenant_id = r.tenant_id "
            "AND c.id = f.klass_id AND c.school_id = f.school_id AND c.grade_id = f.grade_id "
            f"LEFT JOIN {refs[Program]} p ON p.tenant_id = r.tenant_id AND p.id = f.program_id "
            f"LEFT JOIN {refs[Award]} a ON a.tenant_id = r.tenant_id AND a.id = f.award_id "
            "WHERE (f.program_id IS NULL) = (p.id IS NULL) AND (f.award_id IS NULL) = (a.id IS NULL)",
            [tenant_id, now, now, FindingStatus.OPEN, tenant_id, run.pk],
        )
        if cursor.rowcount != len(findings):
            # A bug, not bad input (the engine read every id under the same tenant): nothing is kept.
            raise RuntimeError("a finding names a row this tenant cannot see; the run is not written")
        cursor.execute("TRUNCATE finding_stage")


def reconciliation_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The background job's work, as the person who started it."""
    with tenant_transaction(job.tenant_id):
        semester = Semester.objects.get(pk=job.params["semester"])
        actor = User.objects.get(pk=job.actor_id)

    def progress(done: int, total: int, message: str) -> None:
        jobs.job_progress(job, done=done, total=total, message=message)

    run, created = reconciliation_run(actor=actor, semester=semester, progress=progress)
    message = str(_("Reconciliation finished.") if created else _("Same inputs as an earlier run: its lists stand."))
    return {"run": str(run.pk), "created": created, "counts": run.counts}, message


# --- Acting on the lists ----------------------------------------------------------------------------------


@dataclass
class ActResult:
    acted: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (finding id, why)


def _open(run: ReconciliationRun, kinds: list[str], finding_ids: list[Any] | None) -> Any:
    qs = Finding.objects.filter(run=run, kind__in=kinds, status=FindingStatus.OPEN)
    if finding_ids is not None:
        qs = qs.filter(pk__in=finding_ids)
    return qs


def _latest(run: ReconciliationRun) -> None:
    """Only the semester's latest run is acted on: an older one may list what was fixed since."""
    newest = ReconciliationRun.objects.filter(semester_id=run.semester_id).order_by("-created_at").first()
    if newest is not None and newest.pk != run.pk:
        raise ValidationError(_("A newer reconciliation of this semester exists: act on its lists."))


def _still_open(findings: list[Finding]) -> list[Finding]:
    """The findings no one has acted on meanwhile, their rows locked until the transaction commits: a
    second job (or a job sent again after its worker died) acting at the same moment waits here, then
    finds them acted on and leaves them alone."""
    open_now = set(
        Finding.objects.select_for_update()
        .filter(pk__in=[f.pk for f in findings], status=FindingStatus.OPEN)
        .values_list("pk", flat=True)
    )
    return [f for f in findings if f.pk in open_now]


#: How often (in findings) acting on the corrections' list reports its progress.
PROGRESS_EVERY = 20


def omissions_to_awards(
    *,
    actor: Any,
    run: ReconciliationRun,
    finding_ids: list[Any] | None = None,
    progress: Progress | None = None,
) -> ActResult:
    """补发: put the omitted students on their schools' lists for the reissue batch, in one action.

    Students not yet identified are left open: the school nominates them first (the review chain is
    not skipped); the others are proposed on the lists, school by school and program by program, one
    tenant transaction per school and program (with the findings marked in it), so a job killed
    half-way and run again acts on what was left open, and on nothing twice.
    """
    tenant = current_tenant_id()
    result = ActResult()
    # Reads in a tenant transaction (a worker task runs with atomic=False: outside one the database's
    # tenant setting is not active), the permission's too.
    with tenant_transaction(tenant):
        permissions.require(actor, Action.RECONCILIATION_ACT)
        _latest(run)
        findings = list(_open(run, [FindingKind.OMISSION], finding_ids))
        semester = Semester.objects.get(pk=run.semester_id)
    groups: dict[tuple[Any, Any], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.reason != ReasonCode.NOT_AWARDED or f.program_id is None:
            result.skipped.append((str(f.pk), str(_("not identified yet: the school nominates the student first"))))
            continue
        groups[(f.program_id, f.school_id)].append(f)
    for step, ((program_id, school_id), group) in enumerate(groups.items(), start=1):
        with tenant_transaction(tenant):
            group = _still_open(group)
            if group:
                awards = award_omissions_add(
                    actor=actor,
                    program=Program.objects.get(pk=program_id),
                    semester=semester,
                    school=School.objects.get(pk=school_id),
                    student_ids=[f.student_id for f in group],
                )
                by_student = {a.student_id: a for a in awards}
                for f in group:
                    award = by_student.get(f.student_id)
                    if award is None:
                        result.skipped.append((str(f.pk), str(_("no longer eligible, or already on the list"))))
                        continue
                    _mark(f, award.pk)
                    result.acted += 1
        if progress is not None:
            progress(step, len(groups), str(_("Omissions onto the schools' lists")))
    return result


def errors_to_corrections(
    *,
    actor: Any,
    run: ReconciliationRun,
    finding_ids: list[Any] | None = None,
    progress: Progress | None = None,
) -> ActResult:
    """停发 / 追回: propose a stop (not paid yet) or a recovery (paid) for each listed award; each takes
    effect when a second person approves it. One tenant transaction per finding (the correction and
    the finding's mark together), so a job run again proposes nothing twice: a second finding of an
    award acted on before (by this call or an earlier attempt) takes that award's correction."""
    from disbursements.services.corrections import correction_propose

    tenant = current_tenant_id()
    result = ActResult()
    kinds = [FindingKind.STOP, FindingKind.RECOVER]
    with tenant_transaction(tenant):
        permissions.require(actor, Action.RECONCILIATION_ACT)
        _latest(run)
        findings = list(_open(run, kinds, finding_ids).order_by("award_id", "reason"))
        done: dict[Any, Any] = dict(
            Finding.objects.filter(run=run, kind__in=kinds, status=FindingStatus.ACTED)
            .exclude(acted_ref="")
            .order_by("award_id", "pk")
            .values_list("award_id", "acted_ref")
        )
    for step, f in enumerate(findings, start=1):
        if progress is not None and (step % PROGRESS_EVERY == 0 or step == len(findings)):
            progress(step, len(findings), str(_("Stops and recoveries proposed")))
        try:
            with tenant_transaction(tenant):
                if not _still_open([f]):
                    continue  # acted on meanwhile (another job, or this job's earlier attempt)
                if f.award_id in done:  # a second reason for the same award: one correction covers both
                    _mark(f, done[f.award_id])
                    result.acted += 1
                    continue
                correction = correction_propose(
                    actor=actor,
                    award=Award.objects.get(pk=f.award_id),
                    reason=str(_("Reconciliation: %(reason)s") % {"reason": ReasonCode(f.reason).label}),
                    evidence=str(f.evidence)[:2000],
                )
                _mark(f, correction.pk)
        except ValidationError as exc:
            result.skipped.append((str(f.pk), "；".join(exc.messages)))
            continue
        done[f.award_id] = correction.pk
        result.acted += 1
    return result


ACT_JOB_KIND = "reconciliation_act"
OMISSIONS, CORRECTIONS = "omissions", "corrections"
#: The findings left open that the job's result names (with the count of all of them).
SKIPPED_SHOWN = 5


def reconciliation_act_start(*, actor: Any, run: ReconciliationRun, what: str) -> Job:
    """Queue acting on a run's list (`omissions` → awards, `corrections` → stops and recoveries): a
    background job with a progress bar. A second click while one is queued or running for the run
    and list gets that job (the run row is locked while looking, so two clicks see each other)."""
    from .tasks import reconciliation_act_task

    permissions.require(actor, Action.RECONCILIATION_ACT)
    if what not in (OMISSIONS, CORRECTIONS):
        raise ValueError(what)
    with tenant_transaction(current_tenant_id()):
        ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        _latest(run)
        pending = (
            Job.objects.filter(
                kind=ACT_JOB_KIND,
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                params__run=str(run.pk),
                params__what=what,
            )
            .order_by("created_at", "pk")
            .first()
        )
        if pending is not None:
            return pending
        return jobs.job_start(
            kind=ACT_JOB_KIND, actor=actor, task=reconciliation_act_task, params={"run": str(run.pk), "what": what}
        )


def reconciliation_act_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The background job's work, as the person who started it; a refusal (a newer run exists) is
    the job's result, shown on the page."""
    with tenant_transaction(job.tenant_id):
        run = ReconciliationRun.objects.get(pk=job.params["run"])
        actor = User.objects.get(pk=job.actor_id)

    def progress(done: int, total: int, message: str) -> None:
        jobs.job_progress(job, done=done, total=total, message=message)

    act = omissions_to_awards if job.params["what"] == OMISSIONS else errors_to_corrections
    try:
        result = act(actor=actor, run=run, progress=progress)
    except ValidationError as exc:
        message = "；".join(exc.messages)
        return {"refused": message, "run": str(run.pk)}, message
    reasons = sorted({why for _pk, why in result.skipped})
    body = {
        "run": str(run.pk),
        "what": job.params["what"],
        "acted": result.acted,
        "skipped": len(result.skipped),
        "reasons": reasons[:SKIPPED_SHOWN],
    }
    counts = {"acted": result.acted, "skipped": len(result.skipped)}
    return body, str(_("%(acted)s findings acted on, %(skipped)s left open.") % counts)


def _mark(finding: Finding, ref: Any) -> None:
    finding.act()
    finding.acted_ref = str(ref)
    with trail.labelled("finding.act"):
        finding.save(update_fields=["status", "acted_ref", "updated_at"])
