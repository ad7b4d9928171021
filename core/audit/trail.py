"""Writing the audit trail: who did what to which row, when, why, before and after.

Every app writes through this module (and only this one of the audits app). The ORM hooks of
TenantModel call it for every save, delete and bulk write; services add meaning with `labelled()`
(the action name and the reason of a state transition) and record views of personal data with
`record()`. Rows are written in the caller's transaction: if the change rolls back, so does its audit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import hmac
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from core.crypto import Sensitive, keyring
from core.pgcopy import NULL, copy_text

from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (web, api, admin) or the system (a task or command on someone's behalf)."""

    user_id: uuid.UUID | None
    label: str
    source: str
    request_id: str = ""


@dataclass(frozen=True)
class _Label:
    action: str
    reason: str


_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_label: ContextVar[_Label | None] = ContextVar("audit_label", default=None)

SYSTEM = Actor(user_id=None, label="system", source="system")


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute the audit rows written inside to `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def actor_for(user: Any, *, source: str, request_id: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user_id=None, label="anonymous", source=source, request_id=request_id)
    return Actor(user_id=user.pk, label=user.get_username(), source=source, request_id=request_id)


def current_actor() -> Actor:
    return _actor.get() or SYSTEM


@contextmanager
def labelled(action: str, reason: str = "") -> Iterator[None]:
    """Name the rows written inside: a state transition (`application.approve`) and its reason,
    instead of the generic `<model>.update`."""
    token = _label.set(_Label(action=action, reason=reason))
    try:
        yield
    finally:
        _label.reset(token)


# --- Values --------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A value as it goes into the trail. Personal numbers go in masked: the trail says that an ID
    number changed and to what masked form, never the number itself."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Sensitive):
        return value.masked
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Model):
        return str(value.pk)
    return str(value)


def _fields(model: type[Model]) -> list[tuple[str, str]]:
    """(attname, name) of the fields a model's audit rows carry."""
    exclude: frozenset[str] = getattr(model, "audit_exclude", frozenset())
    return [(f.attname, f.name) for f in model._meta.concrete_fields if f.name not in exclude and not f.primary_key]


def object_type(model: type[Model]) -> str:
    return model._meta.label_lower


@dataclass
class Pending:
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


def _action(model: type[Model], verb: str) -> str:
    label = _label.get()
    return label.action if label else f"{object_type(model)}.{verb}"


def _reason() -> str:
    label = _label.get()
    return label.reason if label else ""


# --- Hooks called by TenantModel and TenantQuerySet -----------------------------------------------------


def record_instances_created(objs: Sequence[Any]) -> None:
    if not objs:
        return
    model = type(objs[0])
    names = _fields(model)
    action, reason = _action(model, "create"), _reason()
    append(
        [
            Pending(
                tenant_id=obj.tenant_id,
                action=action,
                object_type=object_type(model),
                object_id=str(obj.pk),
                after={name: jsonable(getattr(obj, att)) for att, name in names},
                reason=reason,
            )
            for obj in objs
        ]
    )


def record_instances_changed(
    objs: Sequence[Any], befores: dict[Any, dict[str, Any] | None], fields: Iterable[str] | None
) -> None:
    """Rows saved over loaded values: only fields whose value changed are written; a save that
    changed nothing writes nothing (a double click is not a change)."""
    if not objs:
        return
    model = type(objs[0])
    names = _fields(model)
    if fields is not None:
        wanted = {model._meta.get_field(f).name for f in fields}
        names = [(att, name) for att, name in names if name in wanted]
    action, reason = _action(model, "update"), _reason()
    pending = []
    for obj in objs:
        loaded = befores.get(obj.pk) or {}
        before, after = {}, {}
        for att, name in names:
            new = jsonable(getattr(obj, att))
            old = jsonable(loaded.get(att)) if att in loaded else None
            if att not in loaded or old != new:
                before[name], after[name] = old, new
        if after or _label.get():
            pending.append(
                Pending(
                    tenant_id=obj.tenant_id,
                    action=action,
                    object_type=object_type(model),
                    object_id=str(obj.pk),
                    before=before,
                    after=after,
                    reason=reason,
                )
            )
    append(pending)


def record_rows_changed(
    model: type[Model], rows: list[dict[str, Any]], after: dict[Any, dict[str, Any]], fields: list[str]
) -> None:
    action, reason = _action(model, "update"), _reason()
    fields = [f for f in fields if f in {name for _att, name in _fields(model)}]
    pending = []
    for row in rows:
        new = after.get(row["pk"], {})
        before_values = {f: jsonable(row[f]) for f in fields}
        after_values = {f: jsonable(new.get(f)) for f in fields}
        if before_values != after_values or _label.get():
            pending.append(
                Pending(
                    tenant_id=row["tenant_id"],
                    action=action,
                    object_type=object_type(model),
                    object_id=str(row["pk"]),
                    before=before_values,
                    after=after_values,
                    reason=reason,
                )
            )
    append(pending)


def record_rows_deleted(model: type[Model], rows: list[dict[str, Any]]) -> None:
    action, reason = _action(model, "delete"), _reason()
    append(
        [
            Pending(
                tenant_id=row["tenant_id"],
                action=action,
                object_type=object_type(model),
                object_id=str(row["pk"]),
                reason=reason,
            )
            for row in rows
        ]
    )


def record(
    *,
    tenant_id: uuid.UUID,
    action: str,
    obj: Model | None = None,
    object_type_: str = "",
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """One explicit event: a view of personal data, an export, a platform action."""
    if obj is not None:
        object_type_, object_id = obj._meta.label_lower, str(obj.pk)  # (obj may be a lazy request.user)
    append(
        [
            Pending(
                tenant_id=tenant_id,
                action=action,
                object_type=object_type_,
                object_id=object_id,
                before=jsonable(before) if before is not None else None,
                after=jsonable(after) if after is not None else None,
                reason=reason or _reason(),
            )
        ]
    )


# --- The chain -----------------------------------------------------------------------------------------


def canonical(event: AuditEvent) -> bytes:
    """The bytes a row's hash seals: every field but the hashes, in a fixed order and encoding."""
    shared = _shared_text(event.tenant_id, event.occurred_at, event.actor_id, event.actor_label, event.source)
    return _canonical_text(
        event.seq, shared, event.action, event.object_type, event.object_id, _json(event.before),
        _json(event.after), event.reason, event.request_id,
    ).encode()  # fmt: skip


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_encode_str = json.encoder.encode_basestring  # the C function the encoder uses for a str


def _json(value: Any) -> str:
    """json.dumps(value) as canonical() spells it (sorted keys, UTF-8 as is, no spaces)."""
    return _encode_str(value) if value.__class__ is str else _ENCODER.encode(value)


def encode(value: Any) -> str:
    """A before/after value as the trail seals and stores it (for `Pending.before_text`/`after_text`)."""
    return _json(value)


def _canonical_text(
    seq: int, shared: str, action: str, object_type: str, object_id: str, before: str, after: str,
    reason: str | None, request_id: str | None,
) -> str:  # fmt: skip
    # The JSON array of the fields, built from its elements' JSON: byte for byte what one json.dumps of
    # the list gives, but an append of 200,000 rows encodes the fields its rows share once (`shared`)
    # and each row's before/after once, for the seal and the COPY alike.
    return (
        f"[{seq},{shared},{_json(action)},{_json(object_type)},{_json(object_id)},{before},{after},"
        f"{_json(reason)},{_json(request_id)}]"
    )


def _shared_text(tenant_id: Any, occurred_at: dt.datetime, actor_id: Any, actor_label: str, source: str) -> str:
    """Tenant, time, actor, label and source: the same for every row of one append."""
    return ",".join(
        [
            _json(str(tenant_id)),
            _json(occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds")),
            _json(str(actor_id) if actor_id else None),
            _json(actor_label),
            _json(source),
        ]
    )


def key_fingerprint(key: bytes) -> str:
    """Names the key that sealed a row (so a rotation can be verified) without revealing it."""
    return hashlib.sha256(b"audit-key-id:" + key).hexdigest()[:16]


def seal(prev_hash: str, event: AuditEvent, key: bytes) -> str:
    return _seal(key, prev_hash, canonical(event))


def _seal(key: bytes, prev_hash: str, body: bytes) -> str:
    mac = _keyed_sha256(key).copy()  # the key's padding hashed once, not once per row
    mac.update(prev_hash.encode())
    mac.update(body)
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed_sha256(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


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
        shared_text = _shared_text(tenant_id, now, actor.user_id, label, actor.source)
        rows: list[tuple[Any, ...]] = []  # in _ROW_COLUMNS order, before/after as the JSON text sealed
        for p in items:
            seq += 1
            action, object_type, object_id = p.action[:64], p.object_type[:100], p.object_id[:64]
            before = p.before_text if p.before_text is not None else _json(p.before)
            after = p.after_text if p.after_text is not None else _json(p.after)
            body = _canonical_text(
                seq, shared_text, action, object_type, object_id, before, after, p.reason, actor.request_id
            ).encode()
            digest = _seal(ring.audit_key, prev, body)
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
