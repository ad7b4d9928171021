"""How rows of a model are written around the ORM, as the model's fields and the ORM's audit hooks
would write them: the pupils', guardians' and status changes' tables."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import CharField, Model, TextField

from core.audit import trail
from core.crypto import Sensitive, blind_index, encrypt, mask, tail_index
from core.fields import BlindIndexField, CodeField, EncryptedField

from ...models import Guardian, StatusChange, Student
from .context import ApplyContext

#: Columns whose value is the same for every row a statement inserts (the tenant, the chunk's time):
#: parameters of the INSERT, not values staged and parsed again for each of 100,000 rows.
SHARED_COLUMNS = ("tenant_id", "created_at", "updated_at")


class Table:
    """How rows of one model are written around the ORM: every concrete column, encrypted values and
    blind indexes computed as the fields compute them, audit values as the ORM hooks record them.
    A row holds the columns but the shared ones (SHARED_COLUMNS, given once per statement)."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.name = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.shared = [c for c in SHARED_COLUMNS if c in self.columns]
        self.row_columns = [c for c in self.columns if c not in self.shared]
        self.by_attname = {f.attname: f for f in self.fields}
        self.by_column = {f.column: f for f in self.fields}
        self.object_type = trail.object_type(model)
        exclude = getattr(model, "audit_exclude", frozenset())
        # One step per column, decided once: (kind, attname, audit name or None, crypto kind, extra, in
        # the row), where attname is the source field's for a blind index, and extra is a plain column's
        # default or a blind index's own attname. A shared column is in the audit values (the tenant),
        # not in the row.
        self._plan = []
        for f in self.fields:
            audit_name = None if f.name in exclude or f.primary_key else f.name
            in_row = f.column not in self.shared
            if isinstance(f, BlindIndexField) and f.tail:
                # The index of the last characters only (core.crypto.tail_index): extra is its length.
                self._plan.append(("tail", f.source, audit_name, self.by_attname[f.source].kind, f.tail, in_row))
            elif isinstance(f, BlindIndexField):
                # A blind index computed already (during validation) may be passed under its own name.
                self._plan.append(("blind", f.source, audit_name, self.by_attname[f.source].kind, f.attname, in_row))
            elif isinstance(f, EncryptedField):
                self._plan.append(("secret", f.attname, audit_name, f.kind, None, in_row))
            else:
                self._plan.append(("plain", f.attname, audit_name, "", f.get_default(), in_row))
        #: the columns whose text may hold a backslash, a tab or a line end, to be escaped for COPY: free
        #: text (names, places, banks); ids, hashes, ciphertexts (base64), choice codes, dates and flags never
        self.free_text = frozenset(f.column for f in self.fields if _free_text(f))

    def prepare(self, values: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """A row for INSERT (row_columns) from attname → value (plaintext for encrypted fields; blind
        indexes and columns not given filled in), and what the trail records of it
        (record_instances_created's form: personal numbers masked)."""
        row: list[Any] = []
        audit: dict[str, Any] = {}
        for kind, attname, audit_name, crypto_kind, extra, in_row in self._plan:
            if kind == "plain":
                value = values.get(attname, extra)
                if audit_name:
                    audit[audit_name] = _jsonable(value)
            else:
                plain = values.get(attname)
                if kind == "blind":
                    value = values.get(extra) or (blind_index(plain, kind=crypto_kind) if plain else None)
                    if audit_name:
                        audit[audit_name] = value
                elif kind == "tail":
                    value = tail_index(plain, kind=crypto_kind, length=extra) if plain else None
                    if audit_name:
                        audit[audit_name] = value
                else:
                    value = encrypt(plain, context=crypto_kind) if plain else None
                    if audit_name:
                        audit[audit_name] = mask(plain, crypto_kind) if plain else None
            if in_row:
                row.append(value)
        return row, audit

    def sqlite_converters(self, columns: Sequence[str]) -> list[Any]:
        """Per column, how a Python value is stored on SQLite (as Django stores it), or None."""
        converters: list[Any] = []
        for column in columns:
            field = self.by_column[column]
            target = field.target_field if field.is_relation else field
            internal = target.get_internal_type()
            if internal == "UUIDField":
                converters.append(lambda v: v.hex)
            elif internal == "DateTimeField":
                converters.append(connection.ops.adapt_datetimefield_value)
            elif internal == "DateField":
                converters.append(dt.date.isoformat)
            else:
                converters.append(None)
        return converters

    def pending(self, action: str, pk: uuid.UUID, ctx: ApplyContext, **changes: Any) -> trail.Pending:
        return trail.Pending(
            tenant_id=ctx.tenant_id,
            action=f"{self.object_type}.{action}",
            object_type=self.object_type,
            object_id=str(pk),
            reason=ctx.reason,
            **changes,
        )


def _free_text(field: Any) -> bool:
    code = isinstance(field, EncryptedField | CodeField)  # ciphertexts (base64), hashes, codes
    return isinstance(field, CharField | TextField) and not code and not field.choices


def _jsonable(value: Any) -> Any:
    """trail.jsonable, with the common cases first (it is called for every column of every row)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, uuid.UUID):
        return uuid_text(value)
    return trail.jsonable(value)


@functools.lru_cache(maxsize=4096)
def uuid_text(value: uuid.UUID) -> str:
    # The same tenant, school, grade and class ids recur on every row.
    return str(value)


STUDENTS, GUARDIANS, STATUS_CHANGES = Table(Student), Table(Guardian), Table(StatusChange)
#: Where a pupil's audit event records its guardians (see Guardian.audited_inside).
GUARDIANS_KEY = Guardian.audited_inside[1]


def revealed(value: Any) -> str | None:
    return value.reveal() if isinstance(value, Sensitive) else value


def audit_value(field: Any, value: Any) -> Any:
    if isinstance(field, EncryptedField):
        plain = revealed(value)
        return mask(plain, field.kind) if plain else None
    return trail.jsonable(value)
