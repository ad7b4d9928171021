"""API input fields that name a semester or a program: shared by the funding and disbursements APIs
(an app may not import another app's API module, so the fields live with the rows they read)."""

from __future__ import annotations

import uuid

from core.api import RowField

from . import selectors


class SemesterField(RowField):
    """A semester the caller may see, by its id or its code (2026-AUTUMN), through the one semester
    resolver: another tenant's is "not found"."""

    def resolve(self, *, user, text):
        return selectors.semester_by_code(user=user, code=text)


class ProgramField(RowField):
    """An active program of the caller's district, by its id or its code (LIVING_SUBSIDY)."""

    def resolve(self, *, user, text):
        programs = selectors.program_list(user=user)
        try:
            return programs.filter(pk=uuid.UUID(text)).first()
        except ValueError:
            return programs.filter(code=text).first()
