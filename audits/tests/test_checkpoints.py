"""The audit chain's tail, anchored outside the database: signed checkpoints, and verify_audit against them."""

from __future__ import annotations

import json
import os
import stat
from io import StringIO

import pytest
from django.core.management import call_command

from audits.checkpoints import checkpoint_verify, checkpoint_write, checkpoints_read
from audits.tasks import write_checkpoints_everywhere
from core.audit.models import AuditChainHead
from core.tenancy.context import tenant_transaction
from schools.models import Tenant


@pytest.fixture
def checkpoint_dir(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


def _files(directory, tenant):
    return sorted((directory / str(tenant.pk)).glob("*.json"))


def _head_seq(tenant) -> int:
    with tenant_transaction(tenant.pk):
        return AuditChainHead.objects.get(tenant_id=tenant.pk).last_seq


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
