"""控辍保学统计表: the monthly and half-year summary per school, township and stage (小学 / 初中), in the
layout of the offices' statistics table: enrolment changes, dropouts, and where they went (returned,
placed by placement, closed, still out).

Set-based: three grouped statements (cases, enrolment changes, pupils attending: the last kept half a
minute per user) over the schools the person sees, whatever their number; townships, stages and the
total are sums of the school rows, so they always agree with them. Cases count in their state at the
period's end (`selectors.status_at`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter
from schools.models import Grade, Stage
from schools.permissions import Action
from students.models import EnrollmentStatus, StatusChange, Student
from students.selectors import STUDENT_COUNTS_TTL

from ..models import CaseStatus, CaseStep, DropoutCase, Placement, StepKind
from .selectors import COMPULSORY, DROPOUT_STATES, status_at

C = CaseStatus
E = EnrollmentStatus

#: The columns of the table, in order: (key, group, label). Groups are the table's upper header row.
COLUMNS: list[tuple[str, Any, Any]] = [
    ("attending", gettext_lazy("Enrolment"), gettext_lazy("Attending (today)")),  # 在校生数
    ("transferred_out", gettext_lazy("Enrolment"), gettext_lazy("Transferred out")),  # 转出
    ("suspended", gettext_lazy("Enrolment"), gettext_lazy("Suspended")),  # 休学
    ("dropped_out", gettext_lazy("Enrolment"), gettext_lazy("Dropped out (register)")),  # 辍学（学籍）
    ("resumed", gettext_lazy("Enrolment"), gettext_lazy("Back to attending (register)")),  # 复学（学籍）
    ("suspected_new", gettext_lazy("Dropouts"), gettext_lazy("New suspected dropouts")),  # 新增疑似辍学
    ("confirmed_new", gettext_lazy("Dropouts"), gettext_lazy("New confirmed dropouts")),  # 新增确认辍学
    ("returned", gettext_lazy("Where they went"), gettext_lazy("Returned to school")),  # 劝返复学
    ("placed_transferred", gettext_lazy("Where they went"), Placement.TRANSFERRED.label),
    ("placed_special", gettext_lazy("Where they went"), Placement.SPECIAL_EDUCATION.label),
    ("placed_home", gettext_lazy("Where they went"), Placement.HOME_TEACHING.label),
    ("closed", gettext_lazy("Where they went"), gettext_lazy("Case closed (other reason)")),  # 结案
    ("still_out", gettext_lazy("Where they went"), gettext_lazy("Still out at the end")),  # 期末仍辍学
    ("suspected_end", gettext_lazy("Where they went"), gettext_lazy("Suspected at the end")),  # 期末疑似辍学
]
KEYS = [key for key, _group, _label in COLUMNS]


@dataclass(frozen=True)
class Period:
    """A calendar month (`2026-10`) or half-year (`2026-H2`)."""

    start: dt.date
    end: dt.date
    code: str

    @property
    def is_half(self) -> bool:
        return "H" in self.code

    @property
    def label(self) -> str:
        if self.is_half:
            year, half = self.code.split("-H")
            return (
                _("%(year)s, first half") % {"year": year}
                if half == "1"
                else _("%(year)s, second half") % {"year": year}
            )
        return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = dt.date(year, month, 1)
        end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
        return cls(start=start, end=end, code=f"{year}-{month:02d}")

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        if half == 1:
            return cls(start=dt.date(year, 1, 1), end=dt.date(year, 6, 30), code=f"{year}-H1")
        return cls(start=dt.date(year, 7, 1), end=dt.date(year, 12, 31), code=f"{year}-H2")

    @classmethod
    def parse(cls, text: str) -> Period | None:
        try:
            year_text, rest = text.split("-", 1)
            year = int(year_text)
            if not 2000 <= year <= 2100:
                return None
            if rest in ("H1", "H2"):
                return cls.half(year, int(rest[1]))
            month = int(rest)
            return cls.month(year, month) if 1 <= month <= 12 else None
        except ValueError:
            return None

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, today: dt.date) -> Period:
        """The period a page asks for (`?period=2026-10` or `2026-H2`); this month otherwise."""
        return cls.parse(query.get("period", "")) or cls.month(today.year, today.month)

    @classmethod
    def choices(cls, *, today: dt.date) -> list[Period]:
        """The last twelve months, then the last four half-years, newest first."""
        months, (year, month) = [], (today.year, today.month)
        for _i in range(12):
            months.append(cls.month(year, month))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        half, halves = (today.year, 1 if today.month <= 6 else 2), []
        for _i in range(4):
            halves.append(cls.half(*half))
            half = (half[0] - 1, 2) if half[1] == 1 else (half[0], 1)
        return months + halves


@dataclass
class Row:
    label: str
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEYS, 0))
    township: str = ""
    school: str = ""
    stage: str = ""

    def add(self, other: Mapping[str, int]) -> None:
        for key in KEYS:
            self.values[key] += other.get(key, 0)

    @property
    def cells(self) -> list[int]:
        return [self.values[key] for key in KEYS]


@dataclass
class Summary:
    period: Period
    schools: list[Row]
    townships: list[Row]
    stages: list[Row]
    total: Row


def _cases(user: Any, period: Period) -> dict[tuple[Any, str], dict[str, int]]:
    start, end = period.start, period.end
    decided = Q(decided_on__range=(start, end))
    confirmed = CaseStep.objects.filter(
        case_id=OuterRef("pk"), kind=StepKind.STATUS, to_status=C.CONFIRMED, done_on__range=(start, end)
    )
    was_out = Q(suspected_on__isnull=False)  # a dropout's outcome, not an absence that ended in a day
    rows = (
        DropoutCase.objects.visible_to(user, Action.WEEKLY_RETURN_VIEW)
        .filter(grade__stage__in=COMPULSORY, opened_on__lte=end)
        .alias(at=status_at(end), confirmed_in=Exists(confirmed))
        .values("school_id", "grade__stage")
        .annotate(
            suspected_new=Count("pk", filter=Q(suspected_on__range=(start, end))),
            confirmed_new=Count("pk", filter=Q(confirmed_in=True)),
            returned=Count("pk", filter=Q(decided, was_out, status=C.RETURNED)),
            placed_transferred=Count("pk", filter=Q(decided, status=C.PLACED, placement=Placement.TRANSFERRED)),
            placed_special=Count("pk", filter=Q(decided, status=C.PLACED, placement=Placement.SPECIAL_EDUCATION)),
            placed_home=Count("pk", filter=Q(decided, status=C.PLACED, placement=Placement.HOME_TEACHING)),
            closed=Count("pk", filter=Q(decided, was_out, status=C.CLOSED)),
            still_out=Count("pk", filter=Q(at__in=DROPOUT_STATES)),
            suspected_end=Count("pk", filter=Q(at=C.SUSPECTED)),
        )
        .order_by()
    )
    return {(r.pop("school_id"), r.pop("grade__stage")): r for r in rows}


def _enrolment(user: Any, period: Period) -> dict[tuple[Any, str], dict[str, int]]:
    changes = (
        StatusChange.objects.visible_to(user, Action.WEEKLY_RETURN_VIEW)
        .filter(changed_on__range=(period.start, period.end), student__grade__stage__in=COMPULSORY)
        .values("student__school_id", "student__grade__stage")
        .annotate(
            transferred_out=Count("pk", filter=Q(to_status=E.TRANSFERRED_OUT)),
            suspended=Count("pk", filter=Q(to_status=E.SUSPENDED)),
            dropped_out=Count("pk", filter=Q(to_status=E.DROPPED_OUT)),
            resumed=Count("pk", filter=Q(to_status=E.ATTENDING, from_status__in=[E.DROPPED_OUT, E.SUSPENDED])),
        )
        .order_by()
    )
    found = {(r.pop("student__school_id"), r.pop("student__grade__stage")): r for r in changes}
    for unit, n in _attending(user).items():
        found.setdefault(unit, {})["attending"] = n
    return found


def _attending(user: Any) -> dict[tuple[Any, str], int]:
    """{(school id, stage): pupils attending today}, counted at most every STUDENT_COUNTS_TTL seconds
    per user, as the school pages' pupil counts are.

    Counting reads every pupil of a district (100,000: about 60 ms, and PostgreSQL runs it on two
    parallel workers besides the request's own process, so under load each view of the table took
    three processes' CPU); the period's case and enrolment figures are read each time."""
    key = f"care:summary-attending:{user.tenant_id}:{user.pk}"
    counts = cache.get(key)
    if counts is None:
        rows = (
            Student.objects.visible_to(user, Action.WEEKLY_RETURN_VIEW)
            .filter(enrollment_status=E.ATTENDING, grade__stage__in=COMPULSORY)
            .values("school_id", "grade__stage")
            .annotate(attending=Count("pk"))
            .order_by()
        )
        counts = {(r["school_id"], r["grade__stage"]): r["attending"] for r in rows}
        cache.set(key, counts, STUDENT_COUNTS_TTL)
    return counts


def dropout_summary(*, user: Any, period: Period) -> Summary:
    """The statistics table of `period` over the schools the user sees (five queries at most)."""
    units = (
        Grade.objects.visible_to(user, Action.WEEKLY_RETURN_VIEW)
        .filter(stage__in=COMPULSORY, school__is_active=True)
        .values_list("school_id", "school__name", "school__township", "stage")
        .distinct()
        .order_by("school__township", "school__name", "school_id", "stage")
    )
    cases, enrolment = _cases(user, period), _enrolment(user, period)
    stage_label = dict(Stage.choices)
    no_township = _("(no township)")
    schools: list[Row] = []
    townships: dict[str, Row] = {}
    stages: dict[str, Row] = {s: Row(label=str(stage_label[s])) for s in COMPULSORY}
    total = Row(label=_("Total"))
    seen = set()
    for school_id, name, township, stage in units:
        key = (school_id, stage)
        if key in seen:
            continue
        seen.add(key)
        row = Row(label=name, township=township or no_township, school=name, stage=str(stage_label[stage]))
        row.add(cases.get(key, {}))
        row.add(enrolment.get(key, {}))
        schools.append(row)
        townships.setdefault(row.township, Row(label=row.township)).add(row.values)
        stages[stage].add(row.values)
        total.add(row.values)
    return Summary(
        period=period,
        schools=schools,
        townships=sorted(townships.values(), key=lambda r: r.label),
        stages=list(stages.values()),
        total=total,
    )


def summary_xlsx(table: Summary, target: IO[bytes]) -> None:
    """The table as a workbook: one sheet per school, township and stage, each with its total row."""
    title = _("Dropout control statistics, %(period)s") % {"period": table.period.label}
    groups = [str(group) for _key, group, _label in COLUMNS]
    upper = [g if i == 0 or g != groups[i - 1] else "" for i, g in enumerate(groups)]
    labels = [str(label) for _key, _group, label in COLUMNS]
    by_school = [[r.township, r.school, r.stage] for r in table.schools]
    sheets = [
        (_("By school"), [_("Township"), _("School"), _("Stage")], by_school, table.schools),
        (_("By township"), [_("Township")], [[r.label] for r in table.townships], table.townships),
        (_("By stage"), [_("Stage")], [[r.label] for r in table.stages], table.stages),
    ]
    with XlsxWriter(target) as book:
        for name, heads, leads, rows in sheets:
            columns = [ColumnFormat(16) for _h in heads] + [ColumnFormat(11) for _k in KEYS]
            with book.sheet(name, columns) as sheet:
                sheet.row([title], style=STYLE_BOLD)
                sheet.row(["" for _h in heads] + upper, style=STYLE_BOLD)
                sheet.row(heads + labels, style=STYLE_BOLD)
                for lead, row in zip(leads, rows, strict=True):
                    sheet.row([*lead, *row.cells])
                sheet.row([_("Total"), *["" for _h in heads[1:]], *table.total.cells], style=STYLE_BOLD)
