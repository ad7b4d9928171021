"""Reads of the reconciliation pages: runs, a run's findings (filtered), and what a finding's evidence
says, in a line a district officer can read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.crypto import mask
from funding.models import Semester, Term
from schools.access import get_visible
from students.models import EnrollmentStatus, HardshipCategory, Tier

from ..models import Finding, ReconciliationRun
from ..registry.fields import SOURCE_DEPARTMENT


def run_list(*, user: Any, limit: int = 50) -> QuerySet[ReconciliationRun]:
    """The latest runs the user may see, newest first."""
    return run_rows(user=user)[:limit]


def run_rows(*, user: Any) -> QuerySet[ReconciliationRun]:
    """The runs the user may see, newest first (the list page filters and pages these)."""
    return (
        ReconciliationRun.objects.visible_to(user)
        .select_related("semester", "started_by")
        .order_by("-created_at", "-pk")
    )


def run_get_for_user(*, user: Any, pk: Any) -> ReconciliationRun:
    return get_visible(ReconciliationRun, user=user, pk=pk)


def finding_list(*, user: Any, run: ReconciliationRun) -> QuerySet[Finding]:
    """The run's findings the user may see, by list, reason, school, class and student (the run's
    page filters them through `audits.filters.FindingListFilter`)."""
    findings = Finding.objects.visible_to(user).filter(run=run)
    return findings.select_related("student", "school", "klass__grade", "program").order_by(
        "kind", "reason", "school__name", "grade__entry_year", "klass__number", "student__name", "pk"
    )


def finding_schools(*, user: Any, run: ReconciliationRun) -> list[tuple[str, str]]:
    """(school id, name) of the schools the run's findings name, for the filter."""
    rows = (
        Finding.objects.visible_to(user)
        .filter(run=run)
        .values_list("school_id", "school__name")
        .distinct()
        .order_by("school__name", "school_id")
    )
    return [(str(pk), name) for pk, name in rows]


def category_names(*, user: Any) -> dict[str, str]:
    return dict(HardshipCategory.objects.visible_to(user).values_list("code", "name"))


def masked_name(finding: Finding) -> str:
    """The student's name as lists show it to everyone (张*): the lists travel as files."""
    return mask(finding.student.name, "name")


def evidence_summary(finding: Finding, categories: dict[str, str]) -> str:
    """One line of what the run saw: the registry rows, the tier, the enrollment, the payments."""
    e = finding.evidence or {}
    named = {"child": _("the child"), "parent": _("a parent"), "household": _("household head")}
    parts = [
        _("%(department)s list row %(row)s: %(category)s (%(named)s)")
        % {
            "department": SOURCE_DEPARTMENT.get(r.get("source"), r.get("source", "")),
            "row": r.get("row", ""),
            "category": categories.get(r.get("category", ""), r.get("category", "")),
            "named": named.get(r.get("named", ""), r.get("named", "")),
        }
        for r in e.get("registry") or []
    ]
    if e.get("demanded"):
        parts.append(
            _("tier %(tier)s, the category demands %(demanded)s")
            % {"tier": _label(Tier, e.get("tier", "")), "demanded": _label(Tier, e["demanded"])}
        )
    elif e.get("suggested_tier"):
        parts.append(_("suggested tier %(tier)s") % {"tier": _label(Tier, e["suggested_tier"])})
    if e.get("enrollment"):
        parts.append(_("enrollment: %(enrollment)s") % {"enrollment": _label(EnrollmentStatus, e["enrollment"])})
    if e.get("dropout_case"):
        parts.append(_("dropout confirmed on %(date)s") % {"date": e["dropout_case"].get("confirmed_on", "")})
    if e.get("claimed"):
        claimed = "、".join(categories.get(c, c) for c in e["claimed"])
        parts.append(_("claimed: %(claimed)s") % {"claimed": claimed})
    elsewhere = e.get("elsewhere")
    if elsewhere:
        parts.append(elsewhere_sentence(elsewhere))
    lines = e.get("lines") or []
    if lines:
        paid = sum(1 for line in lines if line.get("status") == "PAID")
        parts.append(_("%(paid)s of %(lines)s payment lines paid") % {"paid": paid, "lines": len(lines)})
    return "；".join(str(p) for p in parts)


def elsewhere_sentence(e: dict[str, Any]) -> str:
    """What the platform's matching told the district, in its words: the other district, the program
    and the semester (the only things it is told)."""
    wording = {
        "FUNDED_TWICE": _("also funded in %(district)s: %(program)s, %(semester)s"),
        "FUNDED_THERE": _("attends school here; funded in %(district)s: %(program)s, %(semester)s"),
        "ENROLLED_THERE": _("funded here; attends school in %(district)s (%(program)s, %(semester)s)"),
    }
    text = wording.get(e.get("case", ""), wording["FUNDED_TWICE"])
    return str(text) % {
        "district": e.get("district", ""),
        "program": e.get("program_name") or e.get("program", ""),
        "semester": semester_label(e.get("semester", "")),
    }


def semester_label(code: str) -> str:
    """ "2026-AUTUMN" as the pages name a semester (2026年秋季学期): the code is all the other district's
    semester is known by."""
    year, _sep, term = code.partition("-")
    if not year.isdigit() or term not in Term.values:
        return code
    return str(Semester(academic_year=int(year), term=term))


def _label(choices: Any, code: str) -> str:
    """The display name of a stored code (特别困难 for SPECIAL); other text as it is."""
    return str(choices(code).label) if code in choices.values else code
