"""Sealing the trail: the canonical bytes of a row, and the keyed hash chaining it to the one before.

Each tenant's rows form one chain: a row's hash is an HMAC-SHA256, under the audit key, of the
previous row's hash and the row's canonical JSON (every field but the hashes, in a fixed order and
encoding). audits.verify recomputes it; core.audit.append computes it for every row it writes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from typing import Any

from .models import AuditEvent

GENESIS = "0" * 64

_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_encode_str = json.encoder.encode_basestring  # the C function the encoder uses for a str


def encode(value: Any) -> str:
    """A before/after value (or any field) as the trail seals and stores it: json.dumps(value) with
    sorted keys, UTF-8 as is, no spaces (for `Pending.before_text`/`after_text`, and the seal)."""
    return _encode_str(value) if value.__class__ is str else _ENCODER.encode(value)


def canonical(event: AuditEvent) -> bytes:
    """The bytes a row's hash seals: every field but the hashes, in a fixed order and encoding."""
    shared = shared_text(event.tenant_id, event.occurred_at, event.actor_id, event.actor_label, event.source)
    return canonical_text(
        event.seq, shared, event.action, event.object_type, event.object_id, encode(event.before),
        encode(event.after), event.reason, event.request_id,
    ).encode()  # fmt: skip


def canonical_text(
    seq: int, shared: str, action: str, object_type: str, object_id: str, before: str, after: str,
    reason: str | None, request_id: str | None,
) -> str:  # fmt: skip
    """The JSON array of a row's fields, built from its elements' JSON: byte for byte what one
    json.dumps of the list gives, but an append of 200,000 rows encodes the fields its rows share once
    (`shared`, see shared_text) and each row's before/after once, for the seal and the COPY alike."""
    return (
        f"[{seq},{shared},{encode(action)},{encode(object_type)},{encode(object_id)},{before},{after},"
        f"{encode(reason)},{encode(request_id)}]"
    )


def shared_text(tenant_id: Any, occurred_at: dt.datetime, actor_id: Any, actor_label: str, source: str) -> str:
    """Tenant, time, actor, label and source: the same for every row of one append."""
    return ",".join(
        [
            encode(str(tenant_id)),
            encode(occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds")),
            encode(str(actor_id) if actor_id else None),
            encode(actor_label),
            encode(source),
        ]
    )


def key_fingerprint(key: bytes) -> str:
    """Names the key that sealed a row (so a rotation can be verified) without revealing it."""
    return hashlib.sha256(b"audit-key-id:" + key).hexdigest()[:16]


def seal(prev_hash: str, event: AuditEvent, key: bytes) -> str:
    return seal_body(key, prev_hash, canonical(event))


def seal_body(key: bytes, prev_hash: str, body: bytes) -> str:
    """The hash of a row whose canonical bytes are `body`, chained to `prev_hash`."""
    mac = _keyed_sha256(key).copy()  # the key's padding hashed once, not once per row
    mac.update(prev_hash.encode())
    mac.update(body)
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed_sha256(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)
