"""Reading a bank's return file (CSV in UTF-8 or GB18030, or xlsx, through the kernel's safe intake):
its header row found and its rows read, nothing matched yet."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from core import files
from core.intake import text as csv_text
from core.intake import workbook
from core.intake.problems import FileError, FileProblem

from .messages import (
    MSG_FORMULA,
    MSG_MISSING_COLUMNS,
    MSG_NO_ROWS,
    MSG_NOT_A_FILE,
    MSG_OLD_XLS,
    MSG_TOO_LARGE,
    MSG_TOO_MANY_ROWS,
    MSG_UNREADABLE,
    MSG_UNSAFE,
    ReturnFileError,
)

#: Rows of a return file (a batch of a whole district is well below this).
MAX_ROWS = workbook.MAX_ROWS
#: Rows at the top that may hold a title before the header row.
HEADER_SEARCH_ROWS = 10

# The header words banks use, normalised (no spaces, no asterisks or brackets).
_HEADERS = {
    "ref": ("业务编号", "业务参考号", "参考号"),
    "seq": ("序号", "流水号", "顺序号", "明细序号"),
    "account": ("账号", "卡号", "银行账号", "收款账号", "收款人账号", "账户"),
    "amount": ("金额", "发放金额", "交易金额", "实发金额", "代发金额"),
    "status": ("状态", "处理状态", "交易状态", "处理结果", "结果"),
    "code": ("错误代码", "错误码", "返回码", "响应码", "失败代码"),
    "message": ("失败原因", "错误信息", "错误原因", "原因", "返回信息", "备注"),
}
_HEADER_KEYS = {word: key for key, words in _HEADERS.items() for word in words}
_HEADER_NOISE = re.compile(r"[\s*＊:：()（）]")

_TOTAL_WORDS = ("合计", "总计")


@dataclass
class ReturnRow:
    row: int  # as the bank's program numbers it (Excel row, CSV line)
    reference: str
    account: str
    amount: str
    status: str
    code: str
    message: str


@dataclass
class ReturnFile:
    rows: list[ReturnRow]
    fingerprint: str
    has_ref: bool  # the reference column is the 业务编号 (UUIDs), not a line number
    total_row: int | None = None
    total: str = ""


def _text(cell: Any) -> str:
    """A cell as text: integral floats without their .0 (calamine reads numbers as floats)."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell).strip()


def _header_columns(cells: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _HEADER_KEYS.get(_HEADER_NOISE.sub("", _text(cell)))
        if key and key not in columns:
            columns[key] = index
    return columns


def _required_missing(columns: dict[str, int]) -> list[str]:
    missing = []
    if "ref" not in columns and "seq" not in columns:
        missing.append("业务编号/序号")
    if "account" not in columns:
        missing.append("账号")
    if "amount" not in columns:
        missing.append("金额")
    if "status" not in columns and "code" not in columns:
        missing.append("状态")
    return missing


def _parse_rows(rows: Iterator[tuple[int, list[Any]]], fingerprint: str) -> ReturnFile:
    """Find the header among the first rows, then read every row below it."""
    columns: dict[str, int] | None = None
    best: dict[str, int] = {}
    seen = 0
    parsed = ReturnFile(rows=[], fingerprint=fingerprint, has_ref=False)
    for number, cells in rows:
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        if columns is None:
            seen += 1
            found = _header_columns(texts)
            best = found if len(found) > len(best) else best
            if not _required_missing(found):
                columns, parsed.has_ref = found, "ref" in found
                keys = ("ref" if parsed.has_ref else "seq", "account", "amount", "status", "code", "message")
                at = [columns.get(key) for key in keys]
            elif seen >= HEADER_SEARCH_ROWS:
                break
            continue
        values = [texts[i] if i is not None and i < len(texts) else "" for i in at]
        if next(t for t in texts if t).startswith(_TOTAL_WORDS):  # the bank's own total, under the lines
            parsed.total_row, parsed.total = number, values[2]
            continue
        parsed.rows.append(ReturnRow(number, *values))
        if len(parsed.rows) > MAX_ROWS:
            raise ReturnFileError(MSG_TOO_MANY_ROWS % {"limit": f"{MAX_ROWS:,}"})
    if columns is None:
        raise ReturnFileError(MSG_MISSING_COLUMNS % {"columns": "、".join(_required_missing(best))})
    if not parsed.rows:
        raise ReturnFileError(MSG_NO_ROWS)
    return parsed


def _materialise(path_or_file: str | Path | IO[bytes]) -> tuple[Path, str, tempfile.TemporaryDirectory | None]:
    """The file on disk (an upload is copied, within the size limit) and the SHA-256 of its bytes."""
    limit = settings.MAX_UPLOAD_BYTES
    workdir = None if isinstance(path_or_file, str | Path) else tempfile.TemporaryDirectory(prefix="bank-return-")
    try:
        path, digest = files.on_disk(
            path_or_file, workdir=Path(workdir.name) if workdir else None, name="return", limit=limit
        )
    except files.TooLarge:
        if workdir is not None:
            workdir.cleanup()
        raise ReturnFileError(MSG_TOO_LARGE % {"limit": limit // (1024 * 1024)}) from None
    return path, digest, workdir


_FILE_PROBLEMS = {
    FileProblem.TOO_LARGE: MSG_TOO_LARGE,
    FileProblem.NOT_XLSX: MSG_NOT_A_FILE,
    FileProblem.OLD_XLS: MSG_OLD_XLS,
    FileProblem.ZIP_BOMB: MSG_UNSAFE,
    FileProblem.XML_ENTITIES: MSG_UNSAFE,
    FileProblem.FORMULA: MSG_FORMULA,
    FileProblem.TOO_MANY_ROWS: MSG_TOO_MANY_ROWS,
    FileProblem.UNREADABLE: MSG_UNREADABLE,
    FileProblem.ENCODING: MSG_NOT_A_FILE,
}


def _read_workbook(path: Path, fingerprint: str) -> ReturnFile:
    """The return is on the first sheet that has a header row (banks add cover or summary sheets)."""
    first_error: ReturnFileError | None = None
    for sheet in workbook.sheets(path):
        try:
            return _parse_rows(sheet.rows(), fingerprint)
        except ReturnFileError as exc:
            first_error = first_error or exc
    raise first_error or ReturnFileError(MSG_NO_ROWS)


def read_return(path_or_file: str | Path | IO[bytes]) -> ReturnFile:
    """Read and check the bank's return file (core.intake's checks, on every sheet): a ReturnFileError
    says why it cannot be used."""
    path, fingerprint, workdir = _materialise(path_or_file)
    try:
        try:
            if workbook.is_xlsx(path):
                workbook.inspect_every_sheet(path)
                return _read_workbook(path, fingerprint)
            text = csv_text.decode(path.read_bytes())
        except FileError as exc:
            raise ReturnFileError(exc.message_in(_FILE_PROBLEMS)) from exc
        return _parse_rows(csv_text.rows(text), fingerprint)
    finally:
        if workdir is not None:
            workdir.cleanup()
