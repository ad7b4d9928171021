"""Opening a department's file safely: xlsx (the roster reader's checks: zip bomb, XML entities,
formulas, row count, before calamine parses it) or CSV in UTF-8 or GB18030 (Excel in China saves GBK).

Registries are bigger than rosters (a province's 低保 list runs to a million rows), so the limits are
their own; everything else is the roster reader's code.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook

from core import files
from students.roster import reader as safe
from students.roster.problems import FileProblem, RosterFileError

from .fields import FIELDS, normalise_header

#: Rows in one registry file.
MAX_ROWS = 2_000_000
#: A million-row registry unpacks to about 250 MB of XML.
MAX_UNPACKED_BYTES = 900 * 1024 * 1024
#: Rows at the top that may hold titles before the header row.
HEADER_SEARCH_ROWS = 10


class RegistryFileError(Exception):
    """The file cannot be used at all; the message says why, for the person who uploaded it."""

    def __init__(self, message: Any) -> None:
        self.message = str(message)
        super().__init__(self.message)


MSG_TOO_LARGE = _("The file is larger than %(limit)s MB. Split it into several files.")
MSG_NOT_A_FILE = _("This is neither an Excel workbook (.xlsx) nor a CSV file. Save it from Excel or WPS as .xlsx.")
MSG_OLD_XLS = _("This is an old Excel 97-2003 file (.xls) or a password-protected workbook: save it as .xlsx.")
MSG_UNSAFE = _("The workbook is packed or declared in a way Excel never writes, so it was not opened. Save it again.")
MSG_FORMULA = _("The file contains formulas (cells %(cells)s): paste the sheet back as values only.")
MSG_TOO_MANY_ROWS = _("The file has more than %(limit)s rows: split it.")
MSG_UNREADABLE = _("The workbook could not be read (%(detail)s). Open it in Excel and save it again.")
MSG_NO_HEADER = _("No header row naming the columns %(columns)s was found in the first %(rows)s rows.")
MSG_NO_ROWS = _("The file has a header row but no data rows.")
MSG_ENCODING = _("The CSV file is neither UTF-8 nor GB18030 text.")

_FILE_PROBLEMS = {
    FileProblem.TOO_LARGE: MSG_TOO_LARGE,
    FileProblem.NOT_XLSX: MSG_NOT_A_FILE,
    FileProblem.OLD_XLS: MSG_OLD_XLS,
    FileProblem.ZIP_BOMB: MSG_UNSAFE,
    FileProblem.XML_ENTITIES: MSG_UNSAFE,
    FileProblem.FORMULA: MSG_FORMULA,
    FileProblem.TOO_MANY_ROWS: MSG_TOO_MANY_ROWS,
}


def max_bytes() -> int:
    return getattr(settings, "REGISTRY_MAX_UPLOAD_BYTES", 300 * 1024 * 1024)


@dataclass
class RegistryFile:
    """An opened file: its header row (the texts as written) and its data rows, read lazily."""

    path: Path
    fingerprint: str
    kind: str  # "xlsx" or "csv"
    headers: list[str]
    header_row: int
    total: int
    _rows: Any

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as the user sees it, cells) of every row after the header."""
        return self._rows()


def materialise(source: str | Path | IO[bytes], workdir: Path) -> tuple[Path, str]:
    """The file on disk (an upload is copied, within the size limit) and the SHA-256 of its bytes."""
    try:
        return files.on_disk(source, workdir=workdir, name="registry-upload", limit=max_bytes())
    except files.TooLarge:
        raise RegistryFileError(MSG_TOO_LARGE % {"limit": max_bytes() // (1024 * 1024)}) from None


def open_registry(source: str | Path | IO[bytes], *, workdir: Path, required: set[str]) -> RegistryFile:
    """Check and open a file; `required` are the header texts that must be in the header row (the
    mapping's columns). Raises RegistryFileError with the reason."""
    path, fingerprint = materialise(source, workdir)
    with path.open("rb") as f:
        magic = f.read(4)
    try:
        if magic == b"\xd0\xcf\x11\xe0":
            raise RegistryFileError(MSG_OLD_XLS)
        if magic == b"PK\x03\x04":
            return _open_xlsx(path, fingerprint, required)
        return _open_csv(path, fingerprint, required)
    except RosterFileError as exc:
        message = _FILE_PROBLEMS.get(exc.problem)
        raise RegistryFileError(message % exc.params if message else exc.message) from exc


def _inspect(path: Path) -> None:
    """The roster reader's checks, with the registry's limits, on every part of the workbook."""
    with path.open("rb") as raw:
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise RosterFileError(FileProblem.NOT_XLSX) from exc
        with archive:
            for info in safe._check_directory(archive, MAX_UNPACKED_BYTES):
                name = info.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    safe._scan_sheet(raw, info, MAX_ROWS, MAX_UNPACKED_BYTES)
                elif name.endswith((".xml", ".rels", ".vml")):
                    safe._scan_xml(raw, info, MAX_UNPACKED_BYTES)


def _header(rows: Iterator[tuple[int, list[Any]]], required: set[str]) -> tuple[int, list[str]]:
    wanted = {normalise_header(h) for h in required}
    for number, cells in rows:
        texts = [str(c).strip() if c is not None else "" for c in cells]
        found = wanted <= {normalise_header(t) for t in texts} if wanted else sum(bool(t) for t in texts) >= 2
        if found:
            return number, texts
        if number >= HEADER_SEARCH_ROWS:
            break
    names = "、".join(sorted(required)) or "、".join(str(f.aliases[0]) for f in FIELDS if f.required)
    raise RegistryFileError(MSG_NO_HEADER % {"columns": names, "rows": HEADER_SEARCH_ROWS})


def _open_xlsx(path: Path, fingerprint: str, required: set[str]) -> RegistryFile:
    _inspect(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        start, end = sheet.start, sheet.end
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        raise RegistryFileError(MSG_UNREADABLE % {"detail": type(exc).__name__}) from exc
    if start is None or end is None:
        raise RegistryFileError(MSG_NO_ROWS)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        # calamine yields from the first non-empty row (older versions: from row 1, padded).
        first = sheet.start[0] + 1
        rows = sheet.iter_rows()
        for i, cells in enumerate(rows):
            yield first + i, cells

    header_row, headers = _header(numbered(), required)
    total = end[0] + 1 - header_row
    if total <= 0:
        raise RegistryFileError(MSG_NO_ROWS)

    def data() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in numbered():
            if number > header_row:
                yield number, cells

    return RegistryFile(path, fingerprint, "xlsx", headers, header_row, total, data)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data[:4096]:
        raise RegistryFileError(MSG_NOT_A_FILE)  # binary, or UTF-16
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegistryFileError(MSG_ENCODING)


def _open_csv(path: Path, fingerprint: str, required: set[str]) -> RegistryFile:
    text = _decode(path)
    head = text[:4096].splitlines()[0] if text.strip() else ""
    delimiter = max(",\t|;", key=head.count)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)

    header_row, headers = _header(numbered(), required)
    total = text.count("\n") + (0 if text.endswith("\n") else 1) - header_row
    if total > MAX_ROWS:
        raise RegistryFileError(MSG_TOO_MANY_ROWS % {"limit": f"{MAX_ROWS:,}"})
    if total <= 0:
        raise RegistryFileError(MSG_NO_ROWS)

    def data() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in numbered():
            if number > header_row:
                yield number, cells

    return RegistryFile(path, fingerprint, "csv", headers, header_row, total, data)


def peek_headers(source: str | Path | IO[bytes]) -> list[str]:
    """The header row of a file, for the mapping form: the first row with at least two texts."""
    with tempfile.TemporaryDirectory(prefix="registry-peek-") as workdir:
        opened = open_registry(source, workdir=Path(workdir), required=set())
        return [h for h in opened.headers if h]
