"""Checkpoints of the audit chains (审计锚点): each tenant's chain head, signed, kept outside the database.

The chain proves that no row was altered, removed from the middle or reordered, and its head
(AuditChainHead) that none was removed from the end, unless whoever removed them moved the head back
too, which the database's superuser can. A checkpoint records a tenant's head (its last seq, which is
the number of events, and that event's hash) at a time, signed with the audit key under a purpose of
its own, in AUDIT_CHECKPOINT_DIR: storage the database and its superuser cannot write (see
docs/architecture.md, "The audit trail"). `checkpoint_verify` then finds a chain that ends before a
checkpoint, or no longer holds a checkpoint's hash at its seq.

One file per checkpoint, `<dir>/<tenant id>/<UTC time>-<seq>.json`, written once and never changed
(a temporary file, then `os.replace`; files 0600, directories 0700): a write-once object is what a
WORM or object-locked bucket keeps, and what a sync to one copies as it is; an append-only file per
tenant would have to be rewritten whole at every checkpoint to be replaced atomically.

The checkpoint writes no audit event: one would move every chain each hour (and leave each checkpoint
one event behind the head it was written for); the signed file is the record, and the task's log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.audit.trail import GENESIS, key_fingerprint
from core.crypto import keyring
from core.tenancy.context import tenant_transaction
from schools.models import Tenant

from .models import AuditChainHead, AuditEvent
from .verify import Problem

logger = logging.getLogger(__name__)

#: Signed before the checkpoint's fields. An event's seal signs its previous hash (64 hex digits)
#: first, so no checkpoint signature can pass for a seal, nor a seal for a checkpoint signature.
PURPOSE = b"audit-checkpoint\x1f"
VERSION = 1
_HASH = re.compile(r"[0-9a-f]{64}")


class CheckpointError(Exception):
    """Some tenants' checkpoints could not be written (each is logged)."""


@dataclass(frozen=True)
class Checkpoint:
    """A tenant's chain head as it stood at `at`: `seq` events, the last with hash `hash`."""

    tenant_id: uuid.UUID
    seq: int
    hash: str
    at: dt.datetime
    path: Path

    def when(self) -> str:
        return timezone.localtime(self.at).isoformat(timespec="seconds")


@dataclass(frozen=True)
class CheckpointVerdict:
    """What a tenant's checkpoints say about its chain: problems (tampering, bad checkpoints) and a
    note for the report (none yet, or how many and the newest)."""

    problems: list[Problem]
    note: str


def _sign(fields: dict[str, Any], key: bytes) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, PURPOSE + body, hashlib.sha256).hexdigest()


def _tenant_dir(tenant_id: uuid.UUID) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / str(tenant_id)


# --- Writing -------------------------------------------------------------------------------------------


def checkpoint_write(*, tenant_id: uuid.UUID) -> Checkpoint:
    """Write a signed checkpoint of the tenant's chain head as it is now (committed); a new file every
    time, none ever changed."""
    with tenant_transaction(tenant_id):
        head = AuditChainHead.objects.filter(tenant_id=tenant_id).first()
    # The file is written after the transaction: no file I/O while it holds a connection's snapshot.
    seq, last_hash = (head.last_seq, head.last_hash or GENESIS) if head else (0, GENESIS)
    at = timezone.now().astimezone(dt.UTC)
    key = keyring().audit_key
    fields = {
        "v": VERSION,
        "tenant_id": str(tenant_id),
        "seq": seq,
        "hash": last_hash,
        "at": at.isoformat(timespec="microseconds"),
        "key_id": key_fingerprint(key),
    }
    record = {**fields, "signature": _sign(fields, key)}
    directory = _tenant_dir(tenant_id)
    _make_private_dir(directory.parent)
    _make_private_dir(directory)
    path = directory / f"{at:%Y%m%dT%H%M%S%fZ}-{seq:012d}.json"
    _write_once(path, (json.dumps(record, sort_keys=True) + "\n").encode())
    logger.info("audit checkpoint of tenant %s at #%s written to %s", tenant_id, seq, path)
    return Checkpoint(tenant_id=uuid.UUID(str(tenant_id)), seq=seq, hash=last_hash, at=at, path=path)


def checkpoints_write_everywhere() -> list[Checkpoint]:
    """A checkpoint for every tenant, active or not (a closed district's trail is still evidence).
    One tenant's failure is logged and does not keep the others from theirs; CheckpointError after."""
    written, failed = [], []
    for tenant_id in Tenant.objects.order_by("slug").values_list("pk", flat=True):
        try:
            written.append(checkpoint_write(tenant_id=tenant_id))
        except Exception:
            logger.exception("audit checkpoint of tenant %s failed", tenant_id)
            failed.append(tenant_id)
    if failed:
        raise CheckpointError(f"no audit checkpoint written for {len(failed)} tenant(s): {failed}")
    return written


def _make_private_dir(path: Path) -> None:
    """Create `path` as 0700 (whatever the umask). One that exists is left as it is: it may be a mount
    whose owner and mode the operator chose."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return
    path.chmod(0o700)


def _write_once(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, 0600: a temporary file beside it, synced, then renamed."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # whatever the umask
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    except OSError:
        pass  # some network filesystems refuse to sync a directory; the file itself is synced
    finally:
        os.close(directory)


# --- Reading and verifying -----------------------------------------------------------------------------


def checkpoints_read(*, tenant_id: uuid.UUID) -> tuple[list[Checkpoint], list[Problem]]:
    """The tenant's checkpoints whose signature holds, oldest first, and a problem for every file
    that is not one (altered, forged, unreadable, another tenant's, signed with another key)."""
    directory = _tenant_dir(tenant_id)
    if not directory.is_dir():
        return [], []
    key = keyring().audit_key
    key_id = key_fingerprint(key)
    found: list[Checkpoint] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.json")):

        def bad(message: str, path: Path = path) -> None:
            problems.append(Problem(tenant_id, None, f"checkpoint {path.name}: {message}"))

        try:
            fields = json.loads(path.read_bytes())
            signature = fields.pop("signature")
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            bad("not a readable checkpoint")
            continue
        if fields.get("key_id") != key_id:
            bad("signed with a key this server does not hold")
            continue
        if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(fields, key)):
            bad("its signature does not match (the file was altered or forged)")
            continue
        if fields.get("tenant_id") != str(tenant_id):
            bad(f"signed for tenant {fields.get('tenant_id')}, not this one (moved here)")
            continue
        try:
            seq, last_hash, at = fields["seq"], fields["hash"], dt.datetime.fromisoformat(fields["at"])
        except (KeyError, TypeError, ValueError):
            bad("not a readable checkpoint")
            continue
        if fields.get("v") != VERSION or type(seq) is not int or seq < 0 or not _HASH.fullmatch(str(last_hash)):
            bad("not a readable checkpoint")
            continue
        found.append(Checkpoint(tenant_id=tenant_id, seq=seq, hash=last_hash, at=at, path=path))
    found.sort(key=lambda c: (c.at, c.seq))
    return found, problems


def checkpoint_verify(*, tenant_id: uuid.UUID) -> CheckpointVerdict:
    """Compare the tenant's chain with every valid checkpoint: a head behind the highest checkpoint
    (events deleted from the end and the head moved back) and an event that is missing or has another
    hash than a checkpoint recorded at its seq (the chain rewritten) are problems, as is every file that
    is not a valid checkpoint. No checkpoint yet is a note, not a problem."""
    # The files first, then the database: the chain only grows, so a checkpoint written meanwhile
    # cannot look ahead of the head read after it.
    checkpoints, problems = checkpoints_read(tenant_id=tenant_id)
    if not checkpoints:
        what = "no valid checkpoint" if problems else "no checkpoint yet"
        return CheckpointVerdict(problems, f"{what}: the end of the chain is not anchored outside the database")
    recorded = sorted({(c.seq, c.hash): c for c in reversed(checkpoints)}.values(), key=lambda c: (c.seq, c.at))
    with tenant_transaction(tenant_id):
        head = AuditChainHead.objects.filter(tenant_id=tenant_id).first()
        end = head.last_seq if head else 0
        wanted = sorted({c.seq for c in recorded if 0 < c.seq <= end})
        hashes: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            hashes.update(AuditEvent.objects.filter(seq__in=wanted[start : start + 500]).values_list("seq", "hash"))
    highest = max(checkpoints, key=lambda c: (c.seq, c.at))
    if highest.seq > end:
        missing = f"#{end + 1}" if highest.seq == end + 1 else f"#{end + 1}–#{highest.seq}"
        problems.append(
            Problem(
                tenant_id,
                None,
                f"events {missing} are missing: the chain's head is at #{end} but the checkpoint of "
                f"{highest.when()} recorded #{highest.seq} (rows deleted and the head moved back)",
            )
        )
    disagreeing = [c for c in recorded if 0 < c.seq <= end and hashes.get(c.seq) != c.hash]
    if disagreeing:
        first = disagreeing[0]
        if first.seq in hashes:
            message = f"has another hash than the checkpoint of {first.when()} recorded (the chain was rewritten)"
        else:
            message = f"is missing, though the checkpoint of {first.when()} recorded it (row deleted)"
        if len(disagreeing) > 1:
            message += f"; {len(disagreeing) - 1} later checkpoint(s) disagree with the chain too"
        problems.append(Problem(tenant_id, first.seq, message))
    newest = checkpoints[-1]
    return CheckpointVerdict(
        problems, f"{len(checkpoints)} checkpoint(s), the newest of {newest.when()} at #{newest.seq}"
    )
