"""Opening a department's file safely: xlsx (core.intake's checks: zip bomb, XML entities, formulas,
row count, before calamine parses it) or CSV in UTF-8 or GB18030 (Excel in China saves GBK).

Registries are bigger than rosters (a province's 低保 list runs to a million rows), so the limits are
their own; the checks, the reading and the messages are the kernel's (core.intake).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from core import files
from core.intake import text as csv_text
from core.intake import workbook
from core.intake.problems import FileError, FileProblem, raised_as

from .fields import FIELDS, normalise_header

#: Rows in one registry file.
MAX_ROWS = 2_000_000
#: A million-row registry unpacks to about 250 MB of XML.
MAX_UNPACKED_BYTES = 900 * 1024 * 1024
#: Rows at the top that may hold titles before the header row.
HEADER_SEARCH_ROWS = 10


class RegistryFileError(FileError):
    """The file cannot be used at all; `message` says why (in core.intake's words), for the person who
    uploaded it."""


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
        raise RegistryFileError(FileProblem.TOO_LARGE, limit=max_bytes() // (1024 * 1024)) from None


def open_registry(source: str | Path | IO[bytes], *, workdir: Path, required: set[str]) -> RegistryFile:
    """Check and open a file; `required` are the header texts that must be in the header row (the
    mapping's columns). Raises RegistryFileError with the reason."""
    path, fingerprint = materialise(source, workdir)
    with raised_as(RegistryFileError):
        if workbook.is_xlsx(path):
            return _open_xlsx(path, fingerprint, required)
        return _open_csv(path, fingerprint, required)


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
    raise RegistryFileError(FileProblem.MISSING_COLUMNS, columns=names, rows=HEADER_SEARCH_ROWS)


def _open_xlsx(path: Path, fingerprint: str, required: set[str]) -> RegistryFile:
    workbook.inspect_every_sheet(path, max_rows=MAX_ROWS, max_unpacked=MAX_UNPACKED_BYTES)
    sheet = workbook.open_sheet(path)  # the first
    if sheet.empty:
        raise RegistryFileError(FileProblem.NO_ROWS)
    header_row, headers = _header(sheet.rows(), required)
    total = sheet.last_row - header_row
    if total <= 0:
        raise RegistryFileError(FileProblem.NO_ROWS)

    def data() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in sheet.rows():
            if number > header_row:
                yield number, cells

    return RegistryFile(path, fingerprint, "xlsx", headers, header_row, total, data)


def _open_csv(path: Path, fingerprint: str, required: set[str]) -> RegistryFile:
    text = csv_text.decode(path.read_bytes())
    header_row, headers = _header(csv_text.rows(text), required)
    total = text.count("\n") + (0 if text.endswith("\n") else 1) - header_row
    if total > MAX_ROWS:
        raise RegistryFileError(FileProblem.TOO_MANY_ROWS, limit=f"{MAX_ROWS:,}")
    if total <= 0:
        raise RegistryFileError(FileProblem.NO_ROWS)

    def data() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in csv_text.rows(text):
            if number > header_row:
                yield number, cells

    return RegistryFile(path, fingerprint, "csv", headers, header_row, total, data)


def peek_headers(source: str | Path | IO[bytes]) -> list[str]:
    """The header row of a file, for the mapping form: the first row with at least two texts."""
    with tempfile.TemporaryDirectory(prefix="registry-peek-") as workdir:
        opened = open_registry(source, workdir=Path(workdir), required=set())
        return [h for h in opened.headers if h]
