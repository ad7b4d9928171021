"""What writing a chunk of roster rows needs and collects: the importer's context, the rows'
outcomes, and everything one chunk writes before anything is written."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.audit import trail

from ...models import EnrollmentStatus
from ..problems import RowCode, row_error
from ..validate import RowReport

if TYPE_CHECKING:
    from .new import NewPupil

CREATED, UPDATED, UNCHANGED, REJECTED = "CREATED", "UPDATED", "UNCHANGED", "REJECTED"

#: Statuses under which a pupil is still registered at their school: another school's row for them is a
#: conflict. A pupil who left (转出, 毕业, 辍学) may be registered by their new school.
STILL_REGISTERED = frozenset({EnrollmentStatus.ATTENDING, EnrollmentStatus.SUSPENDED})

STATUS_SOURCE = "roster_import"


@dataclass
class ApplyContext:
    """What writing a chunk needs beyond the rows: who is importing, from which file, and when."""

    tenant_id: uuid.UUID
    reason: str
    school_names: dict[uuid.UUID, str]
    #: schools whose names an importer may be told (a school officer learns only that the pupil is
    #: registered elsewhere); None: all
    nameable: frozenset[uuid.UUID] | None
    today: dt.date
    #: time spent appending audit rows (the benchmark reports it)
    audit_seconds: float = 0.0


@dataclass
class Writes:
    """Everything one chunk writes, collected before anything is written."""

    creates: list[tuple[RowReport, NewPupil]]
    student_updates: list[list[Any]]
    fingerprints: list[list[Any]]
    guardian_inserts: list[list[Any]]
    guardian_updates: list[list[Any]]
    status_inserts: list[list[Any]]
    #: audit rows of the updated rows, by row number (the created rows' travel with them in `creates`)
    pending: dict[int, list[trail.Pending]]


def reject(report: RowReport, code: RowCode, **params: Any) -> None:
    report.errors.append(row_error(code, **params))
    report.outcome = REJECTED
