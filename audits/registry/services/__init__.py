"""Importing a department's list as a dated snapshot, and the column mappings that read it.

`registry_import` is the one import (browser job, command line, tests, benchmark). In one transaction:
the snapshot row (audited, with the file's fingerprint and counts), then every valid row, encrypted
and blind-indexed like the register, written set-based (PostgreSQL: COPY into a TEMP table, then one
INSERT … SELECT, because COPY cannot write through forced row-level security; SQLite: executemany),
then the summary of what changed since the source's previous snapshot (three anti-joins). Invalid
rows are reported (row number, code, message) and never written; a file that cannot be read changes
nothing. The same file again finds its snapshot and writes nothing.

The package, by concept: `mappings` (the saved column mappings), `rows` (each row's rules and the
validation loop), `entries` (encrypting and writing the valid rows set-based), `imports` (the import
itself: the snapshot, its counts and changes, the row report).
"""

from __future__ import annotations

from .imports import MSG_NO_VALID_ROWS, PROBLEMS_KEPT, ImportResult, registry_import
from .mappings import MSG_MAPPING_COLUMNS, MSG_MAPPING_SOURCE, default_mapping, mapping_save
from .rows import CHUNK, ROW_MESSAGES, Progress, RowCode, RowProblem

__all__ = [
    "CHUNK", "MSG_MAPPING_COLUMNS", "MSG_MAPPING_SOURCE", "MSG_NO_VALID_ROWS", "PROBLEMS_KEPT", "ROW_MESSAGES",
    "ImportResult", "Progress", "RowCode", "RowProblem", "default_mapping", "mapping_save", "registry_import",
]  # fmt: skip
