"""An existing pupil's row compared with the register: the stored rows (locked) against the roster's,
what changed staged for the UPDATE, with its audit rows; a new guardian or a status change inserted."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.audit import trail
from core.crypto import blind_index, encrypt

from ...models import Guardian, Student
from ..problems import RowCode
from ..validate import CleanRow, GuardianRow, RowReport
from .context import STATUS_SOURCE, UNCHANGED, UPDATED, ApplyContext, Writes, reject
from .new import base, guardian_values, inside
from .stage import any_of, secret_columns
from .tables import GUARDIANS, GUARDIANS_KEY, STATUS_CHANGES, STUDENTS, Table, audit_value, revealed

# The columns the roster sets on an existing pupil. Plain ones are written as computed here (blanks
# already replaced by the stored value); encrypted ones and their blind indexes only when they changed
# (NULL in the staging table means "keep").
STUDENT_PLAIN = (
    "school_id", "grade_id", "klass_id", "name", "gender", "birth_date", "enrollment_status", "is_boarding",
    "hukou", "township", "village", "card_bank", "card_holder",
)  # fmt: skip
STUDENT_SECRET = {"student_no": "student_no_hash", "phone": None, "card_account": "card_account_hash"}
GUARDIAN_PLAIN = ("name", "relation")
GUARDIAN_SECRET = {"id_number": "id_number_hash", "phone": None}
#: The staging rows of an update, column by column (see _diff_student and _diff_guardian).
STUDENT_UPDATE_COLUMNS = ["id", *STUDENT_PLAIN, *secret_columns(STUDENT_SECRET), "roster_fingerprint", "updated_at"]
GUARDIAN_UPDATE_COLUMNS = ["id", *GUARDIAN_PLAIN, *secret_columns(GUARDIAN_SECRET), "updated_at"]


def prepare_updates(to_update: dict[uuid.UUID, RowReport], w: Writes, ctx: ApplyContext, now: dt.datetime) -> None:
    """Compare the locked stored rows with the roster rows; stage what changed, with its audit rows."""
    fields = ["pk", *STUDENT_PLAIN, *STUDENT_SECRET, "enrollment_status"]
    stored = {
        row["pk"]: row
        for row in Student.objects.select_for_update()
        .filter(pk__in=any_of(list(to_update)))
        .values(*dict.fromkeys(fields))
    }
    guardians: dict[uuid.UUID, dict[int, dict[str, Any]]] = {}
    for g in (
        Guardian.objects.select_for_update()
        .filter(student_id__in=any_of(list(to_update)))
        .values("pk", "student_id", "position", *GUARDIAN_PLAIN, *GUARDIAN_SECRET)
    ):
        guardians.setdefault(g["student_id"], {})[g["position"]] = g
    for pk, report in to_update.items():
        clean: CleanRow = report.clean  # type: ignore[assignment]
        old = stored.get(pk)
        if old is None:  # deleted since the first look
            reject(report, RowCode.CHANGED_MEANWHILE)
            continue
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        student_row = _diff_student(pk, old, clean, before, after, now)
        guardian_inserts, guardian_updates = [], []
        guardians_before, guardians_after = [], []
        for g in clean.guardians:
            stored_g = guardians.get(pk, {}).get(g.position)
            if stored_g is None:  # a new guardian: its values after, nothing before
                gv = {**base(ctx), **guardian_values(g, pk)}
                guardian_row, guardian_after = GUARDIANS.prepare(gv)
                guardian_inserts.append(guardian_row)
                guardians_after.append(inside(gv["id"], guardian_after))
            else:
                changed = _diff_guardian(stored_g, g, now)
                if changed is not None:
                    row, guardian_before, guardian_after = changed
                    guardian_updates.append(row)
                    guardians_before.append(inside(stored_g["pk"], guardian_before))
                    guardians_after.append(inside(stored_g["pk"], guardian_after))
        if guardians_after:
            before[GUARDIANS_KEY], after[GUARDIANS_KEY] = guardians_before, guardians_after
        pending: list[trail.Pending] = []
        if after:
            pending.append(STUDENTS.pending("import_update", pk, ctx, before=before, after=after))
        if old["enrollment_status"] != clean.status:
            sv = {
                **base(ctx),
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
    for attname in STUDENT_PLAIN:
        value = final[attname]
        row.append(value)
        if value != old[attname]:
            name = STUDENTS.by_attname[attname].name
            before[name], after[name] = trail.jsonable(old[attname]), trail.jsonable(value)
    for attname, hash_attname in STUDENT_SECRET.items():
        _diff_secret(STUDENTS, attname, hash_attname, getattr(clean, attname), old[attname], row, before, after)
    row += [clean.fingerprint, now]
    return row


def _diff_secret(
    table: Table,
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
    stored = revealed(stored)
    if not value or value == stored:
        row.append(None)
        if hash_attname:
            row.append(None)
        return
    row.append(encrypt(value, context=field.kind))
    before[field.name], after[field.name] = audit_value(field, stored), audit_value(field, value)
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
    for attname in GUARDIAN_PLAIN:
        value = getattr(g, attname)
        row.append(value)
        if value != stored[attname]:
            before[attname], after[attname] = stored[attname], value
    for attname, hash_attname in GUARDIAN_SECRET.items():
        _diff_secret(GUARDIANS, attname, hash_attname, getattr(g, attname), stored[attname], row, before, after)
    if not after:
        return None
    row.append(now)
    return row, before, after
