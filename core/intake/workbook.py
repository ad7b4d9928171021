"""Opening an uploaded workbook (.xlsx) safely, then reading its sheets.

A workbook is a zip of XML parts, and both can be made into weapons: a small zip that unpacks to
gigabytes, XML whose entities expand exponentially ("billion laughs"). So before any parser sees the
file, the checks run, in this order and with constant memory:

1. the size on disk, and the magic number (a zip, not an old .xls/OLE file);
2. the zip's directory: the parts of a workbook present, no encryption, no exotic compression, a declared
   unpacked total and compression ratio a spreadsheet of this kind can have;
3. every XML part, inflated here chunk by chunk with the real bytes counted (a zip can lie about sizes):
   no DOCTYPE or ENTITY declaration anywhere (Excel never writes one), UTF-8 only;
4. the sheets' XML: no formulas, and not more rows than the intake allows.

`inspect` checks one sheet, found by its name (the roster); `inspect_every_sheet` checks them all (a
department's list, a bank's return). Only then are rows used: `open_sheet` and `sheets` let
python-calamine (Rust, fast) parse a sheet and number its rows as Excel does. Every refusal is a
FileError (core.intake.problems).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook

from .problems import FileError, FileProblem

#: Refuse a workbook whose parts unpack to more than this (a 200,000-row roster is about 260 MB).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
#: Refuse a part packed tighter than this (spreadsheet XML packs about 10:1; zeros pack 1000:1)...
MAX_RATIO = 200
#: ...once it is big enough to matter.
RATIO_FLOOR_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 2000
#: workbook.xml and its relationships: a few KB in any real workbook.
SMALL_PART_BYTES = 5 * 1024 * 1024
#: Rows of a sheet (calamine holds a sheet in memory: about 1.5 KB a row of a roster).
MAX_ROWS = 200_000

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
class Sheet:
    """One worksheet as calamine parsed it (held in memory), its rows numbered as Excel numbers them."""

    name: str
    first_row: int  # the Excel row of the first row calamine yields
    last_row: int  # the Excel row of the last one (0: the sheet is empty)
    cells: Any = field(repr=False)  # calamine's sheet: iter_rows() yields each row's cells

    @property
    def empty(self) -> bool:
        return self.last_row == 0

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, cells) of every row from the first non-empty one, blank rows included."""
        return enumerate(self.cells.iter_rows(), start=self.first_row)


def is_xlsx(path: str | Path) -> bool:
    """Whether the file is a zip (so to be checked and read as a workbook) rather than, say, CSV text.
    Raises OLD_XLS for an Excel 97-2003 file or an encrypted workbook (both OLE files)."""
    with Path(path).open("rb") as f:
        magic = f.read(4)
    if magic == _OLE_MAGIC:
        raise FileError(FileProblem.OLD_XLS)
    return magic == _ZIP_MAGIC


def inspect(
    path: str | Path,
    *,
    sheet: str,
    max_bytes: int,
    max_rows: int = MAX_ROWS,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    scan: bool = True,
) -> Inspection:
    """Check the file as described in the module docstring, for the sheet named `sheet` (or the only
    one); raise FileError on the first problem. Without `scan`, only the checks that take no time (steps
    1 and 2, and which sheet is read), without reading the parts (`rows` is then 0): enough for a
    process under a memory limit to start parsing the sheet while another runs every check."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise FileError(FileProblem.TOO_LARGE, limit=max_bytes // (1024 * 1024))
    with path.open("rb") as raw:
        archive = _open_zip(raw)
        with archive:
            members = _check_directory(archive, max_unpacked)
            sheet_name, part = find_sheet(archive, sheet)  # defusedxml: refuses DTDs and entities itself
            if not scan:
                return Inspection(sheet_name=sheet_name, sheet_part=part, rows=0, unpacked_bytes=_unpacked(members))
            for info in members:
                if info.filename != part and info.filename.endswith((".xml", ".rels", ".vml")):
                    _scan_xml(raw, info, max_unpacked)
            rows = _scan_sheet(raw, archive.getinfo(part), max_rows, max_unpacked)
    return Inspection(sheet_name=sheet_name, sheet_part=part, rows=rows, unpacked_bytes=_unpacked(members))


def inspect_every_sheet(path: str | Path, *, max_rows: int = MAX_ROWS, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
    """Steps 2 to 4 on every part of a workbook whose sheets may all be read (the size was checked as
    it was received): the zip's directory, then every XML part inflated here (no DTD or entity; no
    formula and not too many rows in any sheet). Raises FileError on the first problem."""
    with Path(path).open("rb") as raw:
        archive = _open_zip(raw)
        with archive:
            for info in _check_directory(archive, max_unpacked):
                name = info.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _scan_sheet(raw, info, max_rows, max_unpacked)
                elif name.endswith((".xml", ".rels", ".vml")):
                    _scan_xml(raw, info, max_unpacked)


def open_sheet(path: str | Path, *, name: str | None = None) -> Sheet:
    """The sheet named `name` (or the first), parsed by calamine: run the checks first."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return _sheet(workbook.get_sheet_by_name(name) if name is not None else workbook.get_sheet_by_index(0))
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        raise FileError(FileProblem.UNREADABLE, detail=type(exc).__name__) from exc


def sheets(path: str | Path) -> Iterator[Sheet]:
    """Every sheet of the workbook in order, each parsed when it is reached: run the checks first."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            yield _sheet(workbook.get_sheet_by_name(name))
    except (CalamineError, OSError, ValueError) as exc:
        raise FileError(FileProblem.UNREADABLE, detail=type(exc).__name__) from exc


def _sheet(sheet: Any) -> Sheet:
    start, end = sheet.start, sheet.end
    first = next(iter(sheet.iter_rows()), None)
    if first is None or start is None or end is None:
        return Sheet(name=sheet.name, first_row=1, last_row=0, cells=sheet)
    # Depending on its version calamine yields rows from the sheet's first row (padding with empty
    # ones) or from its first non-empty row. The first non-empty row is never empty, so one look tells.
    padded = start[0] > 0 and all(c == "" or c is None for c in first)
    return Sheet(name=sheet.name, first_row=1 if padded else start[0] + 1, last_row=end[0] + 1, cells=sheet)


# --- The checks ----------------------------------------------------------------------------------------


def _open_zip(raw: IO[bytes]) -> zipfile.ZipFile:
    magic = raw.read(4)
    if magic == _OLE_MAGIC:
        raise FileError(FileProblem.OLD_XLS)
    if magic != _ZIP_MAGIC:
        raise FileError(FileProblem.NOT_XLSX)
    try:
        return zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(FileProblem.NOT_XLSX) from exc


def _unpacked(members: list[zipfile.ZipInfo]) -> int:
    return sum(info.file_size for info in members)


def _bomb(limit: int) -> FileError:
    return FileError(FileProblem.ZIP_BOMB, limit=limit // (1024 * 1024))


def _check_directory(archive: zipfile.ZipFile, max_unpacked: int) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    names = {info.filename for info in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileError(FileProblem.NOT_XLSX)  # a zip, a .docx, an .ods: not a workbook
    if len(members) > MAX_MEMBERS or _unpacked(members) > max_unpacked:
        raise _bomb(max_unpacked)
    for info in members:
        if info.flag_bits & 0x1:
            raise FileError(FileProblem.OLD_XLS)  # encrypted member
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileError(FileProblem.NOT_XLSX)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _bomb(max_unpacked)
    return members


def _inflate(raw: IO[bytes], info: zipfile.ZipInfo, max_unpacked: int) -> Iterator[bytes]:
    """The member's bytes, inflated here chunk by chunk; raises if it yields more than its directory
    entry declares (or than the intake allows), whatever the compressed stream says."""
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _ZIP_MAGIC:
        raise FileError(FileProblem.NOT_XLSX)
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
            raise FileError(FileProblem.NOT_XLSX)  # truncated
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


def _scan_xml(raw: IO[bytes], info: zipfile.ZipInfo, max_unpacked: int) -> None:
    """No DTD (so no entity) declarations in any XML part; UTF-8 (or ASCII) only, which is what every
    spreadsheet program writes and what this byte scan can see through."""
    carry = b""
    for chunk in _inflate(raw, info, max_unpacked):
        if not carry:
            _check_encoding(chunk)
        window = carry + chunk
        if any(d in window for d in _DECLARATIONS):
            raise FileError(FileProblem.XML_ENTITIES)
        carry = window[-8:]


def _check_encoding(head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        raise FileError(FileProblem.XML_ENTITIES)  # UTF-16: declarations could hide from the scan


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """A part that is a few KB in any real workbook, read whole (refused if it claims to be large)."""
    if archive.getinfo(name).file_size > SMALL_PART_BYTES:
        raise _bomb(MAX_UNPACKED_BYTES)
    return archive.read(name)


def find_sheet(archive: zipfile.ZipFile, name: str) -> tuple[str, str]:
    """(name, part) of the sheet named `name` (spaces around it aside), or of the only worksheet.
    Raises WRONG_SHEET naming the expected sheet and those found."""
    try:
        workbook = ElementTree.fromstring(_small_part(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_small_part(archive, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, ValueError) as exc:
        raise FileError(FileProblem.NOT_XLSX) from exc
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter(f"{_NS_PKG_REL}Relationship")
        if rel.get("Type", "").endswith("/worksheet")
    }
    found: list[tuple[str, str]] = []
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"))
        if target:
            part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            found.append((sheet.get("name", ""), part))
    chosen = [s for s in found if s[0].strip() == name] or (found if len(found) == 1 else [])
    if not chosen:
        names = "、".join(f"“{sheet_name}”" for sheet_name, _part in found) or "—"
        raise FileError(FileProblem.WRONG_SHEET, expected=name, found=names)
    sheet_name, part = chosen[0]
    if part not in archive.NameToInfo:
        raise FileError(FileProblem.NOT_XLSX)
    return sheet_name, part


def _scan_sheet(raw: IO[bytes], info: zipfile.ZipInfo, max_rows: int, max_unpacked: int) -> int:
    """A sheet's XML, in one streaming pass: no declarations, no formulas (naming the first cells that
    hold one), not too many rows. Returns the number of rows."""
    rows = 0
    tail = b""  # the end of the previous chunk, for matches that straddle two chunks
    for chunk in _inflate(raw, info, max_unpacked):
        if not tail:
            _check_encoding(chunk)
        window = tail + chunk
        if any(d in window for d in _DECLARATIONS):
            raise FileError(FileProblem.XML_ENTITIES)
        # "<row" is 4 bytes: counted in the last 3 bytes of the tail plus the chunk, a row is counted once.
        rows += (tail[-3:] + chunk).count(b"<row")
        if rows > max_rows:
            raise FileError(FileProblem.TOO_MANY_ROWS, limit=f"{max_rows:,}")
        if b"<f" in window or b":f" in window:  # cheap test first: most sheets hold no formula
            cells = [_formula_cell(window, m.start()) for m in _FORMULA.finditer(window)]
            if cells:
                raise FileError(FileProblem.FORMULA, cells="、".join(dict.fromkeys(cells[:5])))
        tail = window[-256:]
    return rows


def _formula_cell(window: bytes, at: int) -> str:
    cell = _CELL_REF.search(window[max(0, at - 200) : at])
    return cell.group(1).decode() if cell else "?"
