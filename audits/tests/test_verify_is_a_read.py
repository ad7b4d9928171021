"""Verifying the audit chain is a read: the read-only auditor may start it, and it changes nothing but
its own job row."""

from __future__ import annotations

from django.test import Client

from audits.tasks import verify_chain
from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools.models import Job
from schools.permissions import Role


def test_the_auditor_verifies_the_chain_and_nothing_else_changes(world, django_capture_on_commit_callbacks):
    auditor = world.a.users[Role.DISTRICT_AUDITOR]
    with tenant_transaction(world.a.tenant.pk):
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    client = Client()
    client.force_login(auditor)
    # The task is queued when the request commits (to Redis where a broker is set: no worker here):
    # run it in this process, as a worker would.
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/audit/verify/")
    assert response.status_code == 200
    with tenant_transaction(world.a.tenant.pk):
        job = Job.objects.get(kind="audit_verify", actor=auditor)
    verify_chain.apply(kwargs={"tenant_id": str(job.tenant_id), "actor_id": str(auditor.pk), "job_id": str(job.pk)})
    with tenant_transaction(world.a.tenant.pk):
        job.refresh_from_db()
        assert job.status == "SUCCEEDED", job.message
        assert job.result["problems"] == []  # the chain is intact
        written = set(AuditEvent.objects.filter(seq__gt=last).values_list("object_type", flat=True))
        assert written == {"schools.job"}, written  # the job's own row, nothing of the tenant's data


def test_a_class_teacher_may_not_start_it(world):
    client = Client()
    client.force_login(world.a.users[Role.CLASS_TEACHER])
    assert client.post("/audit/verify/").status_code == 403
