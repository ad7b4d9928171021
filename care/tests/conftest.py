"""Fixtures of dropout control's tests: recording a class's day as its teacher, on a frozen today."""

from __future__ import annotations

import datetime as dt

import pytest

from care import services
from core import clock
from schools.permissions import Role


@pytest.fixture
def record(tenant_of):
    """`record(w, day, {pupil: reason}, today=…, actor=…)`: the class c1's day, as its teacher."""

    def run(w, day: dt.date, absences: dict, *, today: dt.date | None = None, actor=None, klass=None):
        with tenant_of(w.tenant), clock.frozen_at(today or day):
            return services.attendance_record(
                actor=actor or w.users[Role.CLASS_TEACHER],
                klass=klass or w.classes["c1"],
                day=day,
                absences={p.pk: reason for p, reason in absences.items()},
            )

    return run
