"""The home page's content for one user: their roles, what waits for them, their units; for the
platform operator and the tenant administrators, the years of the official calendar due and missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.urls import reverse

from core import worklist
from schools import permissions
from schools.models import Tenant
from schools.official_calendar.selectors import years_due_and_missing
from schools.permissions import Action, Level
from schools.selectors import class_list, school_list
from students.selectors import student_counts


@dataclass
class UnitRow:
    label: str
    url: str
    students: int | None


@dataclass
class HomeContent:
    roles: list[str]
    work: list[worklist.WorkItem]
    units_title: str = ""
    units: list[UnitRow] = field(default_factory=list)
    tenants: list[Any] = field(default_factory=list)
    calendar_missing: list[int] = field(default_factory=list)


def for_user(user: Any, *, today: dt.date, work: list[worklist.WorkItem] | None = None) -> HomeContent:
    """`work`: the user's worklist if the caller has it already (the side menu counts from the same list)."""
    roles = sorted(permissions.roles_of(user))
    content = HomeContent(
        roles=[str(permissions.Role(r).label) for r in roles],
        work=worklist.items_for(user) if work is None else work,
    )
    # Those who can do something about a missing year: the operator loads it, a tenant administrator
    # (who keeps the district's own calendar days) asks for it.
    # Whoever loads the official calendar (the platform operator) or keeps the district's own days.
    if permissions.can(user, Action.CALENDAR_MANAGE) or permissions.can(user, Action.TENANT_SETTINGS):
        content.calendar_missing = years_due_and_missing(today=today)
    if permissions.is_platform_operator(user):
        content.tenants = list(Tenant.objects.visible_to(user).annotate(user_count=Count("users")).order_by("slug"))
        return content
    if not roles:
        return content
    sees_students = permissions.can(user, Action.STUDENT_VIEW)
    widest = max(permissions.ROLE_LEVEL[r] for r in roles)
    if widest >= Level.TENANT:
        counts = student_counts(user=user, by="school") if sees_students else {}
        content.units_title = "schools"
        content.units = [
            UnitRow(
                label=s.name,
                url=reverse("schools:detail", args=[s.pk]),
                students=counts.get(s.pk) if sees_students else None,
            )
            for s in school_list(user=user)
        ]
    else:
        counts = student_counts(user=user, by="klass") if sees_students else {}
        content.units_title = "classes"
        content.units = [
            UnitRow(
                label=f"{k.school.name} · {k}",
                url=reverse("students:list") + f"?klass={k.pk}",
                students=counts.get(k.pk, 0) if sees_students else None,
            )
            for k in class_list(user=user)
        ]
    return content
