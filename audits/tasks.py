"""Background work of the audits app."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs

from .checkpoints import checkpoint_verify, checkpoints_write_everywhere
from .crossdistrict.tasks import crossdistrict_match_task
from .reconciliation.tasks import reconciliation_act_task, reconciliation_task
from .registry.tasks import registry_import_task
from .verify import verify_tenant_chain

# Celery's autodiscovery imports this module only: the tasks of the packages are named here.
__all__ = [
    "crossdistrict_match_task",
    "reconciliation_act_task",
    "reconciliation_task",
    "registry_import_task",
    "verify_chain",
    "write_checkpoints_everywhere",
]

VERIFY_JOB_KIND = "audit_verify"


@shared_task(base=TenantTask, atomic=False, name="audits.verify_chain")
def verify_chain(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Verify the tenant's audit chain, and its end against the checkpoints outside the database, for
    the job `job_id` (a read-only check: safe to repeat)."""

    def work(job):
        problems = verify_tenant_chain(
            job.tenant_id, on_progress=lambda done, total: jobs.job_progress(job, done=done, total=total)
        )
        verdict = checkpoint_verify(tenant_id=job.tenant_id)
        problems += verdict.problems
        return {"problems": [str(p) for p in problems], "checkpoint": verdict.note}, f"{len(problems)}"

    jobs.run(job_id=job_id, work=work)


@shared_task(name="audits.write_checkpoints_everywhere")
def write_checkpoints_everywhere() -> int:
    """Hourly (Celery beat): a signed checkpoint of every tenant's chain head, outside the database
    (audits.checkpoints); returns how many. It reads only the global tenant table and each tenant's
    chain head, in that tenant's transaction, and writes no audit row (each file is logged)."""
    return len(checkpoints_write_everywhere())
