"""Writing the audit trail: who did what to which row, when, why, before and after.

Every app writes through this module (and only this one of the audits app). The ORM hooks of
TenantModel call it for every save, delete and bulk write; services add meaning with `labelled()`
(the action name and the reason of a state transition) and record views of personal data with
`record()`. Rows are written in the caller's transaction: if the change rolls back, so does its audit.

This module is the trail's one entry point; its parts live beside it: who is acting and what the rows
mean (core.audit.actors), the canonical JSON and the hash chain (core.audit.chain), and the bulk append
to each tenant's chain (core.audit.append). Here: the values as the trail records them and the hooks.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Model

from core.crypto import Sensitive

from .actors import SYSTEM, Actor, acting_as, actor_for, current_actor, current_label, labelled
from .append import COPY_FROM, Pending, append
from .chain import GENESIS, canonical, encode, key_fingerprint, seal

__all__ = [
    "COPY_FROM", "GENESIS", "SYSTEM", "Actor", "Pending", "acting_as", "actor_for", "append", "canonical",
    "current_actor", "encode", "jsonable", "key_fingerprint", "labelled", "object_type", "record",
    "record_instances_changed", "record_instances_created", "record_rows_changed", "record_rows_deleted", "seal",
]  # fmt: skip


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


def _action(model: type[Model], verb: str) -> str:
    label = current_label()
    return label.action if label else f"{object_type(model)}.{verb}"


def _reason() -> str:
    label = current_label()
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
        if after or current_label():
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
        if before_values != after_values or current_label():
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
