"""Importing a department's list as a dated snapshot, and the column mappings that read it.

`registry_import` is the one import (browser job, command line, tests, benchmark). In one transaction:
the snapshot row (audited, with the file's fingerprint and counts), then every valid row, encrypted
and blind-indexed like the register, written set-based (PostgreSQL: COPY into a TEMP table, then one
INSERT … SELECT, because COPY cannot write through forced row-level security; SQLite: executemany),
then the summary of what changed since the source's previous snapshot (three anti-joins). Invalid
rows are reported (row number, code, message) and never written; a file that cannot be read changes
nothing. The same file again finds its snapshot and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import uuid
from base64 import b64encode
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.crypto import keyed_hash, keyring
from core.rawsql import db_uuid
from core.tenancy.context import current_tenant_id
from core.xlsx import ColumnFormat, XlsxWriter
from schools import permissions
from schools.permissions import Action
from students import idcard
from students.models import HardshipCategory

from ..models import ColumnMapping, RegistryEntry, RegistrySnapshot, RegistrySource
from .fields import CATEGORY_ALIASES, FIELD_KEYS, FIELDS, SOURCE_DEFAULT_CATEGORY, normalise_header
from .reader import open_registry

#: Rows validated and written per round (progress is reported between rounds).
CHUNK = 50_000
#: Rejected rows kept on the snapshot itself (the report file has them all).
PROBLEMS_KEPT = 200


class RowCode(StrEnum):
    NAME_EMPTY = "NAME_EMPTY"
    ID_AS_NUMBER = "ID_AS_NUMBER"
    HOUSEHOLD_ID_INVALID = "HOUSEHOLD_ID_INVALID"
    CATEGORY_UNKNOWN = "CATEGORY_UNKNOWN"
    DUPLICATE = "DUPLICATE"


ROW_MESSAGES: dict[str, Any] = {
    RowCode.NAME_EMPTY: _("The name is empty."),
    RowCode.ID_AS_NUMBER: _(
        "The ID number is stored as a number, so Excel dropped its last digits: format the column as text."
    ),
    RowCode.HOUSEHOLD_ID_INVALID: _("The household head's ID number is not valid."),
    RowCode.CATEGORY_UNKNOWN: _("The category “%(value)s” is not one of the district's hardship categories."),
    RowCode.DUPLICATE: _("The same person and category appear earlier in the file (row %(first)s)."),
    **{p.value: m for p, m in idcard.PROBLEM_MESSAGES.items()},
}

MSG_MAPPING_SOURCE = _("This column mapping belongs to another source.")
MSG_MAPPING_COLUMNS = _("Map at least the columns %(fields)s.")
MSG_NO_VALID_ROWS = _("No row of the file could be used; nothing was imported. See the row report.")


# --- Column mappings ------------------------------------------------------------------------------------


def mapping_save(
    *,
    actor: Any,
    source: str,
    name: str,
    columns: dict[str, str],
    category_values: dict[str, str] | None = None,
    default_category: str = "",
) -> ColumnMapping:
    """Create or change the named mapping of a source (the district sets it once and reuses it)."""
    permissions.require(actor, Action.REGISTRY_IMPORT)
    source = RegistrySource(source)
    columns = {k: v.strip() for k, v in columns.items() if k in FIELD_KEYS and v and v.strip()}
    missing = [str(f.label) for f in FIELDS if f.required and f.key not in columns]
    if missing:
        raise ValidationError(MSG_MAPPING_COLUMNS % {"fields": "、".join(missing)})
    codes = set(HardshipCategory.objects.values_list("code", flat=True))
    values = {k.strip(): v for k, v in (category_values or {}).items() if k.strip() and v in codes}
    if default_category and default_category not in codes:
        raise ValidationError(_("Unknown category: %(code)s") % {"code": default_category})
    with transaction.atomic(), trail.labelled("registry.mapping_save"):
        mapping = ColumnMapping.objects.filter(source=source, name=name.strip()).first() or ColumnMapping(
            source=source, name=name.strip()[:60], created_by=actor
        )
        mapping.columns, mapping.category_values, mapping.default_category = columns, values, default_category
        mapping.save()
    return mapping


def default_mapping(source: str) -> ColumnMapping:
    """An unsaved mapping using the usual header words, for files without a saved mapping."""
    return ColumnMapping(
        source=source,
        name="",
        columns={f.key: f.aliases[0] for f in FIELDS if f.key in ("name", "id_number", "category")},
        default_category=SOURCE_DEFAULT_CATEGORY[RegistrySource(source)],
    )


# --- The import -------------------------------------------------------------------------------------------


@dataclass
class RowProblem:
    row: int
    code: str
    message: str


@dataclass
class ImportResult:
    snapshot: RegistrySnapshot
    created: bool
    rejected: list[RowProblem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        s = self.snapshot
        return {"rows": s.rows_total, "kept": s.rows_valid, "rejected": s.rows_rejected}


Progress = Callable[[int, int], None]


def _category_lookup(mapping: ColumnMapping) -> dict[str, str]:
    """Cell text (normalised) → category code: the mapping's own words first, then the categories'
    names and codes, then the words departments commonly use."""
    lookup = {normalise_header(k): v for k, v in CATEGORY_ALIASES.items()}
    for code, name in HardshipCategory.objects.values_list("code", "name"):
        lookup[normalise_header(code)] = code
        lookup[normalise_header(name)] = code
    lookup.update({normalise_header(k): v for k, v in (mapping.category_values or {}).items()})
    return lookup


def registry_import(
    *,
    actor: Any,
    source: str,
    file: str | Path | IO[bytes],
    file_name: str = "",
    mapping: ColumnMapping | None = None,
    taken_on: dt.date | None = None,
    report_path: str | Path | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one department's file as a snapshot. Raises RegistryFileError when the file cannot be
    used (nothing is written) and ValidationError when not one row is valid."""
    permissions.require(actor, Action.REGISTRY_IMPORT)
    source = RegistrySource(source)
    if mapping is not None and mapping.source != source:
        raise ValidationError(MSG_MAPPING_SOURCE)
    mapping = mapping or default_mapping(source)
    with tempfile.TemporaryDirectory(prefix="registry-") as workdir:
        columns = mapping.columns
        # A saved mapping names columns the file has; the default one's optional columns (category)
        # may be missing: a veterans' list without a category column takes the source's default.
        needed = [f.key for f in FIELDS if f.required or not mapping._state.adding]
        required = {columns[k] for k in needed if columns.get(k)}
        opened = open_registry(file, workdir=Path(workdir), required=required)
        file_name = (file_name or Path(str(getattr(file, "name", "") or opened.path)).name)[:200]
        existing = RegistrySnapshot.objects.filter(source=source, fingerprint=opened.fingerprint).first()
        if existing is not None:
            return ImportResult(snapshot=existing, created=False)
        index = {normalise_header(h): i for i, h in enumerate(opened.headers)}
        at = {
            key: index[normalise_header(header)]
            for key, header in columns.items()
            if header and normalise_header(header) in index
        }
        with transaction.atomic():
            snapshot = RegistrySnapshot(
                source=source,
                mapping=None if mapping._state.adding else mapping,
                file_name=file_name,
                fingerprint=opened.fingerprint,
                taken_on=taken_on or timezone.localdate(),
                imported_by=actor,
            )
            with trail.labelled("registry.import", file_name):
                snapshot.save()
            rejected = _load(snapshot, opened, at, _category_lookup(mapping), mapping.default_category, progress)
            kept = RegistryEntry.objects.filter(snapshot=snapshot).count()
            if not kept:
                _write_report(report_path, rejected)
                raise ValidationError(MSG_NO_VALID_ROWS)
            snapshot.rows_valid, snapshot.rows_rejected = kept, len(rejected)
            snapshot.rows_total = kept + len(rejected)
            snapshot.changes = _changes(snapshot)
            snapshot.problems = [vars(p) for p in rejected[:PROBLEMS_KEPT]]
            with trail.labelled("registry.import_counted", file_name):
                snapshot.save(update_fields=["rows_total", "rows_valid", "rows_rejected", "changes", "problems"])
        _write_report(report_path, rejected)
        return ImportResult(snapshot=snapshot, created=True, rejected=rejected)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if cell.__class__ is str:
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


#: The shape idcard.parse accepts, in ASCII digits only (anything else takes the slow path).
_ID_ASCII = re.compile(r"[0-9]{17}[0-9X]")


def _id_number(text: str, today: dt.date) -> str:
    """idcard.parse(text).number, a million times: a valid number is checked here by the same rules
    (normalised, 18 characters, a province, a real birth date, the check character) without building
    the parsed value; anything else goes to idcard.parse, which raises with the problem found."""
    number = "".join(text.split()).upper()
    if (
        len(number) == 18
        and _ID_ASCII.fullmatch(number)
        and number[0] in "12345678"
        and number[2:6] != "0000"
        and idcard.check_character(number[:17]) == number[17]
    ):
        try:
            birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            birth = None
        if birth is not None and birth.year >= 1900 and birth <= today:
            return number
    return idcard.parse(text, today=today).number


def _load(
    snapshot: RegistrySnapshot,
    opened: Any,
    at: dict[str, int],
    categories: dict[str, str],
    default_category: str,
    progress: Progress | None,
) -> list[RowProblem]:
    """Validate, encrypt and write the rows, CHUNK at a time; return the rejected ones."""
    rejected: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    writer = _EntryWriter(snapshot)
    i_name, i_id = at["name"], at["id_number"]
    i_household, i_category = at.get("household_id_number"), at.get("category")
    i_township, i_village = at.get("township"), at.get("village")
    category_of: dict[str, str | None] = {}  # cell text → code (normalise_header once per distinct text)
    today = dt.date.today()  # noqa: DTZ011  a calendar date, as idcard.parse uses
    text = _text
    chunk: list[tuple[Any, ...]] = []
    done = 0

    def cell(cells: list[Any], i: int | None) -> Any:
        return cells[i] if i is not None and i < len(cells) else None

    def reject(row: int, code: str, **params: Any) -> None:
        rejected.append(
            RowProblem(row, str(code), str(ROW_MESSAGES[code]) % params if params else str(ROW_MESSAGES[code]))
        )

    try:
        for number, cells in opened.rows():
            done += 1
            name = text(cell(cells, i_name))
            if not name:
                if not any(c not in (None, "") for c in cells):
                    continue  # a blank line
                reject(number, RowCode.NAME_EMPTY)
                continue
            raw_id = cell(cells, i_id)
            if isinstance(raw_id, int | float):
                reject(number, RowCode.ID_AS_NUMBER)
                continue
            try:
                person = _id_number(text(raw_id), today)
            except idcard.InvalidIdNumber as exc:
                reject(number, exc.problem.value)
                continue
            household = text(cell(cells, i_household)) if i_household is not None else ""
            if household:
                try:
                    household = _id_number(household, today)
                except idcard.InvalidIdNumber:
                    reject(number, RowCode.HOUSEHOLD_ID_INVALID)
                    continue
            category_text = text(cell(cells, i_category)) if i_category is not None else ""
            if category_text:
                try:
                    category = category_of[category_text]
                except KeyError:
                    category = category_of[category_text] = categories.get(normalise_header(category_text))
            else:
                category = default_category
            if not category:
                reject(number, RowCode.CATEGORY_UNKNOWN, value=category_text)
                continue
            key = (person, category)
            first = seen.setdefault(key, number)
            if first != number:
                reject(number, RowCode.DUPLICATE, first=first)
                continue
            township = text(cell(cells, i_township))[:50] if i_township is not None else ""
            village = text(cell(cells, i_village))[:50] if i_village is not None else ""
            chunk.append((number, name[:50], person, household, category, township, village))
            if len(chunk) >= CHUNK:
                writer.write(chunk)
                chunk = []
                if progress:
                    progress(done, opened.total)
        if chunk:
            writer.write(chunk)
    finally:
        writer.close()
    if progress:
        progress(opened.total, opened.total)
    return rejected


class _Sealer:
    """crypto.encrypt and crypto.blind_index of ID numbers, with the cipher looked up once: the same
    AES-GCM (a fresh 12-byte random nonce per value, the field's kind as associated data) and the same
    keyed hash of the normalised number (which idcard.parse has already produced)."""

    KIND = "id_number"

    def __init__(self) -> None:
        ring = keyring()
        self.prefix = f"{ring.current_id}$"
        self.aead = ring.keys[ring.current_id]
        self.context = self.KIND.encode()

    def seal(self, numbers: list[str]) -> tuple[list[str], list[str]]:
        """(ciphertexts, blind indexes) of normalised ID numbers."""
        encrypt, context, prefix, kind = self.aead.encrypt, self.context, self.prefix, self.KIND
        nonces = os.urandom(12 * len(numbers))
        sealed, hashes = [], []
        for i, number in enumerate(numbers):
            plain = number.encode()
            nonce = nonces[12 * i : 12 * i + 12]
            sealed.append(prefix + b64encode(nonce + encrypt(nonce, plain, context)).decode())
            hashes.append(keyed_hash(number, kind=kind))
        return sealed, hashes


class _EntryWriter:
    """Encrypts and blind-indexes a chunk of rows and writes it in a few statements. On PostgreSQL the
    statements of a chunk run in a second thread on the same connection and transaction, while the
    next chunk is read and validated (psycopg lets the other thread run while the server works)."""

    #: Written per row; the tenant, timestamps and snapshot are the same for all and passed once.
    ROW_COLUMNS = (
        "row_number", "name", "id_number", "id_number_hash", "household_id_number", "household_id_number_hash",
        "category", "township", "village",
    )  # fmt: skip
    CONSTANT_COLUMNS = ("tenant_id", "created_at", "updated_at", "snapshot_id")
    COLUMNS = CONSTANT_COLUMNS + ROW_COLUMNS

    def __init__(self, snapshot: RegistrySnapshot) -> None:
        self.snapshot = snapshot
        self.tenant_id = current_tenant_id()
        self.now = timezone.now()
        self.vendor = connection.vendor
        self.table = RegistryEntry._meta.db_table
        self.qn = connection.ops.quote_name
        self.sealer = _Sealer()
        prefix = uuid.uuid4().hex
        self.id_prefix = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self.pending: Future[None] | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.staged = False

    def _rows(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        persons, person_hashes = self.sealer.seal([row[2] for row in chunk])
        heads = [row[3] for row in chunk if row[3]]
        sealed_heads, head_hashes = self.sealer.seal(heads) if heads else ([], [])
        h = 0
        out = []
        for (number, name, _person, household, category, township, village), id_number, id_hash in zip(
            chunk, persons, person_hashes, strict=True
        ):
            if household:
                head, head_hash = sealed_heads[h], head_hashes[h]
                h += 1
            else:
                head = head_hash = None
            out.append((number, name, id_number, id_hash, head, head_hash, category, township, village))
        return out

    def write(self, chunk: list[tuple[Any, ...]]) -> None:
        rows = self._rows(chunk)
        if self.vendor != "postgresql":
            self._insert(rows)
            return
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-copy")
        raw = connection.connection  # the connection (and open transaction) Django holds
        self.pending = self.pool.submit(self._copy, raw, rows)

    def wait(self) -> None:
        """Until the chunk being written is in (its error, if any, raised here)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown()
                self.pool = None

    def _copy(self, raw: Any, rows: list[tuple[Any, ...]]) -> None:
        qn = self.qn
        cols = ", ".join(qn(c) for c in self.ROW_COLUMNS)
        constants = ", ".join(qn(c) for c in self.CONSTANT_COLUMNS)
        with connection.wrap_database_errors, raw.cursor() as cursor:
            if not self.staged:
                stage = f"SELECT {cols} FROM {qn(self.table)} WHERE 1 = 0"  # noqa: S608
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS registry_entry_stage AS {stage}")
                self.staged = True
            cursor.execute("TRUNCATE registry_entry_stage")
            with cursor.copy(f"COPY registry_entry_stage ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # The ids rise with the row number (a random prefix per import, the row number in the last
            # 12 hex digits): the primary key grows at its right edge instead of at a million random
            # places. The join proves, once for the chunk, that the snapshot is this tenant's (row-level
            # security hides any other), which a per-row foreign key would check a million times.
            cursor.execute(
                f"INSERT INTO {qn(self.table)} (id, {constants}, {cols}) "  # noqa: S608
                f"SELECT (%s || lpad(to_hex(e.row_number), 12, '0'))::uuid, %s, %s, %s, s.id, "
                f"{', '.join('e.' + qn(c) for c in self.ROW_COLUMNS)} "
                f"FROM registry_entry_stage e JOIN {qn(RegistrySnapshot._meta.db_table)} s ON s.id = %s",
                [self.id_prefix, self.tenant_id, self.now, self.now, self.snapshot.pk],
            )
            if cursor.rowcount != len(rows):
                raise RuntimeError("registry rows must belong to a snapshot of the importing tenant")
            cursor.execute("TRUNCATE registry_entry_stage")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        qn = self.qn
        cols = ", ".join(qn(c) for c in self.COLUMNS)
        # UUIDs as Django stores them on SQLite: 32 hex digits.
        constants = (uuid.UUID(str(self.tenant_id)).hex, self.now, self.now, self.snapshot.pk.hex)
        marks = ", ".join(["%s"] * (len(self.COLUMNS) + 1))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {qn(self.table)} (id, {cols}) VALUES ({marks})",  # noqa: S608
                [(uuid.uuid4().hex, *constants, *row) for row in rows],
            )


def _changes(snapshot: RegistrySnapshot) -> dict[str, Any]:
    """What changed since the source's previous snapshot, counted in people (ID numbers): added,
    removed, and those whose category changed."""
    previous = (
        RegistrySnapshot.objects.filter(source=snapshot.source, created_at__lt=snapshot.created_at)
        .exclude(pk=snapshot.pk)
        .order_by("-taken_on", "-created_at")
        .first()
    )
    if previous is None:
        return {"previous": None}
    # One pass over both snapshots, grouped, no join: each (person, category) pair is marked as in
    # the new and/or the old list, then each person. A join of two unanalysed million-row snapshots is
    # where planners go wrong (PostgreSQL chose a nested loop and ran for over ten minutes; SQLite has
    # no hash join at all); a grouping is a sort or a hash table on either database (about 2 s).
    qn = connection.ops.quote_name
    sql = f"""
        SELECT COALESCE(SUM(CASE WHEN in_new = 1 AND in_old = 0 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN in_new = 0 AND in_old = 1 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN in_new = 1 AND in_old = 1 AND new_pair = 1 THEN 1 ELSE 0 END), 0)
          FROM (SELECT person, MAX(n) AS in_new, MAX(o) AS in_old, MAX(n * (1 - o)) AS new_pair
                  FROM (SELECT id_number_hash AS person, category,
                               MAX(CASE WHEN snapshot_id = %s THEN 1 ELSE 0 END) AS n,
                               MAX(CASE WHEN snapshot_id = %s THEN 1 ELSE 0 END) AS o
                          FROM {qn(RegistryEntry._meta.db_table)}
                         WHERE tenant_id = %s AND snapshot_id IN (%s, %s)
                         GROUP BY id_number_hash, category) pairs
                 GROUP BY person) people
    """  # noqa: S608  identifiers only; every value is a parameter
    new, old = db_uuid(snapshot.pk), db_uuid(previous.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, [new, old, db_uuid(current_tenant_id()), new, old])
        added, removed, changed = (int(n) for n in cursor.fetchone())
    return {
        "previous": str(previous.pk),
        "previous_taken_on": previous.taken_on.isoformat(),
        "added": added,
        "removed": removed,
        "changed": changed,
    }


def _write_report(path: str | Path | None, rejected: list[RowProblem]) -> None:
    """The row report: every rejected row, its code and the reason (xlsx)."""
    if path is None:
        return
    with XlsxWriter(path) as book, book.sheet("问题行", [ColumnFormat(8), ColumnFormat(22), ColumnFormat(70)]) as sheet:
        sheet.row(["行号", "问题代码", "说明"])
        for p in rejected:
            sheet.row([p.row, p.code, p.message])
