"""Appending events to their tenants' chains: one transaction at a time per tenant, in bulk.

`append` takes the events a change produced (the ORM hooks', a service's, an import's hundreds of
thousands), seals each to the one before (core.audit.chain) and writes them in the caller's
transaction: a few rows through the ORM, many by one executemany (SQLite) or COPY into a staging table
and one INSERT … SELECT (PostgreSQL, whose row-level security forbids COPY into the table itself).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from core.crypto import keyring
from core.pgcopy import NULL, copy_text

from .actors import current_actor
from .chain import GENESIS, canonical_text, encode, key_fingerprint, seal_body, shared_text
from .models import AuditChainHead, AuditEvent


@dataclass
class Pending:
    """An event to append: its tenant, what happened to which row, the values before and after."""

    tenant_id: uuid.UUID
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: before/after as `encode()` spells them, when the caller encoded them already (the roster import
    #: does, in the process that prepares its rows); then before/after themselves may be left None
    before_text: str | None = None
    after_text: str | None = None


@dataclass(frozen=True)
class _Shared:
    """The fields every row of one append has in common."""

    tenant_id: uuid.UUID
    occurred_at: dt.datetime
    actor_id: uuid.UUID | None
    actor_label: str
    source: str
    request_id: str
    key_id: str


def append(pending: list[Pending]) -> int:
    """Append events to their tenants' chains, inside the caller's transaction; returns how many.

    The tenant's chain head is locked for the rest of the transaction: a tenant's events are appended
    one transaction at a time, in a single order that verify_audit can check.
    """
    if not pending:
        return 0
    if not connection.in_atomic_block:
        raise RuntimeError("audit rows are written inside the transaction of the change they record")
    ring = keyring()
    actor = current_actor()
    now = timezone.now()
    key_id = key_fingerprint(ring.audit_key)
    label = actor.label[:150]
    by_tenant: dict[uuid.UUID, list[Pending]] = defaultdict(list)
    for p in pending:
        by_tenant[p.tenant_id].append(p)
    for tenant_id, items in by_tenant.items():
        AuditChainHead.objects.bulk_create([AuditChainHead(tenant_id=tenant_id)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(tenant_id=tenant_id)
        seq, prev = head.last_seq, head.last_hash or GENESIS
        shared = _Shared(tenant_id, now, actor.user_id, label, actor.source, actor.request_id, key_id)
        common = shared_text(tenant_id, now, actor.user_id, label, actor.source)
        rows: list[tuple[Any, ...]] = []  # in _ROW_COLUMNS order, before/after as the JSON text sealed
        for p in items:
            seq += 1
            action, object_type, object_id = p.action[:64], p.object_type[:100], p.object_id[:64]
            before = p.before_text if p.before_text is not None else encode(p.before)
            after = p.after_text if p.after_text is not None else encode(p.after)
            body = canonical_text(
                seq, common, action, object_type, object_id, before, after, p.reason, actor.request_id
            ).encode()
            digest = seal_body(ring.audit_key, prev, body)
            rows.append(
                (
                    seq, action, object_type, object_id, None if before == "null" else before,
                    None if after == "null" else after, p.reason, prev, digest,
                )
            )  # fmt: skip
            prev = digest
        _insert(shared, rows, items)
        head.last_seq, head.last_hash = seq, prev
        head.save(update_fields=["last_seq", "last_hash"])
    return len(pending)


#: From this many rows on, PostgreSQL gets the rows by COPY (an import writes hundreds of thousands;
#: Django's bulk INSERT spends most of its time quoting arrays).
COPY_FROM = 500
_SHARED_COLUMNS = ("tenant_id", "occurred_at", "actor_id", "actor_label", "source", "request_id", "key_id")
_ROW_COLUMNS = ("seq", "action", "object_type", "object_id", "before", "after", "reason", "prev_hash", "hash")
_STAGE = "audit_event_rows"
#: The staged columns as the INSERT reads them (before and after are staged as text: see _insert).
_STAGED_COLUMNS = ", ".join(f"{c}::jsonb" if c in ("before", "after") else c for c in _ROW_COLUMNS)


def _copy_rows(rows: list[tuple[Any, ...]]) -> str:
    """The rows (in _ROW_COLUMNS order) as COPY text. Written out for speed (an import appends 240,000
    rows): actions, object types and reasons repeat and are escaped once; the sealed JSON needs only
    its backslashes doubled (the encoder writes control characters as escapes); hashes are hex."""
    escaped: dict[str, str] = {}

    def once(text: str) -> str:
        found = escaped.get(text)
        if found is None:
            found = escaped[text] = copy_text(text)
        return found

    def json_text(text: str | None) -> str:
        if text is None:
            return NULL
        return text.replace("\\", "\\\\") if "\\" in text else text

    return "".join(
        [
            f"{seq}\t{once(action)}\t{once(object_type)}\t{copy_text(object_id)}\t{json_text(before)}\t"
            f"{json_text(after)}\t{once(reason)}\t{prev}\t{digest}\n"
            for seq, action, object_type, object_id, before, after, reason, prev, digest in rows
        ]
    )


def _insert(shared: _Shared, rows: list[tuple[Any, ...]], items: list[Pending]) -> None:
    if connection.vendor != "postgresql" and len(rows) >= COPY_FROM:
        # SQLite, a large append (an import): one executemany of the values as sealed, the JSON as
        # the text already encoded for the seal, instead of 200,000 model instances whose JSON
        # fields would encode it again (a roster import's audit rows: 14.5 s that way).
        meta = AuditEvent._meta
        fields: list[Any] = [meta.get_field(name) for name in _SHARED_COLUMNS]
        common = [
            f.get_db_prep_value(getattr(shared, name), connection)
            for f, name in zip(fields, _SHARED_COLUMNS, strict=True)
        ]
        columns = ", ".join(_SHARED_COLUMNS + _ROW_COLUMNS)
        marks = ", ".join(["%s"] * (len(_SHARED_COLUMNS) + len(_ROW_COLUMNS)))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO audits_auditevent ({columns}) VALUES ({marks})",  # noqa: S608
                [[*common, *row] for row in rows],
            )
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        events = []
        shared_values = {name: getattr(shared, name) for name in _SHARED_COLUMNS}
        for row, p in zip(rows, items, strict=True):
            values = dict(zip(_ROW_COLUMNS, row, strict=True))
            # The JSON field takes the values (decoded again if they came encoded).
            values["before"] = p.before if p.before_text is None else json.loads(p.before_text)
            values["after"] = p.after if p.after_text is None else json.loads(p.after_text)
            events.append(AuditEvent(**shared_values, **values))
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        return
    # Row-level security forbids COPY into the audit table itself: COPY into a temporary table, then
    # one INSERT … SELECT in sequence order (the ids follow the chain, as verify_audit expects). The
    # fields the rows share are parameters of that statement, not columns copied 200,000 times. The
    # JSON is staged as text and parsed once, by the INSERT (staged as jsonb, it was parsed into the
    # temporary table, then read and copied again).
    row_columns = ", ".join(_ROW_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (seq bigint, action text, object_type text, "
            "object_id text, before text, after text, reason text, prev_hash text, hash text) "
            "ON COMMIT DELETE ROWS"
        )
        data = _copy_rows(rows).encode()
        with cursor.cursor.copy(f"COPY {_STAGE} ({row_columns}) FROM STDIN") as copy:
            copy.write(data)
        shared_columns = ", ".join(_SHARED_COLUMNS)
        cursor.execute(
            f"INSERT INTO audits_auditevent ({shared_columns}, {row_columns}) "  # noqa: S608
            f"SELECT {', '.join(['%s'] * len(_SHARED_COLUMNS))}, {_STAGED_COLUMNS} FROM {_STAGE} ORDER BY seq",
            [getattr(shared, name) for name in _SHARED_COLUMNS],
        )
        cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608
