"""Writing one chunk of valid roster rows: set-based, all or nothing, audited.

Inside the caller's tenant transaction, for one chunk of rows:

1. one query finds which pupils are registered already (by the ID number's blind index) and their
   fingerprints: a row whose fingerprint matches is unchanged and costs nothing more;
2. the rest are decided in Python: a pupil registered (在校 or 休学) at another school is rejected
   (在籍不在校 / 在校不在籍: never moved silently); a registration number that belongs to another pupil is
   rejected; the others are created or updated. The rows to update, and their guardians, are locked
   (SELECT … FOR UPDATE) and compared field by field;
3. the prepared rows go into TEMP staging tables (PostgreSQL: COPY; SQLite: executemany), and a few
   statements write them: INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING (a pupil registered by
   someone else meanwhile is reported, never half-written), UPDATE … FROM, for students, guardians and
   status changes;
4. one `trail.append` writes the audit rows of every row written, before/after as the ORM hooks would
   (personal numbers masked): one event per pupil created or changed, its guardians recorded inside it
   (`guardians`: each guardian's values with its id), as one roster row is one change of the register;
   a status change has its own event, as it is a row of the pupil's history.

Ciphertexts and blind indexes are computed here with core.crypto, exactly as the model fields
compute them, so a pupil written here reads back through the ORM like any other. Blank optional cells
mean "keep what the register holds": an import never erases a phone or a funding card.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Model, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.audit import trail
from core.crypto import Sensitive, blind_index, encrypt, encrypter, mask
from core.fields import BlindIndexField, CodeField, EncryptedField
from core.pgcopy import NULL, copy_line, copy_text

from ..models import EnrollmentStatus, Guardian, StatusChange, Student
from .columns import STATUS_WORDS
from .problems import ANOTHER_SCHOOL, MOVED_NOTE, RowCode, row_error
from .validate import CleanRow, GuardianRow, RowReport

CREATED, UPDATED, UNCHANGED, REJECTED = "CREATED", "UPDATED", "UNCHANGED", "REJECTED"

#: Statuses under which a pupil is still registered at their school: another school's row for them is a
#: conflict. A pupil who left (转出, 毕业, 辍学) may be registered by their new school.
STILL_REGISTERED = frozenset({EnrollmentStatus.ATTENDING, EnrollmentStatus.SUSPENDED})

STATUS_SOURCE = "roster_import"

# The columns the roster sets on an existing pupil. Plain ones are written as computed here (blanks
# already replaced by the stored value); encrypted ones and their blind indexes only when they changed
# (NULL in the staging table means "keep").
_STUDENT_PLAIN = (
    "school_id", "grade_id", "klass_id", "name", "gender", "birth_date", "enrollment_status", "is_boarding",
    "hukou", "township", "village", "card_bank", "card_holder",
)  # fmt: skip
_STUDENT_SECRET = {"student_no": "student_no_hash", "phone": None, "card_account": "card_account_hash"}
_GUARDIAN_PLAIN = ("name", "relation")
_GUARDIAN_SECRET = {"id_number": "id_number_hash", "phone": None}


@dataclass
class ApplyContext:
    """What writing a chunk needs beyond the rows: who is importing, from which file, and when."""

    tenant_id: uuid.UUID
    reason: str
    school_names: dict[uuid.UUID, str]
    #: schools whose names an importer may be told (a school officer learns only that the pupil is
    #: registered elsewhere); None: all
    nameable: frozenset[uuid.UUID] | None
    today: dt.date
    #: time spent appending audit rows (the benchmark reports it)
    audit_seconds: float = 0.0


#: Columns whose value is the same for every row a statement inserts (the tenant, the chunk's time):
#: parameters of the INSERT, not values staged and parsed again for each of 100,000 rows.
SHARED_COLUMNS = ("tenant_id", "created_at", "updated_at")


class _Table:
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
            if isinstance(f, BlindIndexField):
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
        return _uuid_text(value)
    return trail.jsonable(value)


@functools.lru_cache(maxsize=4096)
def _uuid_text(value: uuid.UUID) -> str:
    # The same tenant, school, grade and class ids recur on every row.
    return str(value)


STUDENTS, GUARDIANS, STATUS_CHANGES = _Table(Student), _Table(Guardian), _Table(StatusChange)
#: Where a pupil's audit event records its guardians (see Guardian.audited_inside).
GUARDIANS_KEY = Guardian.audited_inside[1]


def _plain(value: Any) -> str | None:
    return value.reveal() if isinstance(value, Sensitive) else value


def _audit_value(field: Any, value: Any) -> Any:
    if isinstance(field, EncryptedField):
        plain = _plain(value)
        return mask(plain, field.kind) if plain else None
    return trail.jsonable(value)


# --- One chunk -----------------------------------------------------------------------------------------


@dataclass
class _Writes:
    """Everything one chunk writes, collected before anything is written."""

    creates: list[tuple[RowReport, NewPupil]]
    student_updates: list[list[Any]]
    fingerprints: list[list[Any]]
    guardian_inserts: list[list[Any]]
    guardian_updates: list[list[Any]]
    status_inserts: list[list[Any]]
    #: audit rows of the updated rows, by row number (the created rows' travel with them in `creates`)
    pending: dict[int, list[trail.Pending]]


def apply_chunk(reports: Sequence[RowReport], ctx: ApplyContext) -> None:
    """Write the chunk's valid rows (the caller holds the tenant transaction) and set every report's
    outcome. A row is written completely (pupil, guardians, status change, audit rows) or not at all."""
    now = timezone.now()
    for report in reports:
        if report.clean is None and report.prepared is None:
            report.outcome = REJECTED
    writes = _Writes([], [], [], [], [], [], {})
    # Prepared ahead by the reading process (pipeline): pupils whose ID number and registration number
    # the register did not hold when the import began. Nothing to look up: if someone registered
    # either since, the INSERT's ON CONFLICT finds it and the row is reported as changed meanwhile.
    writes.creates += [(r, r.prepared) for r in reports if r.clean is None and r.prepared is not None]
    rows = [r for r in reports if r.clean is not None]
    found = {
        h: (pk, school_id, status, fp)
        for pk, h, school_id, status, fp in Student.objects.filter(
            id_number_hash__in=_any_of([r.clean.id_hash for r in rows])  # type: ignore[union-attr]
        ).values_list("pk", "id_number_hash", "school_id", "enrollment_status", "roster_fingerprint")
    } if rows else {}  # fmt: skip
    # Unchanged rows (the fingerprint of the row last imported for the pupil) cost nothing more.
    candidates = []
    for report in rows:
        clean: CleanRow = report.clean  # type: ignore[assignment]
        existing = found.get(clean.id_hash)
        if existing is not None and existing[3] == clean.fingerprint:
            report.outcome = UNCHANGED
        else:
            no_hash = blind_index(clean.student_no, kind="student_no") if clean.student_no else None
            candidates.append((report, clean, existing, no_hash))
    owners = _student_no_owners([no_hash for *_rest, no_hash in candidates if no_hash])
    to_update: dict[uuid.UUID, RowReport] = {}
    for report, clean, existing, no_hash in candidates:
        if existing is not None and existing[1] != clean.school_id and existing[2] in STILL_REGISTERED:
            school = ctx.school_names.get(existing[1]) if ctx.nameable is None or existing[1] in ctx.nameable else None
            _reject(report, RowCode.AT_OTHER_SCHOOL, school=school or ANOTHER_SCHOOL)
            continue
        if no_hash and owners.get(no_hash, clean.id_hash) != clean.id_hash:
            _reject(report, RowCode.STUDENT_NO_TAKEN)
            continue
        if existing is None:
            writes.creates.append((report, prepare_new_pupil(clean, ctx)))
        else:
            to_update[existing[0]] = report
            if existing[1] != clean.school_id:
                report.note = str(MOVED_NOTE) % {
                    "school": ctx.school_names.get(existing[1], ANOTHER_SCHOOL),
                    "status": STATUS_WORDS.get(existing[2], existing[2]),
                }
    if to_update:
        _prepare_updates(to_update, writes, ctx, now)
    _write(writes, ctx, now)


def _any_of(values: list[Any]) -> RawSQL:
    """`field__in=_any_of(values)`: the values travel as one parameter, not one per value (a 5,000-item
    IN list costs PostgreSQL's client-side binding about 0.3 s to quote; this costs 0.04 s)."""
    uuids = bool(values) and isinstance(values[0], uuid.UUID)
    if connection.vendor == "postgresql":
        cast = "::uuid" if uuids else ""
        return RawSQL(f"SELECT unnest(string_to_array(%s, ',')){cast}", [",".join(map(str, values))])  # noqa: S611
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps([v.hex if uuids else v for v in values])])


def _reject(report: RowReport, code: RowCode, **params: Any) -> None:
    report.errors.append(row_error(code, **params))
    report.outcome = REJECTED


def _student_no_owners(hashes: list[str]) -> dict[str, str]:
    """Registration number's blind index → the ID number's blind index of the pupil holding it."""
    if not hashes:
        return {}
    found = Student.objects.filter(student_no_hash__in=_any_of(hashes))
    return dict(found.values_list("student_no_hash", "id_number_hash"))


def _student_values(clean: CleanRow) -> dict[str, Any]:
    return {
        "school_id": clean.school_id,
        "grade_id": clean.grade_id,
        "klass_id": clean.klass_id,
        "name": clean.name,
        "id_number": clean.id_number,
        "id_number_hash": clean.id_hash,
        "student_no": clean.student_no,
        "gender": clean.gender,
        "birth_date": clean.birth_date,
        "enrollment_status": clean.status,
        "is_boarding": bool(clean.is_boarding),
        "hukou": clean.hukou,
        "township": clean.township or "",
        "village": clean.village or "",
        "phone": clean.phone,
        "card_bank": clean.card_bank or "",
        "card_account": clean.card_account,
        "card_holder": clean.card_holder or "",
        "roster_fingerprint": clean.fingerprint,
    }


def _guardian_values(g: GuardianRow, student_id: uuid.UUID | str) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "position": g.position,
        "name": g.name,
        "relation": g.relation,
        "id_number": g.id_number,
        "phone": g.phone,
    }


def _base(ctx: ApplyContext, *, text: bool = False) -> dict[str, Any]:
    """A new row's id and tenant; with `text`, as text (what COPY and the audit row both spell,
    formatted once). Its times are the INSERT's (SHARED_COLUMNS)."""
    if text:
        return {"id": _new_id_text(), "tenant_id": _uuid_text(ctx.tenant_id)}
    return {"id": uuid.uuid4(), "tenant_id": ctx.tenant_id}


#: The hex digit of a version 4 UUID's variant (RFC 9562: 10xx), from any hex digit.
_VARIANT_DIGIT = {f"{n:x}": f"{n & 3 | 8:x}" for n in range(16)}


def _new_id_text() -> str:
    """str(uuid.uuid4()), spelt straight from the random bytes: a prepared row needs only the text,
    and building the UUID object to print it cost as much as encrypting a number."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:]}"


@dataclass(slots=True)
class NewPupil:
    """A new pupil's rows and audit row, ready to write: computed in the chunk's transaction, or ahead
    of it while the roster is read (pipeline), and then used only if the pupil is still new.

    Prepared ahead (`for_copy`), the rows are PostgreSQL COPY lines and the audit row a plain tuple
    (action, object type, object id, the values' JSON), formatted once, as COPY and the trail spell
    them."""

    id: uuid.UUID | str
    no_hash: str | None
    row: list[Any] | str
    guardian_rows: list[list[Any] | str]
    audit: trail.Pending | tuple[str, str, str, str]

    def pending(self, ctx: ApplyContext) -> trail.Pending:
        """The audit row: the pupil's values, and its guardians' inside them."""
        if isinstance(self.audit, trail.Pending):
            return self.audit
        action, object_type, object_id, after_text = self.audit
        return trail.Pending(
            tenant_id=ctx.tenant_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            reason=ctx.reason,
            after_text=after_text,
        )


def prepare_new_pupil(clean: CleanRow, ctx: ApplyContext, *, for_copy: bool = False) -> NewPupil:
    """The rows that register `clean` as a new pupil, with their guardians, and their audit row. Pure
    computation (no database): with `for_copy`, as COPY text (see NewPupil and _new_pupil_copy)."""
    if for_copy:
        return _new_pupil_copy(clean, ctx)
    no_hash = blind_index(clean.student_no, kind="student_no") if clean.student_no else None
    values = {**_base(ctx), **_student_values(clean), "student_no_hash": no_hash}
    student_id = values["id"]
    row, after = STUDENTS.prepare(values)
    guardian_rows: list[Any] = []
    guardians_after = []
    for g in clean.guardians:
        gv = {**_base(ctx), **_guardian_values(g, student_id)}
        guardian_row, guardian_after = GUARDIANS.prepare(gv)
        guardian_rows.append(guardian_row)
        guardians_after.append(_inside(gv["id"], guardian_after))
    after[GUARDIANS_KEY] = guardians_after
    audit = STUDENTS.pending("import_create", student_id, ctx, after=after)
    return NewPupil(student_id, no_hash, row, guardian_rows, audit)


#: The columns _new_pupil_copy spells out, in order: the tables' own (checked below, when this module
#: is loaded, so that a changed model cannot meet an outdated list).
_STUDENT_COPY_COLUMNS = (
    "id", "school_id", "grade_id", "klass_id", "name", "id_number", "id_number_hash", "student_no", "student_no_hash",
    "gender", "birth_date", "enrollment_status", "is_boarding", "hukou", "township", "village", "phone", "card_bank",
    "card_account", "card_account_hash", "card_holder", "roster_fingerprint",
)  # fmt: skip
_GUARDIAN_COPY_COLUMNS = ("id", "student_id", "position", "name", "relation", "id_number", "id_number_hash", "phone")
#: ...and those of them it escapes as free text.
_STUDENT_FREE_TEXT = frozenset({"name", "township", "village", "card_bank", "card_holder"})
_GUARDIAN_FREE_TEXT = frozenset({"name"})
for _table, _columns, _free in (
    (STUDENTS, _STUDENT_COPY_COLUMNS, _STUDENT_FREE_TEXT),
    (GUARDIANS, _GUARDIAN_COPY_COLUMNS, _GUARDIAN_FREE_TEXT),
):
    if tuple(_table.row_columns) != _columns or _table.free_text != _free:
        raise RuntimeError(f"apply._new_pupil_copy does not write {_table.name} as its columns are now")
_CREATE_ACTION = f"{STUDENTS.object_type}.import_create"


def _new_pupil_copy(clean: CleanRow, ctx: ApplyContext) -> NewPupil:
    """prepare_new_pupil as COPY text, for the readers of a large roster (pipeline), which prepare every
    new pupil of it: the same values as _Table.prepare computes from the model's fields (a test compares
    the two), spelt out column by column, which costs a third less than walking the fields (docs/
    benchmarks.md). Free text is escaped for COPY; ids, hashes, ciphertexts and codes never need it."""
    encrypt_ = encrypter()
    tenant = _uuid_text(ctx.tenant_id)
    student_id = _new_id_text()
    school, grade, klass = _uuid_text(clean.school_id), _uuid_text(clean.grade_id), _uuid_text(clean.klass_id)
    student_no, phone, account = clean.student_no, clean.phone, clean.card_account
    no_hash = blind_index(student_no, kind="student_no") if student_no else None
    account_hash = blind_index(account, kind="account") if account else None
    township, village = clean.township or "", clean.village or ""
    bank, holder = clean.card_bank or "", clean.card_holder or ""
    birth, boarding = clean.birth_date.isoformat(), bool(clean.is_boarding)
    row = "\t".join((
        student_id, school, grade, klass, copy_text(clean.name), encrypt_(clean.id_number, "id_number"),
        clean.id_hash, encrypt_(student_no, "student_no") if student_no else NULL, no_hash or NULL, clean.gender,
        birth, clean.status, "t" if boarding else "f", clean.hukou, copy_text(township), copy_text(village),
        encrypt_(phone, "phone") if phone else NULL, copy_text(bank),
        encrypt_(account, "account") if account else NULL, account_hash or NULL, copy_text(holder),
        clean.fingerprint,
    )) + "\n"  # fmt: skip
    guardian_rows = []
    guardians_after = []
    for g in clean.guardians:
        guardian_id, number, guardian_phone = _new_id_text(), g.id_number, g.phone
        number_hash = blind_index(number, kind="id_number") if number else None
        guardian_rows.append("\t".join((
            guardian_id, student_id, str(g.position), copy_text(g.name), g.relation,
            encrypt_(number, "id_number") if number else NULL, number_hash or NULL,
            encrypt_(guardian_phone, "phone") if guardian_phone else NULL,
        )) + "\n")  # fmt: skip
        guardians_after.append({
            "id": guardian_id, "tenant": tenant, "student": student_id, "position": g.position, "name": g.name,
            "relation": g.relation, "id_number": mask(number, "id_number") if number else None,
            "id_number_hash": number_hash, "phone": mask(guardian_phone, "phone") if guardian_phone else None,
        })  # fmt: skip
    after = {
        "tenant": tenant, "school": school, "grade": grade, "klass": klass, "name": clean.name,
        "id_number": mask(clean.id_number, "id_number"), "id_number_hash": clean.id_hash,
        "student_no": mask(student_no, "student_no") if student_no else None, "student_no_hash": no_hash,
        "gender": clean.gender, "birth_date": birth, "enrollment_status": clean.status, "is_boarding": boarding,
        "hukou": clean.hukou, "township": township, "village": village,
        "phone": mask(phone, "phone") if phone else None, "card_bank": bank,
        "card_account": mask(account, "account") if account else None, "card_account_hash": account_hash,
        "card_holder": holder, GUARDIANS_KEY: guardians_after,
    }  # fmt: skip
    audit = (_CREATE_ACTION, STUDENTS.object_type, student_id, trail.encode(after))
    return NewPupil(student_id, no_hash, row, guardian_rows, audit)


def _inside(guardian_id: uuid.UUID | str, values: dict[str, Any]) -> dict[str, Any]:
    """A guardian's audit values as recorded inside the pupil's event: with its id, so that the
    guardian's whole story can be found from it."""
    return {"id": str(guardian_id), **values}


def _prepare_updates(to_update: dict[uuid.UUID, RowReport], w: _Writes, ctx: ApplyContext, now: dt.datetime) -> None:
    """Compare the locked stored rows with the roster rows; stage what changed, with its audit rows."""
    fields = ["pk", *_STUDENT_PLAIN, *_STUDENT_SECRET, "enrollment_status"]
    stored = {
        row["pk"]: row
        for row in Student.objects.select_for_update()
        .filter(pk__in=_any_of(list(to_update)))
        .values(*dict.fromkeys(fields))
    }
    guardians: dict[uuid.UUID, dict[int, dict[str, Any]]] = {}
    for g in (
        Guardian.objects.select_for_update()
        .filter(student_id__in=_any_of(list(to_update)))
        .values("pk", "student_id", "position", *_GUARDIAN_PLAIN, *_GUARDIAN_SECRET)
    ):
        guardians.setdefault(g["student_id"], {})[g["position"]] = g
    for pk, report in to_update.items():
        clean: CleanRow = report.clean  # type: ignore[assignment]
        old = stored.get(pk)
        if old is None:  # deleted since the first look
            _reject(report, RowCode.CHANGED_MEANWHILE)
            continue
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        student_row = _diff_student(pk, old, clean, before, after, now)
        guardian_inserts, guardian_updates = [], []
        guardians_before, guardians_after = [], []
        for g in clean.guardians:
            stored_g = guardians.get(pk, {}).get(g.position)
            if stored_g is None:  # a new guardian: its values after, nothing before
                gv = {**_base(ctx), **_guardian_values(g, pk)}
                guardian_row, guardian_after = GUARDIANS.prepare(gv)
                guardian_inserts.append(guardian_row)
                guardians_after.append(_inside(gv["id"], guardian_after))
            else:
                changed = _diff_guardian(stored_g, g, now)
                if changed is not None:
                    row, guardian_before, guardian_after = changed
                    guardian_updates.append(row)
                    guardians_before.append(_inside(stored_g["pk"], guardian_before))
                    guardians_after.append(_inside(stored_g["pk"], guardian_after))
        if guardians_after:
            before[GUARDIANS_KEY], after[GUARDIANS_KEY] = guardians_before, guardians_after
        pending: list[trail.Pending] = []
        if after:
            pending.append(STUDENTS.pending("import_update", pk, ctx, before=before, after=after))
        if old["enrollment_status"] != clean.status:
            sv = {
                **_base(ctx),
                "student_id": pk,
                "from_status": old["enrollment_status"],
                "to_status": clean.status,
                "changed_on": ctx.today,
                "reason": ctx.reason[:200],
                "source": STATUS_SOURCE,
            }
            status_row, status_after = STATUS_CHANGES.prepare(sv)
            w.status_inserts.append(status_row)
            pending.append(STATUS_CHANGES.pending("import_create", sv["id"], ctx, after=status_after))
        if not pending:
            # Nothing the register shows changed (blank cells keep stored values): remember the row's
            # fingerprint only, so that the next import of it costs nothing.
            report.outcome = UNCHANGED
            w.fingerprints.append([pk, clean.fingerprint])
            continue
        report.outcome = UPDATED
        w.student_updates.append(student_row)
        w.guardian_inserts += guardian_inserts
        w.guardian_updates += guardian_updates
        w.pending[report.row] = pending


def _final_plain(clean: CleanRow, old: dict[str, Any]) -> dict[str, Any]:
    """The plain columns as they will be: the row's values, blank optional cells keeping the stored ones."""

    def keep(value: Any, attname: str) -> Any:
        return old[attname] if value is None else value

    return {
        "school_id": clean.school_id,
        "grade_id": clean.grade_id,
        "klass_id": clean.klass_id,
        "name": clean.name,
        "gender": clean.gender,
        "birth_date": clean.birth_date,
        "enrollment_status": clean.status,
        "is_boarding": keep(clean.is_boarding, "is_boarding"),
        "hukou": clean.hukou,
        "township": keep(clean.township, "township"),
        "village": keep(clean.village, "village"),
        "card_bank": keep(clean.card_bank, "card_bank"),
        "card_holder": keep(clean.card_holder, "card_holder"),
    }


def _diff_student(
    pk: uuid.UUID, old: dict[str, Any], clean: CleanRow, before: dict[str, Any], after: dict[str, Any], now: Any
) -> list[Any]:
    """The staging row of an update (plain columns as they will be, secrets NULL unless changed); what
    the register shows changed goes into `before` and `after`."""
    final = _final_plain(clean, old)
    row: list[Any] = [pk]
    for attname in _STUDENT_PLAIN:
        value = final[attname]
        row.append(value)
        if value != old[attname]:
            name = STUDENTS.by_attname[attname].name
            before[name], after[name] = trail.jsonable(old[attname]), trail.jsonable(value)
    for attname, hash_attname in _STUDENT_SECRET.items():
        _diff_secret(STUDENTS, attname, hash_attname, getattr(clean, attname), old[attname], row, before, after)
    row += [clean.fingerprint, now]
    return row


def _diff_secret(
    table: _Table,
    attname: str,
    hash_attname: str | None,
    value: str | None,
    stored: Any,
    row: list[Any],
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """An encrypted column (and its blind index) in a staging row: the new ciphertext if the value
    changed, else NULL (keep); before/after masked, as the trail records personal numbers."""
    field = table.by_attname[attname]
    stored = _plain(stored)
    if not value or value == stored:
        row.append(None)
        if hash_attname:
            row.append(None)
        return
    row.append(encrypt(value, context=field.kind))
    before[field.name], after[field.name] = _audit_value(field, stored), _audit_value(field, value)
    if hash_attname:
        digest = blind_index(value, kind=field.kind)
        row.append(digest)
        before[hash_attname] = blind_index(stored, kind=field.kind) if stored else None
        after[hash_attname] = digest


def _diff_guardian(
    stored: dict[str, Any], g: GuardianRow, now: Any
) -> tuple[list[Any], dict[str, Any], dict[str, Any]] | None:
    """The staging row updating a stored guardian, and what changed (before, after); or None if the
    roster says nothing new."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    row: list[Any] = [stored["pk"]]
    for attname in _GUARDIAN_PLAIN:
        value = getattr(g, attname)
        row.append(value)
        if value != stored[attname]:
            before[attname], after[attname] = stored[attname], value
    for attname, hash_attname in _GUARDIAN_SECRET.items():
        _diff_secret(GUARDIANS, attname, hash_attname, getattr(g, attname), stored[attname], row, before, after)
    if not after:
        return None
    row.append(now)
    return row, before, after


# --- The statements ------------------------------------------------------------------------------------


def _secret_columns(secrets: dict[str, str | None]) -> list[str]:
    return [c for attname, digest in secrets.items() for c in (attname, digest) if c]


_STUDENT_UPDATE_COLUMNS = ["id", *_STUDENT_PLAIN, *_secret_columns(_STUDENT_SECRET), "roster_fingerprint", "updated_at"]
_GUARDIAN_UPDATE_COLUMNS = ["id", *_GUARDIAN_PLAIN, *_secret_columns(_GUARDIAN_SECRET), "updated_at"]


def _write(w: _Writes, ctx: ApplyContext, now: dt.datetime) -> None:
    if not (w.creates or w.student_updates or w.fingerprints):
        return
    with connection.cursor() as cursor:
        stage = _Stage(cursor)
        pending = w.pending
        if w.creates:
            inserted = stage.insert(STUDENTS, [new.row for _report, new in w.creates], ctx, now, returning=True)
            for report, new in w.creates:
                if str(new.id) in inserted:
                    report.outcome = CREATED
                    pending[report.row] = [new.pending(ctx)]
                    w.guardian_inserts += new.guardian_rows
                else:  # registered by someone else since the first look
                    _reject(report, RowCode.CHANGED_MEANWHILE)
        if w.student_updates:
            stage.update(STUDENTS, _STUDENT_UPDATE_COLUMNS, w.student_updates, keep=_STUDENT_SECRET)
        if w.fingerprints:
            stage.update(STUDENTS, ["id", "roster_fingerprint"], w.fingerprints, keep={})
        if w.guardian_inserts:
            stage.insert(GUARDIANS, w.guardian_inserts, ctx, now)
        if w.guardian_updates:
            stage.update(GUARDIANS, _GUARDIAN_UPDATE_COLUMNS, w.guardian_updates, keep=_GUARDIAN_SECRET)
        if w.status_inserts:
            stage.insert(STATUS_CHANGES, w.status_inserts, ctx, now)
        if connection.vendor == "postgresql":
            # The deferred keys checked now, not at commit: the append below locks the tenant's chain
            # until then, and other transactions (the roster's other readers) wait for that lock.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # One append for the chunk, in row order: each pupil (its guardians inside), then its status change.
        started = time.perf_counter()
        trail.append([p for number in sorted(pending) for p in pending[number]])
        ctx.audit_seconds += time.perf_counter() - started


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class _Stage:
    """TEMP staging tables shaped like the target table (CREATE … AS SELECT … WHERE 1 = 0), loaded
    with COPY on PostgreSQL and executemany elsewhere, then written with one statement each.

    The SQL is composed of identifiers only (model tables and columns, quoted); every value travels as
    a parameter or through COPY.
    """

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.vendor = connection.vendor
        self.qn = connection.ops.quote_name

    def _load(self, table: _Table, columns: list[str], rows: list[list[Any]]) -> str:
        qn = self.qn
        stage = qn(f"roster_stage_{table.name}")
        cols = ", ".join(qn(c) for c in columns)
        self.cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        self.cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols} FROM {qn(table.name)} WHERE 1 = 0")  # noqa: S608
        if self.vendor == "postgresql":
            # Rows prepared while reading come as COPY lines already (pipeline); the others are
            # formatted the same way here.
            lines = [row if row.__class__ is str else copy_line(row) for row in rows]
            with self.cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
                copy.write("".join(lines).encode())
        else:
            insert = f"INSERT INTO {stage} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            converters = list(enumerate(table.sqlite_converters(columns)))
            converters = [(i, c) for i, c in converters if c is not None]
            for row in rows:
                for i, convert in converters:
                    if row[i] is not None:
                        row[i] = convert(row[i])
            self.cursor.executemany(insert, rows)
        return stage

    def insert(
        self, table: _Table, rows: list[list[Any]], ctx: ApplyContext, now: dt.datetime, *, returning: bool = False
    ) -> set[str]:
        """INSERT … SELECT the rows (table.row_columns) from a staging table; the tenant and the times
        (table.shared) are parameters of the statement. With `returning`, a row that conflicts with one
        written meanwhile is skipped, and the ids of those inserted are returned (as str(UUID))."""
        qn = self.qn
        stage = self._load(table, table.row_columns, rows)
        values = {"tenant_id": ctx.tenant_id, "created_at": now, "updated_at": now}
        shared = [table.by_column[c].get_db_prep_value(values[c], connection) for c in table.shared]
        cols = ", ".join(qn(c) for c in table.row_columns)
        targets = ", ".join(qn(c) for c in [*table.shared, *table.row_columns])
        marks = "".join("%s, " for _c in shared)
        # "WHERE 1 = 1": SQLite needs a WHERE to tell ON CONFLICT from a join's ON after a SELECT.
        sql = f"INSERT INTO {qn(table.name)} ({targets}) SELECT {marks}{cols} FROM {stage} WHERE 1 = 1"  # noqa: S608
        postgresql = self.vendor == "postgresql"
        if returning:  # ids as text: 5,000 of them compare as strings, never parsed into UUIDs
            sql += f" ON CONFLICT DO NOTHING RETURNING {qn('id')}{'::text' if postgresql else ''}"
        self.cursor.execute(sql, shared)
        inserted = set()
        if returning:
            found = [r[0] for r in self.cursor.fetchall()]
            inserted = set(found) if postgresql else {str(_uuid(pk)) for pk in found}
        self.cursor.execute(f"DROP TABLE {stage}")
        return inserted

    def update(self, table: _Table, columns: list[str], rows: list[list[Any]], *, keep: dict[str, str | None]) -> None:
        """UPDATE … FROM the staging table by id; columns in `keep` (and their blind indexes) keep the
        stored value where the staging row holds NULL."""
        qn = self.qn
        stage = self._load(table, columns, rows)
        target = qn(table.name)
        kept = set(_secret_columns(keep))
        sets = ", ".join(
            f"{qn(c)} = COALESCE(s.{qn(c)}, {target}.{qn(c)})" if c in kept else f"{qn(c)} = s.{qn(c)}"
            for c in columns[1:]
        )
        where = f"{target}.{qn('id')} = s.{qn('id')}"
        self.cursor.execute(f"UPDATE {target} SET {sets} FROM {stage} AS s WHERE {where}")  # noqa: S608
        self.cursor.execute(f"DROP TABLE {stage}")
