"""A CSV file's bytes as text, and its rows.

Excel in China saves CSV in GBK (GB18030 is its superset); other programs save UTF-8, often with a
byte-order mark. Both are read; anything else is refused rather than guessed at.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from .problems import FileError, FileProblem

ENCODINGS = ("utf-8", "gb18030")
#: The delimiters a CSV file may use: the one its first line holds most of.
DELIMITERS = ",\t|;"


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (a byte-order mark dropped) or else GB18030. Raises NOT_XLSX for
    bytes that are not text at all (a NUL near the start: binary, or UTF-16) and ENCODING for text in
    neither encoding."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data[:4096]:
        raise FileError(FileProblem.NOT_XLSX)  # binary, or UTF-16
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError(FileProblem.ENCODING)


def rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number from 1, cells) of every row, split on the delimiter the first line holds most of."""
    head = text[:4096].splitlines()[0] if text.strip() else ""
    delimiter = max(DELIMITERS, key=head.count)
    return enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
