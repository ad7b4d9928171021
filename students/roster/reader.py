"""Opening an uploaded roster safely, then reading its rows.

A workbook is a zip of XML parts, and both can be made into weapons: a small zip that unpacks to
gigabytes, XML whose entities expand exponentially ("billion laughs"). So before any parser sees the
file, `inspect()` checks, in this order and with constant memory:

1. the size on disk (settings.MAX_UPLOAD_BYTES), and the magic number (a zip, not an old .xls/OLE file);
2. the zip's directory: the parts of a workbook present, no encryption, no exotic compression, a declared
   unpacked total and compression ratio a roster can have;
3. every XML part, inflated here chunk by chunk with the real bytes counted (a zip can lie about sizes):
   no DOCTYPE or ENTITY declaration anywhere (Excel never writes one), UTF-8 only;
4. the roster sheet's XML (found through workbook.xml, read with defusedxml): no formulas, and not more
   rows than a roster has.

Only then are its rows used: `open_roster()` lets python-calamine (Rust, fast) parse the sheet and
yields its rows. A large roster's reader process (students.roster.pipeline) parses it while the
checks run, after `peek()` (steps 1 and 2) and under a memory limit; nothing it read is used, and the
process is killed, unless every check passes.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree
from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook

from .columns import HEADER_KEYS, REQUIRED, SHEET_NAME, normalise_header
from .problems import FileProblem, RosterFileError

#: Refuse a workbook whose parts unpack to more than this (a 200,000-row roster is about 260 MB).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
#: Refuse a part packed tighter than this (roster XML packs about 10:1; zeros pack 1000:1)...
MAX_RATIO = 200
#: ...once it is big enough to matter.
RATIO_FLOOR_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 2000
#: workbook.xml and its relationships: a few KB in any real workbook.
SMALL_PART_BYTES = 5 * 1024 * 1024
#: Rows of the roster sheet (calamine holds the sheet in memory: about 1.5 KB a row).
MAX_ROWS = 200_000
#: Rows at the top that may hold a title before the header row.
HEADER_SEARCH_ROWS = 5

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CHUNK = 1024 * 1024
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")
# A formula is an <f> element (possibly namespace-prefixed: <x:f>) inside a cell.
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br=\"([A-Z]{1,3}[0-9]{1,7})\"[^>]*>\s*$")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class Inspection:
    """What inspect() learnt: the sheet to read and its size."""

    sheet_name: str
    sheet_part: str
    rows: int
    unpacked_bytes: int


@dataclass
class RosterSheet:
    """An opened roster: the header's columns and an iterator over the data rows."""

    sheet_name: str
    header_row: int  # 1-based, as Excel numbers rows
    columns: dict[str, int]  # column key → index in a row
    total: int  # data rows (blank ones included) below the header
    _sheet: Any = field(repr=False)
    _first_row: int = field(repr=False)  # the Excel row of calamine's first yielded row

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, cells) of each data row below the header, blank rows left out."""
        for i, cells in enumerate(self._sheet.iter_rows()):
            number = self._first_row + i
            if number <= self.header_row:
                continue
            if any(c != "" and c is not None for c in cells):
                yield number, cells


def inspect(path: str | Path) -> Inspection:
    """Check the file as described in the module docstring; raise RosterFileError on the first problem."""
    return _inspect(Path(path), scan=True)


def peek(path: str | Path) -> Inspection:
    """The checks that take no time (steps 1 and 2, and which sheet is the roster's), without reading
    the parts (its `rows` is 0): enough for a reader process under a memory limit to start parsing the
    sheet while `inspect` reads every part, whose verdict decides whether anything is imported
    (students.roster.pipeline)."""
    return _inspect(Path(path), scan=False)


def _inspect(path: Path, *, scan: bool) -> Inspection:
    size = path.stat().st_size
    if size > settings.MAX_UPLOAD_BYTES:
        raise RosterFileError(FileProblem.TOO_LARGE, limit=settings.MAX_UPLOAD_BYTES // (1024 * 1024))
    with path.open("rb") as raw:
        magic = raw.read(4)
        if magic == _OLE_MAGIC:
            raise RosterFileError(FileProblem.OLD_XLS)
        if magic != _ZIP_MAGIC:
            raise RosterFileError(FileProblem.NOT_XLSX)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise RosterFileError(FileProblem.NOT_XLSX) from exc
        with archive:
            members = _check_directory(archive)
            sheet_name, part = _find_sheet(archive)  # defusedxml: refuses DTDs and entities itself
            if not scan:
                return Inspection(sheet_name=sheet_name, sheet_part=part, rows=0, unpacked_bytes=_unpacked(members))
            for info in members:
                if info.filename != part and info.filename.endswith((".xml", ".rels", ".vml")):
                    _scan_xml(raw, info)
            rows = _scan_sheet(raw, archive.getinfo(part))
    return Inspection(sheet_name=sheet_name, sheet_part=part, rows=rows, unpacked_bytes=_unpacked(members))


def open_roster(path: str | Path, inspection: Inspection | None = None) -> RosterSheet:
    """Inspect (unless done already), then open the roster sheet and find its header row."""
    inspection = inspection or inspect(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_name(inspection.sheet_name)
        first = next(iter(sheet.iter_rows()), None)
    except (CalamineError, OSError, ValueError) as exc:
        raise RosterFileError(FileProblem.UNREADABLE, detail=type(exc).__name__) from exc
    start, end = sheet.start, sheet.end
    if first is None or start is None or end is None:
        raise RosterFileError(FileProblem.MISSING_COLUMNS, columns="、".join(c.header for c in REQUIRED))
    # Depending on its version calamine yields rows from the sheet's first row (padding with empty
    # ones) or from its first non-empty row. The first non-empty row is never empty, so one look tells.
    padded = start[0] > 0 and all(c == "" or c is None for c in first)
    first_row = 1 if padded else start[0] + 1
    header_row, columns = _find_header(sheet, first_row)
    total = end[0] + 1 - header_row
    if total <= 0:
        raise RosterFileError(FileProblem.NO_ROWS)
    return RosterSheet(
        sheet_name=inspection.sheet_name,
        header_row=header_row,
        columns=columns,
        total=total,
        _sheet=sheet,
        _first_row=first_row,
    )


# --- The checks ----------------------------------------------------------------------------------------


def _unpacked(members: list[zipfile.ZipInfo]) -> int:
    return sum(info.file_size for info in members)


def _bomb(limit: int = MAX_UNPACKED_BYTES) -> RosterFileError:
    return RosterFileError(FileProblem.ZIP_BOMB, limit=limit // (1024 * 1024))


def _check_directory(archive: zipfile.ZipFile, max_unpacked: int = MAX_UNPACKED_BYTES) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    names = {info.filename for info in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise RosterFileError(FileProblem.NOT_XLSX)  # a zip, a .docx, an .ods: not a workbook
    if len(members) > MAX_MEMBERS or _unpacked(members) > max_unpacked:
        raise _bomb(max_unpacked)
    for info in members:
        if info.flag_bits & 0x1:
            raise RosterFileError(FileProblem.OLD_XLS)  # encrypted member
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RosterFileError(FileProblem.NOT_XLSX)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _bomb(max_unpacked)
    return members


def _inflate(raw: Any, info: zipfile.ZipInfo, max_unpacked: int = MAX_UNPACKED_BYTES) -> Iterator[bytes]:
    """The member's bytes, inflated here chunk by chunk; raises if it yields more than its directory
    entry declares (or than any roster could hold), whatever the compressed stream says."""
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _ZIP_MAGIC:
        raise RosterFileError(FileProblem.NOT_XLSX)
    fields = _LOCAL_HEADER.unpack(header)
    name_length, extra_length = fields[-2], fields[-1]
    raw.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    left = info.compress_size
    limit = min(info.file_size, max_unpacked)
    produced = 0
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        data = raw.read(min(_CHUNK, left))
        if not data:
            raise RosterFileError(FileProblem.NOT_XLSX)  # truncated
        left -= len(data)
        while data:
            if inflater is None:
                piece, data = data, b""
            else:
                piece = inflater.decompress(data, _CHUNK)  # at most 1 MB out at a time
                data = inflater.unconsumed_tail
            produced += len(piece)
            if produced > limit:
                raise _bomb(max_unpacked)
            if piece:
                yield piece
    if inflater is not None:
        piece = inflater.flush()
        produced += len(piece)
        if produced > limit:
            raise _bomb(max_unpacked)
        if piece:
            yield piece


def _scan_xml(raw: Any, info: zipfile.ZipInfo, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
    """No DTD (so no entity) declarations in any XML part; UTF-8 (or ASCII) only, which is what every
    spreadsheet program writes and what this byte scan can see through."""
    carry = b""
    for chunk in _inflate(raw, info, max_unpacked):
        if not carry:
            _check_encoding(chunk)
        window = carry + chunk
        if any(d in window for d in _DECLARATIONS):
            raise RosterFileError(FileProblem.XML_ENTITIES)
        carry = window[-8:]


def _check_encoding(head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        raise RosterFileError(FileProblem.XML_ENTITIES)  # UTF-16: declarations could hide from the scan


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """A part that is a few KB in any real workbook, read whole (refused if it claims to be large)."""
    if archive.getinfo(name).file_size > SMALL_PART_BYTES:
        raise _bomb()
    return archive.read(name)


def _find_sheet(archive: zipfile.ZipFile) -> tuple[str, str]:
    """(name, part) of the roster sheet: the one named 学籍名册, or the only worksheet."""
    try:
        workbook = ElementTree.fromstring(_small_part(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_small_part(archive, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, ValueError) as exc:
        raise RosterFileError(FileProblem.NOT_XLSX) from exc
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter(f"{_NS_PKG_REL}Relationship")
        if rel.get("Type", "").endswith("/worksheet")
    }
    sheets: list[tuple[str, str]] = []
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"))
        if target:
            part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            sheets.append((sheet.get("name", ""), part))
    chosen = [s for s in sheets if s[0].strip() == SHEET_NAME] or (sheets if len(sheets) == 1 else [])
    if not chosen:
        found = "、".join(f"“{name}”" for name, _part in sheets) or "—"
        raise RosterFileError(FileProblem.WRONG_SHEET, expected=SHEET_NAME, found=found)
    name, part = chosen[0]
    if part not in archive.NameToInfo:
        raise RosterFileError(FileProblem.NOT_XLSX)
    return name, part


def _scan_sheet(
    raw: Any, info: zipfile.ZipInfo, max_rows: int = MAX_ROWS, max_unpacked: int = MAX_UNPACKED_BYTES
) -> int:
    """The roster sheet's XML, in one streaming pass: no declarations, no formulas (naming the first
    cells that hold one), not too many rows. Returns the number of rows."""
    rows = 0
    tail = b""  # the end of the previous chunk, for matches that straddle two chunks
    for chunk in _inflate(raw, info, max_unpacked):
        if not tail:
            _check_encoding(chunk)
        window = tail + chunk
        if any(d in window for d in _DECLARATIONS):
            raise RosterFileError(FileProblem.XML_ENTITIES)
        # "<row" is 4 bytes: counted in the last 3 bytes of the tail plus the chunk, a row is counted once.
        rows += (tail[-3:] + chunk).count(b"<row")
        if rows > max_rows:
            raise RosterFileError(FileProblem.TOO_MANY_ROWS, limit=f"{max_rows:,}")
        if b"<f" in window or b":f" in window:  # cheap test first: most rosters hold no formula
            cells = [_formula_cell(window, m.start()) for m in _FORMULA.finditer(window)]
            if cells:
                raise RosterFileError(FileProblem.FORMULA, cells="、".join(dict.fromkeys(cells[:5])))
        tail = window[-256:]
    return rows


def _formula_cell(window: bytes, at: int) -> str:
    cell = _CELL_REF.search(window[max(0, at - 200) : at])
    return cell.group(1).decode() if cell else "?"


def _find_header(sheet: Any, first_row: int) -> tuple[int, dict[str, int]]:
    """The header row (among the first few non-empty rows, the first naming both 姓名 and 身份证号; a
    title row may sit above it) and where each known column is. Raises MISSING_COLUMNS naming the
    required columns it lacks."""
    best: tuple[int, dict[str, int]] | None = None
    seen = 0
    for i, cells in enumerate(sheet.iter_rows()):
        if not any(c != "" and c is not None for c in cells):
            if i > 100:
                break
            continue
        seen += 1
        if seen > HEADER_SEARCH_ROWS:
            break
        columns: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = HEADER_KEYS.get(normalise_header(cell)) if isinstance(cell, str) and cell else None
            if key and key not in columns:
                columns[key] = index
        if best is None or len(columns) > len(best[1]):
            best = (first_row + i, columns)
        if "name" in columns and "id_number" in columns:
            best = (first_row + i, columns)
            break
    found = best[1] if best else {}
    missing = [c.header for c in REQUIRED if c.key not in found]
    if best is None or missing:
        raise RosterFileError(FileProblem.MISSING_COLUMNS, columns="、".join(missing))
    return best
