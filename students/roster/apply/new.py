"""A new pupil's rows (pupil, guardians) and audit row, ready to write: computed from the model's
fields in the chunk's transaction, or spelt out as COPY text ahead of it by the readers of a large
roster (students.roster.pipeline), and used only if the pupil is still new when the chunk is written."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from core.audit import trail
from core.crypto import blind_index, encrypter, mask, tail_index
from core.pgcopy import NULL, copy_text

from ..validate import CleanRow, GuardianRow
from .context import ApplyContext
from .tables import GUARDIANS, GUARDIANS_KEY, STUDENTS, uuid_text


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


def guardian_values(g: GuardianRow, student_id: uuid.UUID | str) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "position": g.position,
        "name": g.name,
        "relation": g.relation,
        "id_number": g.id_number,
        "phone": g.phone,
    }


def base(ctx: ApplyContext, *, text: bool = False) -> dict[str, Any]:
    """A new row's id and tenant; with `text`, as text (what COPY and the audit row both spell,
    formatted once). Its times are the INSERT's (SHARED_COLUMNS)."""
    if text:
        return {"id": _new_id_text(), "tenant_id": uuid_text(ctx.tenant_id)}
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
    values = {**base(ctx), **_student_values(clean), "student_no_hash": no_hash}
    student_id = values["id"]
    row, after = STUDENTS.prepare(values)
    guardian_rows: list[Any] = []
    guardians_after = []
    for g in clean.guardians:
        gv = {**base(ctx), **guardian_values(g, student_id)}
        guardian_row, guardian_after = GUARDIANS.prepare(gv)
        guardian_rows.append(guardian_row)
        guardians_after.append(inside(gv["id"], guardian_after))
    after[GUARDIANS_KEY] = guardians_after
    audit = STUDENTS.pending("import_create", student_id, ctx, after=after)
    return NewPupil(student_id, no_hash, row, guardian_rows, audit)


#: The columns _new_pupil_copy spells out, in order: the tables' own (checked below, when this module
#: is loaded, so that a changed model cannot meet an outdated list).
_STUDENT_COPY_COLUMNS = (
    "id", "school_id", "grade_id", "klass_id", "name", "id_number", "id_number_hash", "id_tail_hash", "student_no",
    "student_no_hash",
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
        raise RuntimeError(f"apply.new._new_pupil_copy does not write {_table.name} as its columns are now")
_CREATE_ACTION = f"{STUDENTS.object_type}.import_create"


def _new_pupil_copy(clean: CleanRow, ctx: ApplyContext) -> NewPupil:
    """prepare_new_pupil as COPY text, for the readers of a large roster (pipeline), which prepare every
    new pupil of it: the same values as Table.prepare computes from the model's fields (a test compares
    the two), spelt out column by column, which costs a third less than walking the fields (docs/
    benchmarks.md). Free text is escaped for COPY; ids, hashes, ciphertexts and codes never need it."""
    encrypt_ = encrypter()
    tenant = uuid_text(ctx.tenant_id)
    student_id = _new_id_text()
    school, grade, klass = uuid_text(clean.school_id), uuid_text(clean.grade_id), uuid_text(clean.klass_id)
    student_no, phone, account = clean.student_no, clean.phone, clean.card_account
    no_hash = blind_index(student_no, kind="student_no") if student_no else None
    account_hash = blind_index(account, kind="account") if account else None
    township, village = clean.township or "", clean.village or ""
    bank, holder = clean.card_bank or "", clean.card_holder or ""
    birth, boarding = clean.birth_date.isoformat(), bool(clean.is_boarding)
    id_tail = tail_index(clean.id_number, kind="id_number")
    row = "\t".join((
        student_id, school, grade, klass, copy_text(clean.name), encrypt_(clean.id_number, "id_number"),
        clean.id_hash, id_tail,
        encrypt_(student_no, "student_no") if student_no else NULL, no_hash or NULL, clean.gender,
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
        "id_tail_hash": id_tail, "student_no": mask(student_no, "student_no") if student_no else None,
        "student_no_hash": no_hash,
        "gender": clean.gender, "birth_date": birth, "enrollment_status": clean.status, "is_boarding": boarding,
        "hukou": clean.hukou, "township": township, "village": village,
        "phone": mask(phone, "phone") if phone else None, "card_bank": bank,
        "card_account": mask(account, "account") if account else None, "card_account_hash": account_hash,
        "card_holder": holder, GUARDIANS_KEY: guardians_after,
    }  # fmt: skip
    audit = (_CREATE_ACTION, STUDENTS.object_type, student_id, trail.encode(after))
    return NewPupil(student_id, no_hash, row, guardian_rows, audit)


def inside(guardian_id: uuid.UUID | str, values: dict[str, Any]) -> dict[str, Any]:
    """A guardian's audit values as recorded inside the pupil's event: with its id, so that the
    guardian's whole story can be found from it."""
    return {"id": str(guardian_id), **values}
