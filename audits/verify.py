"""Checking the audit trail: is every tenant's chain whole, in order and unaltered?"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from core.audit.trail import GENESIS, key_fingerprint, seal
from core.crypto import keyring
from core.tenancy.context import tenant_transaction

from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class Problem:
    tenant_id: uuid.UUID
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else "chain"
        return f"tenant {self.tenant_id} {where}: {self.message}"


def verify_tenant_chain(
    tenant_id: uuid.UUID, *, chunk_size: int = 5000, on_progress: Callable[[int, int], None] | None = None
) -> list[Problem]:
    """Every problem in one tenant's chain: altered rows (hash), deleted rows (gaps, missing end),
    reordered rows (sequence against insertion order, broken links). Empty means intact."""
    ring = keyring()
    expected_key = key_fingerprint(ring.audit_key)
    problems: list[Problem] = []
    # The head is read first: rows appended while the check runs lie beyond it and are left for the
    # next check. Chunks are read in short transactions so that a job can report progress meanwhile.
    with tenant_transaction(tenant_id):
        head = AuditChainHead.objects.filter(tenant_id=tenant_id).first()
        total = AuditEvent.objects.count() if on_progress else 0
    end_seq = head.last_seq if head else 0
    prev_hash, expected_seq, last_id, done = GENESIS, 1, 0, 0
    while True:
        with tenant_transaction(tenant_id):
            chunk = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:chunk_size])
        if not chunk:
            break
        last_id = chunk[-1].id
        within = [e for e in chunk if head is None or e.seq <= end_seq]
        reached_end = len(within) < len(chunk)  # rows appended since the head was read: stop here
        chunk = within
        for event in chunk:
            if event.seq != expected_seq:
                problems.append(
                    Problem(
                        tenant_id,
                        event.seq,
                        f"out of sequence: expected #{expected_seq} (row deleted or moved)",
                    )
                )
            if event.key_id != expected_key:
                problems.append(Problem(tenant_id, event.seq, "sealed with a key this server does not hold"))
            elif event.prev_hash != prev_hash:
                problems.append(
                    Problem(tenant_id, event.seq, "does not follow the previous row (deleted or reordered)")
                )
            elif seal(event.prev_hash, event, ring.audit_key) != event.hash:
                problems.append(Problem(tenant_id, event.seq, "content does not match its seal (altered)"))
            prev_hash, expected_seq = event.hash, event.seq + 1
        done += len(chunk)
        if on_progress:
            on_progress(done, total)
        if reached_end:
            break
    last_seq = expected_seq - 1
    if head is None and last_seq:
        problems.append(Problem(tenant_id, None, "events exist but the chain head is missing"))
    elif head is not None and (end_seq != last_seq or (head.last_hash or GENESIS) != prev_hash):
        problems.append(
            Problem(tenant_id, None, f"chain ends at #{last_seq} but its head records #{end_seq} (rows deleted)")
        )
    return problems
