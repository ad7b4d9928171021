"""`registry_import`: one department's file as a dated snapshot, in one transaction (the snapshot row,
its valid rows, its counts and what changed since the source's previous snapshot), and the row report."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.rawsql import db_uuid, tenant_param
from core.xlsx import ColumnFormat, XlsxWriter
from schools import permissions
from schools.permissions import Action

from ...models import ColumnMapping, RegistryEntry, RegistrySnapshot, RegistrySource
from ..fields import FIELDS, normalise_header
from ..reader import open_registry
from .mappings import MSG_MAPPING_SOURCE, category_lookup, default_mapping
from .rows import Progress, RowProblem, load

#: Rejected rows kept on the snapshot itself (the report file has them all).
PROBLEMS_KEPT = 200

MSG_NO_VALID_ROWS = _("No row of the file could be used; nothing was imported. See the row report.")


@dataclass
class ImportResult:
    snapshot: RegistrySnapshot
    created: bool
    rejected: list[RowProblem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        s = self.snapshot
        return {"rows": s.rows_total, "kept": s.rows_valid, "rejected": s.rows_rejected}


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
            rejected = load(snapshot, opened, at, category_lookup(mapping), mapping.default_category, progress)
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
        cursor.execute(sql, [new, old, tenant_param(), new, old])
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
