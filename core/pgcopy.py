"""PostgreSQL's COPY text format, written here: rows prepared in another process travel as text, and
an import of hundreds of thousands of rows spends less formatting plain strings than through psycopg's
per-value dumpers (`Copy.write_row`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

NULL = "\\N"
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def plain_text(value: Any) -> str:
    """One value that cannot hold a backslash, a tab or a line end (ids, hashes, ciphertexts, choice
    codes, numbers, dates): NULL as \\N, booleans as t/f, dates and datetimes in ISO 8601 (with their
    offset) as PostgreSQL reads them, anything else as str()."""
    if value.__class__ is str:
        return value
    if value is None:
        return NULL
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def copy_text(value: Any) -> str:
    """Any value: as plain_text, with backslashes, tabs and line ends escaped."""
    if value is None:
        return NULL
    text = plain_text(value)
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def copy_line(values: Iterable[Any]) -> str:
    """A row: its values separated by tabs, ended by a line feed."""
    return "\t".join([copy_text(v) for v in values]) + "\n"
