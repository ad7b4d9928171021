"""The home page's blocks for each role (issue 25, item 2): what the person's day and the semester look
like, each number a link to the list of exactly those rows.

Counts come from each app's selectors, one grouped query per block (never a count per entry or per
row), and from the worklist the page computes anyway. A person with several roles sees each role's
blocks once. Every link carries the filters of its count (tests/test_count_links.py follows them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audits import selectors as audit_selectors
from audits.sentences import action_phrase
from care import selectors as care_selectors
from care.models import CaseStatus
from core.clock import current_school_year
from disbursements import selectors as money_selectors
from disbursements.models import RecoveryStatus
from funding import selectors as funding_selectors
from schools import permissions
from schools.permissions import Action, Role
from schools.selectors import class_list, jobs_in_progress, school_list
from students.identification import selectors as application_selectors
from students.models import ApplicationStatus

#: Who sees which block: the teacher's day, the school's desk, the district's semester, the auditor's.
TEACHERS = frozenset({Role.CLASS_TEACHER, Role.GRADE_LEADER})
SCHOOL = frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL})
DISTRICT = frozenset({Role.DISTRICT_STAFF})
AUDITORS = frozenset({Role.DISTRICT_AUDITOR})

#: The review chain's steps as the school's queue shows them, in order.
STEPS = (
    ApplicationStatus.CLASS_EVALUATION,
    ApplicationStatus.GRADE_REVIEW,
    ApplicationStatus.SCHOOL_REVIEW,
    ApplicationStatus.SCHOOL_APPROVED,
    ApplicationStatus.PUBLICITY,
    ApplicationStatus.DISTRICT_REVIEW,
    ApplicationStatus.IDENTIFIED,
)
WATCHED = (CaseStatus.ABSENT, CaseStatus.SUSPECTED, CaseStatus.CONFIRMED, CaseStatus.PERSUADING)


@dataclass
class Tile:
    """One number on the home page and the list it opens."""

    label: str | Promise
    count: int
    url: str
    key: str = ""  # data-testid
    hint: str | Promise = ""


@dataclass
class Dated:
    """A row with an end date (a list in publicity, a batch at the bank)."""

    label: str
    url: str
    on: dt.date | None = None
    note: str | Promise = ""


@dataclass
class ProgramRow:
    program: Any
    tiles: list[Tile]


@dataclass
class Dashboard:
    teacher: list[Tile] = field(default_factory=list)
    teacher_classes: list[Tile] = field(default_factory=list)
    queue: list[Tile] = field(default_factory=list)
    publicity: list[Dated] = field(default_factory=list)
    batches: list[Dated] = field(default_factory=list)
    failed_lines: Tile | None = None
    semester: Any = None
    identified: Tile | None = None
    progress: list[ProgramRow] = field(default_factory=list)
    by_school: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)
    changes: list[Tile] = field(default_factory=list)
    changes_since: dt.datetime | None = None
    chain: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not (self.teacher or self.queue or self.progress or self.chain or self.identified)


def _url(name: str, *args: Any, **query: Any) -> str:
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return reverse(name, args=args) + (f"?{urlencode(query)}" if query else "")


def for_user(user: Any, *, today: dt.date, previous_visit: str | None = None) -> Dashboard:
    """The blocks of every role the user holds; `previous_visit` (ISO time of the sign-in before this
    one) is where the auditor's "since your last visit" starts."""
    roles = permissions.roles_of(user)
    board = Dashboard()
    if roles & TEACHERS:
        _teacher(board, user, today)
    steps = _Steps(user)
    if roles & (SCHOOL | DISTRICT) and permissions.can(user, Action.APPLICATION_VIEW):
        _school(board, user, steps)
    if roles & DISTRICT:
        _district(board, user, steps)
    if roles & AUDITORS:
        _auditor(board, user, today, previous_visit)
    return board


def _teacher(board: Dashboard, user: Any, today: dt.date) -> None:
    """The teacher's phone: today's absences per class, home visits due, nominations returned, pupils to watch."""
    if permissions.can(user, Action.ATTENDANCE_RECORD):
        recorded = care_selectors.absences_on(user=user, day=today)
        board.teacher_classes = [
            Tile(
                label=str(k),
                count=recorded.get(k.pk, 0),
                url=_url("care:attendance_class", k.pk, date=today.isoformat()),
                key=f"attendance-{k.pk}",
            )
            for k in class_list(user=user)
            if permissions.can(user, Action.ATTENDANCE_RECORD, k)
        ]
    if permissions.can(user, Action.CARE_VIEW):
        watch = care_selectors.watch_counts(user=user)
        cases = reverse("care:cases")
        board.teacher.append(
            Tile(_("Home visits due"), watch["visit_due"], f"{cases}?visit=due", "visits-due", _("record the visit"))
        )
        board.teacher += [
            Tile(CaseStatus(s).label, watch[s], _url("care:cases", status=s), f"watch-{s.lower()}") for s in WATCHED
        ]
    if permissions.can(user, Action.APPLICATION_CLASS_REVIEW):
        board.teacher.insert(
            1,
            Tile(
                _("Nominations returned to the class"),
                application_selectors.returned_to_class_count(user=user),
                _url("students:applications", status=ApplicationStatus.CLASS_EVALUATION, returned=1),
                "returned",
                _("complete them and send them on"),
            ),
        )


class _Steps:
    """This school year's applications of the user's units by school and step, read once for the whole
    board: the school's queue, the district's identified count and its tasks by school all come from
    the same grouped query (it was run three times, a scan of the year's applications each)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.year = current_school_year()
        self._by_school: dict[Any, dict[str, int]] | None = None

    def by_school(self) -> dict[Any, dict[str, int]]:
        if self._by_school is None:
            self._by_school = application_selectors.open_steps_by_school(user=self.user, academic_year=self.year)
        return self._by_school

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for counts in self.by_school().values():
            for status, n in counts.items():
                out[status] = out.get(status, 0) + n
        return out


def _school(board: Dashboard, user: Any, by_step: _Steps) -> None:
    """The school's desk: the review queue by step, publicity under way, batches waiting, failed lines."""
    year = by_step.year
    steps = by_step.totals()
    board.queue = [
        Tile(
            ApplicationStatus(s).label,
            steps.get(s, 0),
            _url("students:applications", status=s, academic_year=year),
            f"step-{s.lower()}",
        )
        for s in STEPS
    ]
    board.publicity = [
        Dated(f"{p.school.name} · {p.title}", reverse("students:publicity", args=[p.pk]), p.ends_on)
        for p in application_selectors.publicities_in_progress(user=user)[:10]
    ]
    if not permissions.can(user, Action.FUNDING_VIEW):
        return
    semester = board.semester = funding_selectors.current_semester(user=user)
    board.publicity += [
        Dated(f"{a.school.name} · {a.program}", reverse("funding:award_list", args=[a.pk]), a.ends_on)
        for a in funding_selectors.award_lists_in_publicity(user=user, semester=semester)[:10]
    ]
    board.batches = [
        Dated(str(b), reverse("disbursements:batch", args=[b.pk]), None, b.get_status_display())
        for b in money_selectors.batches_waiting(user=user, semester=semester)
    ]
    board.failed_lines = Tile(
        _("Failed bank lines to fix"),
        money_selectors.failed_line_count(user=user, semester=semester),
        _url("disbursements:batches", semester=semester.pk if semester else None, line_status="FAILED"),
        "failed-lines",
        _("correct the card; the reissue batch pays them"),
    )


def _district(board: Dashboard, user: Any, by_step: _Steps) -> None:
    """The district's semester: progress by program, tasks by school, jobs in progress."""
    semester = board.semester = board.semester or funding_selectors.current_semester(user=user)
    year = by_step.year
    steps = by_step.totals()
    board.identified = Tile(
        _("Identified this school year"),
        steps.get(ApplicationStatus.IDENTIFIED, 0),
        _url("students:applications", status=ApplicationStatus.IDENTIFIED, academic_year=year),
        "identified",
    )
    if semester is not None and permissions.can(user, Action.FUNDING_VIEW):
        awards = funding_selectors.award_counts_by_program(user=user, semester=semester)
        lines = money_selectors.line_counts_by_program(user=user, semester=semester)
        for program in funding_selectors.program_list(user=user):
            a = awards.get(program.pk, {})
            m = lines.get(program.pk, {})
            if not a and not m:
                continue
            lists = _url("funding:award_lists", semester=semester.pk, program=program.pk)
            money = _url("disbursements:batches", semester=semester.pk, program=program.pk)
            board.progress.append(
                ProgramRow(
                    program,
                    [
                        Tile(_("Listed"), a.get("listed", 0), lists, f"listed-{program.pk}"),
                        Tile(_("Approved"), a.get("approved", 0), f"{lists}&status=APPROVED", f"approved-{program.pk}"),
                        Tile(_("Paid"), m.get("paid", 0), f"{money}&line_status=PAID", f"paid-{program.pk}"),
                        Tile(_("Failed"), m.get("failed", 0), f"{money}&line_status=FAILED", f"failed-{program.pk}"),
                        Tile(
                            _("Recovered"),
                            m.get("recovered", 0),
                            _url(
                                "disbursements:corrections",
                                program=program.pk,
                                semester=semester.pk,
                                recovery=RecoveryStatus.RECOVERED,
                            ),
                            f"recovered-{program.pk}",
                        ),
                    ],
                )
            )
    by_school = by_step.by_school()
    cases = care_selectors.open_cases_by_school(user=user) if permissions.can(user, Action.CARE_VIEW) else {}
    for school in school_list(user=user):
        steps_of = by_school.get(school.pk, {})
        row = {
            "school": school,
            "review": Tile(
                _("In review"),
                sum(steps_of.get(s, 0) for s in REVIEW_STEPS),
                _url("students:applications", status="review", school=school.pk, academic_year=year),
            ),
            "district": Tile(
                _("District re-check"),
                steps_of.get(ApplicationStatus.DISTRICT_REVIEW, 0),
                _url(
                    "students:applications",
                    status=ApplicationStatus.DISTRICT_REVIEW,
                    school=school.pk,
                    academic_year=year,
                ),
            ),
            "cases": Tile(
                _("Open cases"), cases.get(school.pk, 0), _url("care:cases", school=school.pk, status="open")
            ),
        }
        if row["review"].count or row["district"].count or row["cases"].count:
            board.by_school.append(row)
    board.jobs = list(jobs_in_progress(user=user))


REVIEW_STEPS = (ApplicationStatus.CLASS_EVALUATION, ApplicationStatus.GRADE_REVIEW, ApplicationStatus.SCHOOL_REVIEW)


def _auditor(board: Dashboard, user: Any, today: dt.date, previous_visit: str | None) -> None:
    """The auditor's desk: what changed since the last visit (by kind of event), the chain's state."""
    since = parse_datetime(previous_visit) if previous_visit else None
    if since is None:
        since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=1), dt.time()))  # local midnight
    board.changes_since = since
    board.changes = [
        Tile(
            action_phrase(r["action"]),
            r["n"],
            _url("audits:list", action=r["action"], since=since.isoformat()),
            f"change-{r['action']}",
        )
        for r in audit_selectors.changes_since(user=user, since=since)
    ]
    board.chain = audit_selectors.chain_state(user=user)
