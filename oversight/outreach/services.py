"""宣传: a school records its policy outreach (audited; evidence encrypted at rest by the default storage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core import clock
from core.audit import trail
from funding.models import Semester
from schools import permissions
from schools.models import School, SchoolClass
from schools.permissions import Action

from .models import OutreachKind, OutreachRecord

MSG_FUTURE = _("Outreach is recorded once it has happened: the date cannot be in the future.")
MSG_CLASS = _("That class is not one of this school's.")
MSG_TOO_BIG = _("The evidence file is too large.")


def outreach_record(
    *,
    actor: Any,
    school: School,
    semester: Semester,
    kind: str,
    held_on: dt.date,
    audience: int,
    note: str = "",
    klass: SchoolClass | None = None,
    upload: Any = None,
) -> OutreachRecord:
    """Record one piece of outreach of the school in the semester (a class's, if named)."""
    permissions.require(actor, Action.OUTREACH_RECORD, school)
    if held_on > clock.today():
        raise ValidationError(MSG_FUTURE)
    if klass is not None and klass.school_id != school.pk:
        raise ValidationError(MSG_CLASS)
    if audience < 0:
        raise ValidationError(_("The number of people reached cannot be negative."))
    if upload is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(MSG_TOO_BIG)
    with transaction.atomic(), trail.labelled("outreach.record", str(OutreachKind(kind).label)):
        record = OutreachRecord(
            school=school, semester=semester, klass=klass, kind=OutreachKind(kind), held_on=held_on,
            audience=audience, note=note.strip()[:200], recorded_by=actor,
        )  # fmt: skip
        if upload is not None:
            record.evidence_name = getattr(upload, "name", "upload")[:200]
            record.evidence_type = (getattr(upload, "content_type", "") or "application/octet-stream")[:100]
            record.evidence.save("evidence", upload, save=False)
        record.save()
    return record
