"""市/省: what a region's oversight account reads, from the region's aggregate table only.

Every read here is of platform tables (regions, districts, `DistrictFigure`), in the region account's
request, which names no tenant: row-level security would show it no row of a tenant table even if a
line here asked for one. The figures come out as the dashboard's `Chart`s (a chart, its table, its
xlsx), per district and program for a chosen semester, with the previous semester beside the counts.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from funding.models import ZERO, Semester, Term
from schools import permissions
from schools.models import Region, Tenant

from ..selectors import Chart, Dashboard, _money
from .models import DistrictFigure

MEASURES = ("approved", "paid", "failed", "recovered")
COUNTS = ("pupils", "awards", "paid_lines", "failed_lines", "recoveries_done")


def region_of(*, user: Any) -> Region:
    """The region of a region account; PermissionDenied for anyone else."""
    if not permissions.can(user, permissions.Action.REGION_VIEW):
        raise PermissionDenied
    return Region.objects.get(pk=user.region_id)


def region_districts(*, user: Any) -> list[Tenant]:
    """The districts of the user's region: its own, and for a province those of its cities too."""
    region = region_of(user=user)
    return list(
        Tenant.objects.filter(Q(region_id=region.pk) | Q(region__parent_id=region.pk)).order_by("region_code", "slug")
    )


def semester_label(code: str) -> str:
    """ "2026-AUTUMN" as the districts' pages name it ("2026年秋季学期"); the code itself if it is not one."""
    year, _sep, term = code.partition("-")
    if not year.isdigit() or term not in Term.values:
        return code
    return str(Semester(academic_year=int(year), term=term, tenant_id=None))


def previous_code(code: str) -> str:
    """The semester before: autumn → the spring of the academic year before, spring → that autumn."""
    year, _sep, term = code.partition("-")
    if not year.isdigit():
        return ""
    return f"{int(year) - 1}-{Term.SPRING}" if term == Term.AUTUMN else f"{year}-{Term.AUTUMN}"


def _order(code: str) -> tuple[int, int]:
    year, _sep, term = code.partition("-")
    return (int(year) if year.isdigit() else 0, 1 if term == Term.SPRING else 0)


def region_semesters(*, user: Any) -> list[str]:
    """The semester codes the region's districts have figures of, newest first."""
    codes = (
        DistrictFigure.objects.filter(district__in=region_districts(user=user))
        .order_by()
        .values_list("semester_code", flat=True)
        .distinct()
    )
    return sorted(set(codes), key=_order, reverse=True)


def region_refreshed_at(*, user: Any) -> Any:
    """When the region's figures were last rebuilt (the latest of its districts'), or None."""
    latest = DistrictFigure.objects.filter(district__in=region_districts(user=user)).order_by("-refreshed_at").first()
    return latest.refreshed_at if latest else None


def region_board(*, user: Any, semester_code: str) -> Dashboard:
    """The region's figures of `semester_code` per district and program, with the previous semester's
    pupils beside them: two small reads of the aggregate table, never a tenant row."""
    districts = region_districts(user=user)
    names = {d.pk: d.name for d in districts}
    previous = previous_code(semester_code)
    rows = list(
        DistrictFigure.objects.filter(district__in=districts, semester_code__in=[semester_code, previous])
        .order_by("program_sort_order", "program_code", "pk")
        .values("district_id", "semester_code", "program_code", "program_name", *COUNTS, *MEASURES)
    )
    current = [r for r in rows if r["semester_code"] == semester_code]
    before = {(r["district_id"], r["program_code"]): r for r in rows if r["semester_code"] == previous}
    district_order = {pk: n for n, pk in enumerate(names)}
    program_order: dict[str, tuple[int, str]] = {}
    for n, r in enumerate(rows):
        program_order.setdefault(r["program_code"], (n, r["program_name"]))
    current.sort(key=lambda r: (district_order[r["district_id"]], program_order[r["program_code"]][0]))

    cur_label, prev_label = semester_label(semester_code), semester_label(previous) if previous else "—"
    board = Dashboard(semester=cur_label, previous=prev_label)
    money_headers = [_("Approved"), _("Paid"), _("Failed"), _("Recovered")]

    by_district: dict[Any, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(MEASURES, ZERO))
    by_program: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(MEASURES, ZERO))
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for r in current:
        for m in MEASURES:
            by_district[r["district_id"]][m] += r[m]
            by_program[r["program_code"]][m] += r[m]
        for c in COUNTS:
            counts[r["district_id"]][c] += r[c]
    board.charts.append(
        Chart(
            key="region_districts",
            title=_("Money by district (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("District"), *money_headers],
            rows=[[names[pk], *(_money(by_district[pk][m]) for m in MEASURES)] for pk in names if pk in by_district],
            money=True,
        )
    )
    board.charts.append(
        Chart(
            key="region_programs",
            title=_("Money by program, all districts (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("Program"), *money_headers],
            rows=[
                [program_order[code][1], *(_money(v[m]) for m in MEASURES)]
                for code, v in sorted(by_program.items(), key=lambda item: program_order[item[0]][0])
            ],
            money=True,
        )
    )
    board.charts.append(
        Chart(
            key="region_district_programs",
            title=_("Money by district and program (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("District · program"), *money_headers],
            rows=[
                [f"{names[r['district_id']]} · {r['program_name']}", *(_money(r[m]) for m in MEASURES)] for r in current
            ],
            money=True,
        )
    )
    board.charts.append(
        Chart(
            key="region_counts",
            title=_("Pupils, awards, payments and recoveries by district (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("District"), _("Pupils funded"), _("Awards"), _("Lines paid"), _("Lines failed"),
                     _("Recoveries done")],
            rows=[[names[pk], *(counts[pk][c] for c in COUNTS)] for pk in names if pk in counts],
        )
    )  # fmt: skip
    # Pupils funded per district and program, this semester and the previous one (a group that has
    # figures only the semester before shows too, with 0 now).
    keys = [(r["district_id"], r["program_code"]) for r in current]
    keys += sorted(
        (k for k in before if k not in set(keys)), key=lambda k: (district_order[k[0]], program_order[k[1]][0])
    )
    now = {(r["district_id"], r["program_code"]): r for r in current}
    board.charts.append(
        Chart(
            key="region_pupils",
            title=_("Pupils funded by district and program"),
            kind="bar",
            headers=[_("District · program"), cur_label, prev_label],
            rows=[
                [
                    f"{names[d]} · {program_order[p][1]}",
                    now[(d, p)]["pupils"] if (d, p) in now else 0,
                    before[(d, p)]["pupils"] if (d, p) in before else 0,
                ]
                for d, p in keys
            ],
        )
    )
    return board
