"""One chunk of valid roster rows written: matched to the register, decided, written set-based.

The steps are the package's (students.roster.apply): look up who is registered already, decide each
row (unchanged, rejected, new, changed), then stage and write everything with one audit append.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from core.audit import trail
from core.crypto import blind_index

from ...models import Student
from ..columns import STATUS_WORDS
from ..problems import ANOTHER_SCHOOL, MOVED_NOTE, RowCode
from ..validate import CleanRow, RowReport
from .changes import GUARDIAN_SECRET, GUARDIAN_UPDATE_COLUMNS, STUDENT_SECRET, STUDENT_UPDATE_COLUMNS, prepare_updates
from .context import CREATED, REJECTED, STILL_REGISTERED, UNCHANGED, ApplyContext, Writes, reject
from .new import prepare_new_pupil
from .stage import Stage, any_of
from .tables import GUARDIANS, STATUS_CHANGES, STUDENTS


def apply_chunk(reports: Sequence[RowReport], ctx: ApplyContext) -> None:
    """Write the chunk's valid rows (the caller holds the tenant transaction) and set every report's
    outcome. A row is written completely (pupil, guardians, status change, audit rows) or not at all."""
    now = timezone.now()
    for report in reports:
        if report.clean is None and report.prepared is None:
            report.outcome = REJECTED
    writes = Writes([], [], [], [], [], [], {})
    # Prepared ahead by the reading process (pipeline): pupils whose ID number and registration number
    # the register did not hold when the import began. Nothing to look up: if someone registered
    # either since, the INSERT's ON CONFLICT finds it and the row is reported as changed meanwhile.
    writes.creates += [(r, r.prepared) for r in reports if r.clean is None and r.prepared is not None]
    rows = [r for r in reports if r.clean is not None]
    found = {
        h: (pk, school_id, status, fp)
        for pk, h, school_id, status, fp in Student.objects.filter(
            id_number_hash__in=any_of([r.clean.id_hash for r in rows])  # type: ignore[union-attr]
        ).values_list("pk", "id_number_hash", "school_id", "enrollment_status", "roster_fingerprint")
    } if rows else {}  # fmt: skip
    # Unchanged rows (the fingerprint of the row last imported for the pupil) cost nothing more.
    candidates = []
    for report in rows:
        clean: CleanRow = report.clean  # type: ignore[assignment]
        existing = found.get(clean.id_hash)
        if existing is not None and existing[3] == clean.fingerprint:
            report.outcome = UNCHANGED
        else:
            no_hash = blind_index(clean.student_no, kind="student_no") if clean.student_no else None
            candidates.append((report, clean, existing, no_hash))
    owners = _student_no_owners([no_hash for *_rest, no_hash in candidates if no_hash])
    to_update: dict[uuid.UUID, RowReport] = {}
    for report, clean, existing, no_hash in candidates:
        if existing is not None and existing[1] != clean.school_id and existing[2] in STILL_REGISTERED:
            school = ctx.school_names.get(existing[1]) if ctx.nameable is None or existing[1] in ctx.nameable else None
            reject(report, RowCode.AT_OTHER_SCHOOL, school=school or ANOTHER_SCHOOL)
            continue
        if no_hash and owners.get(no_hash, clean.id_hash) != clean.id_hash:
            reject(report, RowCode.STUDENT_NO_TAKEN)
            continue
        if existing is None:
            writes.creates.append((report, prepare_new_pupil(clean, ctx)))
        else:
            to_update[existing[0]] = report
            if existing[1] != clean.school_id:
                report.note = str(MOVED_NOTE) % {
                    "school": ctx.school_names.get(existing[1], ANOTHER_SCHOOL),
                    "status": STATUS_WORDS.get(existing[2], existing[2]),
                }
    if to_update:
        prepare_updates(to_update, writes, ctx, now)
    _write(writes, ctx, now)


def _student_no_owners(hashes: list[str]) -> dict[str, str]:
    """Registration number's blind index → the ID number's blind index of the pupil holding it."""
    if not hashes:
        return {}
    found = Student.objects.filter(student_no_hash__in=any_of(hashes))
    return dict(found.values_list("student_no_hash", "id_number_hash"))


def _write(w: Writes, ctx: ApplyContext, now: dt.datetime) -> None:
    if not (w.creates or w.student_updates or w.fingerprints):
        return
    with connection.cursor() as cursor:
        stage = Stage(cursor)
        pending = w.pending
        if w.creates:
            inserted = stage.insert(STUDENTS, [new.row for _report, new in w.creates], ctx, now, returning=True)
            for report, new in w.creates:
                if str(new.id) in inserted:
                    report.outcome = CREATED
                    pending[report.row] = [new.pending(ctx)]
                    w.guardian_inserts += new.guardian_rows
                else:  # registered by someone else since the first look
                    reject(report, RowCode.CHANGED_MEANWHILE)
        if w.student_updates:
            stage.update(STUDENTS, STUDENT_UPDATE_COLUMNS, w.student_updates, keep=STUDENT_SECRET)
        if w.fingerprints:
            stage.update(STUDENTS, ["id", "roster_fingerprint"], w.fingerprints, keep={})
        if w.guardian_inserts:
            stage.insert(GUARDIANS, w.guardian_inserts, ctx, now)
        if w.guardian_updates:
            stage.update(GUARDIANS, GUARDIAN_UPDATE_COLUMNS, w.guardian_updates, keep=GUARDIAN_SECRET)
        if w.status_inserts:
            stage.insert(STATUS_CHANGES, w.status_inserts, ctx, now)
        if connection.vendor == "postgresql":
            # The deferred keys checked now, not at commit: the append below locks the tenant's chain
            # until then, and other transactions (the roster's other readers) wait for that lock.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # One append for the chunk, in row order: each pupil (its guardians inside), then its status change.
        started = time.perf_counter()
        trail.append([p for number in sorted(pending) for p in pending[number]])
        ctx.audit_seconds += time.perf_counter() - started
