"""The audit chain's tail, anchored outside the database: signed checkpoints, and verify_audit against them."""

from __future__ import annotations

import json
import os
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.checkpoints import checkpoint_verify, checkpoint_write, checkpoints_read
from audits.tasks import verify_chain, write_checkpoints_everywhere
from audits.verify import verify_tenant_chain
from core.audit import trail
from core.audit.models import AuditChainHead
from core.tenancy.context import tenant_transaction
from schools.models import Job, Tenant
from schools.permissions import Role
from tests.tampering import tamper

#: How many of the newest events the tampering tests delete.
CUT = 3


@pytest.fixture
def checkpoint_dir(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


def _files(directory, tenant):
    return sorted((directory / str(tenant.pk)).glob("*.json"))


def _head_seq(tenant) -> int:
    with tenant_transaction(tenant.pk):
        return AuditChainHead.objects.get(tenant_id=tenant.pk).last_seq


def _verify_audit() -> tuple[int, str, str]:
    """manage.py verify_audit: (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _verify_job(world) -> dict:
    """The "verify" button's job for tenant A, run in-process; its result."""
    kwargs = {
        "tenant_id": str(world.a.tenant.pk),
        "actor_id": str(world.a.users[Role.DISTRICT_STAFF].pk),
        "job_id": str(world.a.job.pk),
    }
    verify_chain.apply(kwargs=kwargs, throw=True)
    with tenant_transaction(world.a.tenant.pk):
        return Job.objects.get(pk=world.a.job.pk).result


def _cut_the_tail(tenant) -> None:
    """Delete the tenant's newest CUT events and move its chain head back onto the event before them, as
    the database's superuser can: the chain and its head agree again, and the chain alone verifies."""
    tamper(
        [
            "DELETE FROM audits_auditevent WHERE tenant_id = %(t)s AND seq > "
            "(SELECT max(seq) - 3 FROM audits_auditevent WHERE tenant_id = %(t)s)",
            "UPDATE audits_auditchainhead SET "
            "last_seq = (SELECT max(seq) FROM audits_auditevent WHERE tenant_id = %(t)s), "
            "last_hash = (SELECT hash FROM audits_auditevent WHERE tenant_id = %(t)s ORDER BY seq DESC LIMIT 1) "
            "WHERE tenant_id = %(t)s",
        ],
        tenant_id=tenant.pk,
    )


@pytest.mark.skip_audit_coverage
@pytest.mark.django_db(transaction=True)
def test_a_tail_cut_with_the_head_moved_back_goes_unnoticed_without_a_checkpoint(checkpoint_dir):
    """The gap the checkpoints close: without one, the same tampering as below verifies clean."""
    from tests.factories import build_world

    world = build_world()
    tenant = world.a.tenant
    before = _head_seq(tenant)
    _cut_the_tail(tenant)
    assert _head_seq(tenant) == before - CUT
    assert verify_tenant_chain(tenant.pk) == []
    code, out, err = _verify_audit()
    assert code == 0, err
    assert f"{tenant.slug}: intact (no checkpoint yet" in out


@pytest.mark.skip_audit_coverage
@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_finds_the_tail_cut_and_names_the_missing_events(checkpoint_dir):
    from tests.factories import build_world

    world = build_world()
    tenant = world.a.tenant
    call_command("audit_checkpoint", stdout=StringIO())
    before = _head_seq(tenant)
    _cut_the_tail(tenant)
    assert verify_tenant_chain(tenant.pk) == []  # the chain alone cannot tell
    code, _out, err = _verify_audit()
    assert code == 1
    assert (
        f"{tenant.slug}: tenant {tenant.pk} chain: events #{before - CUT + 1}–#{before} are missing: the chain's "
        f"head is at #{before - CUT} but the checkpoint of "
    ) in err
    assert world.b.tenant.slug not in err  # the other tenant's chain agrees with its checkpoint
    # The "verify" button's job says the same (its own job row moves the head on by one event).
    problems = _verify_job(world)["problems"]
    assert any(f"#{before}" in p and "are missing" in p for p in problems), problems


@pytest.mark.skip_audit_coverage
@pytest.mark.django_db(transaction=True)
def test_a_tail_rewritten_past_the_checkpoint_is_found(checkpoint_dir):
    """Cut the tail, then let the application append more than was cut: the head is ahead of the
    checkpoint again, but the event at the checkpoint's seq has another hash."""
    from tests.factories import build_world

    world = build_world()
    tenant = world.a.tenant
    call_command("audit_checkpoint", stdout=StringIO())
    before = _head_seq(tenant)
    _cut_the_tail(tenant)
    with tenant_transaction(tenant.pk):
        for i in range(CUT + 2):
            trail.record(tenant_id=tenant.pk, action="test.after_the_cut", object_id=str(i))
    assert _head_seq(tenant) == before + 2
    assert verify_tenant_chain(tenant.pk) == []
    problems = checkpoint_verify(tenant_id=tenant.pk).problems
    assert [p.seq for p in problems] == [before]
    assert problems[0].message.startswith("has another hash than the checkpoint of ")
    assert problems[0].message.endswith("(the chain was rewritten)")
    assert _verify_audit()[0] == 1


@pytest.mark.parametrize("field", ["seq", "hash"])
def test_an_edited_checkpoint_is_reported_as_badly_signed_and_not_believed(world, checkpoint_dir, field):
    checkpoint = checkpoint_write(tenant_id=world.a.tenant.pk)
    record = json.loads(checkpoint.path.read_text())
    record[field] = record["seq"] + 1000 if field == "seq" else "f" * 64
    checkpoint.path.write_text(json.dumps(record))
    verdict = checkpoint_verify(tenant_id=world.a.tenant.pk)
    assert [str(p) for p in verdict.problems] == [
        f"tenant {world.a.tenant.pk} chain: checkpoint {checkpoint.path.name}: its signature does not match "
        "(the file was altered or forged)"
    ]  # and nothing about missing events: the altered seq is not taken for the chain's end
    assert verdict.note.startswith("no valid checkpoint")
    code, _out, err = _verify_audit()
    assert code == 1
    assert "signature does not match" in err


def test_a_checkpoint_moved_to_another_tenant_is_reported(world, checkpoint_dir):
    checkpoint = checkpoint_write(tenant_id=world.a.tenant.pk)
    checkpoint_write(tenant_id=world.b.tenant.pk)
    moved = _files(checkpoint_dir, world.b.tenant)[0].with_name("20000101T000000000000Z-000000000001.json")
    moved.write_bytes(checkpoint.path.read_bytes())
    checkpoints, problems = checkpoints_read(tenant_id=world.b.tenant.pk)
    assert len(checkpoints) == 1
    assert [p.message for p in problems] == [
        f"checkpoint {moved.name}: signed for tenant {world.a.tenant.pk}, not this one (moved here)"
    ]


def test_checkpoints_are_private_files_in_private_directories_whatever_the_umask(world, checkpoint_dir):
    previous = os.umask(0)
    try:
        checkpoint = checkpoint_write(tenant_id=world.a.tenant.pk)
    finally:
        os.umask(previous)
    tenant_dir = checkpoint_dir / str(world.a.tenant.pk)
    assert stat.S_IMODE(checkpoint_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(tenant_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoint.path.stat().st_mode) == 0o600
    assert list(tenant_dir.iterdir()) == [checkpoint.path]  # no temporary file left behind


def test_the_command_and_the_hourly_task_write_one_checkpoint_per_tenant(world, checkpoint_dir):
    tenants = list(Tenant.objects.order_by("slug"))
    assert len(tenants) >= 2
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert [len(_files(checkpoint_dir, t)) for t in tenants] == [1] * len(tenants)
    assert f"{world.a.tenant.slug}: #{_head_seq(world.a.tenant)} " in out.getvalue()
    assert write_checkpoints_everywhere.apply(throw=True).get() == len(tenants)
    assert [len(_files(checkpoint_dir, t)) for t in tenants] == [2] * len(tenants)
    checkpoints, problems = checkpoints_read(tenant_id=world.a.tenant.pk)
    assert problems == []
    assert [c.seq for c in checkpoints] == [_head_seq(world.a.tenant)] * 2
    call_command("audit_checkpoint", "--tenant", world.b.tenant.slug, stdout=StringIO())
    assert len(_files(checkpoint_dir, world.a.tenant)) == 2
    assert len(_files(checkpoint_dir, world.b.tenant)) == 3


def test_beat_writes_the_checkpoints_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["write-audit-checkpoints"]
    assert entry["task"] == write_checkpoints_everywhere.name == "audits.write_checkpoints_everywhere"
    assert entry["task"] in write_checkpoints_everywhere.app.tasks  # the project's app (config.celery)
    assert entry["schedule"].hour == set(range(24))
    assert len(entry["schedule"].minute) == 1


def test_a_chain_that_grew_since_its_checkpoints_verifies(world, tenant_of, checkpoint_dir):
    checkpoint_write(tenant_id=world.a.tenant.pk)
    with tenant_of(world.a.tenant):
        trail.record(tenant_id=world.a.tenant.pk, action="test.later", object_id="1")
    checkpoint_write(tenant_id=world.a.tenant.pk)
    with tenant_of(world.a.tenant):
        trail.record(tenant_id=world.a.tenant.pk, action="test.later", object_id="2")
    verdict = checkpoint_verify(tenant_id=world.a.tenant.pk)
    assert verdict.problems == []
    assert verdict.note.startswith("2 checkpoint(s), the newest of ")
    assert verdict.note.endswith(f" at #{_head_seq(world.a.tenant) - 1}")
    code, out, _err = _verify_audit()
    assert code == 0
    assert f"{world.a.tenant.slug}: intact (2 checkpoint(s), the newest of " in out


def test_without_a_checkpoint_verify_is_clean_and_says_so(world, checkpoint_dir):
    code, out, _err = _verify_audit()
    assert code == 0
    assert (
        f"{world.a.tenant.slug}: intact (no checkpoint yet: the end of the chain is not anchored outside the database)"
    ) in out
    result = _verify_job(world)
    assert result["problems"] == []
    assert result["checkpoint"].startswith("no checkpoint yet")
