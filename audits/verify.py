"""Checking the audit trail: is every tenant's chain whole, in order and unaltered?"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from funding.infra.crypto import keyring
from schools.tenancy.context import tenant_transaction

from .models import AuditChainHead, AuditEvent
from .trail import GENESIS, key_fingerprint, seal


@dataclass(frozen=True)
class Problem:
    tenant_id: uuid.UUID
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else "chain"
        return f"tenant {self.tenant_id} {where}: {self.message}"


def verify_tenant_chain(tenant_id: uuid.UUID, *, chunk_size: int = 5000) -> list[Problem]:
    """Every problem in one tenant's chain: altered rows (hash), deleted rows (gaps, missing end),
    reordered rows (sequence against insertion order, broken links). Empty means intact."""
    ring = keyring()
    expected_key = key_fingerprint(ring.audit_key)
    problems: list[Problem] = []
    with tenant_transaction(tenant_id):
        head = AuditChainHead.objects.filter(tenant_id=tenant_id).first()
        prev_hash, expected_seq = GENESIS, 1
        events = AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size)
        for event in events:
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
        last_seq = expected_seq - 1
        if head is None and last_seq:
            problems.append(Problem(tenant_id, None, "events exist but the chain head is missing"))
        elif head is not None and (head.last_seq != last_seq or (head.last_hash or GENESIS) != prev_hash):
            problems.append(
                Problem(
                    tenant_id,
                    None,
                    f"chain ends at #{last_seq} but its head records #{head.last_seq} (rows deleted)",
                )
            )
    return problems
