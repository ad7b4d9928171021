"""A new pupil prepared as COPY text for the readers (apply.new._new_pupil_copy) holds exactly what the
generic preparation from the model's fields (apply.tables.Table.prepare) computes: the same columns, values,
escapes and audit values; only the ids and the ciphertexts' nonces differ."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from core.audit import trail
from core.crypto import decrypt
from core.fields import EncryptedField
from core.pgcopy import NULL, copy_text
from students import idcard
from students.roster import apply
from students.roster.validate import CleanRow, GuardianRow

_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _fields(line: str) -> list[str | None]:
    """A COPY text line's fields, unescaped (None for \\N)."""
    assert line.endswith("\n")
    out: list[str | None] = []
    for raw in line[:-1].split("\t"):
        if raw == NULL:
            out.append(None)
            continue
        text, i = [], 0
        while i < len(raw):
            pair = raw[i : i + 2]
            if pair in _UNESCAPE:
                text.append(_UNESCAPE[pair])
                i += 2
            else:
                text.append(raw[i])
                i += 1
        out.append("".join(text))
    return out


def _clean(**overrides) -> CleanRow:
    number = idcard.compose("410622", dt.date(2016, 5, 4), 311, idcard.Sex.FEMALE)
    values = dict(
        row=2, school_id=uuid.uuid4(), grade_id=uuid.uuid4(), klass_id=uuid.uuid4(), name="王小红",
        id_number=number, id_hash="0" * 32, student_no="G" + number, gender="F", birth_date=dt.date(2016, 5, 4),
        status="ATTENDING", is_boarding=True, hukou="RURAL", township="城关镇", village="东村", phone="13800001111",
        card_bank="农村信用社", card_account="6221000011112222", card_holder="王大", fingerprint="f" * 32,
        guardians=(
            GuardianRow(position=1, name="王大", relation="FATHER", id_number="410622198001010011", phone="158000022"),
            GuardianRow(position=2, name="李\\梅", relation="MOTHER", id_number=None, phone=None),
        ),
    )  # fmt: skip
    values.update(overrides)
    return CleanRow(**values)


def _plain(ciphertext: str | None, kind: str) -> str | None:
    return None if ciphertext is None else decrypt(ciphertext, context=kind)


CASES = {
    "everything given": {},
    "blank optional cells": dict(
        student_no=None,
        is_boarding=None,
        township=None,
        village=None,
        phone=None,
        card_bank=None,
        card_account=None,
        card_holder=None,
        guardians=(),
    ),
    "free text to escape": dict(name="王\\小明", village="东\t村\\N", card_holder="王\\.大\n", township="北\r镇"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_new_pupil_as_copy_text_holds_what_the_model_fields_compute(case):
    clean = _clean(**CASES[case])
    ctx = apply.ApplyContext(
        tenant_id=uuid.uuid4(), reason="r", school_names={}, nameable=None, today=dt.date(2026, 9, 1)
    )
    fast = apply.prepare_new_pupil(clean, ctx, for_copy=True)
    generic = apply.prepare_new_pupil(clean, ctx)

    def same_row(table, line, values, ids):
        fields = _fields(line)
        assert len(fields) == len(table.row_columns) == len(values)
        for column, got, want in zip(table.row_columns, fields, values, strict=True):
            field = table.by_column[column]
            if column in ids:
                assert got == ids[column], column
            elif isinstance(field, EncryptedField):
                assert _plain(got, field.kind) == _plain(want, field.kind), column
            else:
                expected = None if want is None else _fields(copy_text(want) + "\n")[0]
                assert got == expected, column

    same_row(apply.STUDENTS, fast.row, generic.row, {"id": str(fast.id)})
    assert len(fast.guardian_rows) == len(generic.guardian_rows) == len(clean.guardians)
    for line, values in zip(fast.guardian_rows, generic.guardian_rows, strict=True):
        same_row(apply.GUARDIANS, line, values, {"id": _fields(line)[0], "student_id": str(fast.id)})

    # The audit values: as the generic preparation records them (and as the ORM hooks would), the
    # pupil's and guardians' ids aside.
    action, object_type, object_id, after_text = fast.audit
    assert (action, object_type, object_id) == (generic.audit.action, generic.audit.object_type, str(fast.id))
    fast_after = json.loads(after_text)
    generic_after = json.loads(trail.encode(generic.audit.after))
    assert after_text == trail.encode(fast_after)  # canonical: what the trail seals
    for after, pupil_id in ((fast_after, str(fast.id)), (generic_after, str(generic.id))):
        for guardian in after["guardians"]:
            assert guardian.pop("student") == pupil_id
            guardian.pop("id")
    assert fast_after == generic_after
