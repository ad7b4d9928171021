"""Writes of dropout control: the class's day of absences, and the case's way to a return.

- `attendance_record`: one submit for the whole class (set-based: a fixed number of statements
  whatever the class size). An unexplained absence opens a case or extends the pupil's open one; the
  district's rules (`CareRules`) set when the school is told and when the home visit is due, and a case
  whose unexplained absence reaches more than N school days becomes a suspected dropout **at recording
  time** (the count only moves when a day is recorded, so no nightly task is needed). Days are working
  days of the tenant's calendar (`schools.workdays`); leave days inside the run are not counted.
- `case_transition`: one locked, checked, audited step of the case's state machine (declared on
  `DropoutCase`); the one place where "confirmed" and "returned" happen, so the enrollment change and the
  stop or reissue of awards (issue 16, item 4) hook in here.
- `case_step_record`, `case_responsible_set`: what was done, and who answers for the pupil (六长).

Ties to funding (issue 16, item 4), in the same transaction as the step that causes them:
- confirmed (确认辍学): the enrollment status becomes "dropped out" through `students.services.
  student_status_change`, and each of the pupil's approved awards not yet paid gets a stop proposal
  (停发) through the correction workflow (`correction_propose`), proposed by the person confirming, with
  a reason naming the case; the district approves it as any correction (four eyes). Never silently:
  a person whose role cannot propose corrections is told to ask one who can, and nothing changes.
- returned (复学): the enrollment status back to "attending", and each stop the case proposed that was
  approved gets its reversal proposed (`correction_reverse_propose`): once the district approves it, the
  award is payable again and the next reissue batch (补发) carries its line.
The corrections a case proposed carry `case_evidence(case)` as their evidence, which is how the case
page and the return find them (no second link table).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from core import clock, workflow
from core.audit import trail
from disbursements.models import Correction, CorrectionKind, CorrectionStatus, LineStatus, PaymentLine
from disbursements.services.corrections import correction_propose, correction_reverse_propose
from funding.models import Award, AwardStatus
from schools import permissions
from schools.models import SchoolClass, User
from schools.permissions import Action
from schools.workdays import working_days_between
from students.models import EnrollmentStatus, Student
from students.services import student_status_change

from .models import (
    OPEN_STATES,
    Absence,
    AbsenceReason,
    CaseResponsible,
    CaseStatus,
    CaseStep,
    ChiefRole,
    DropoutCase,
    NoticeLevel,
    Placement,
    StepKind,
)
from .selectors import rules_current

# Messages a teacher understands (named, so tests and views can refer to them).
MSG_FUTURE = _("The date cannot be in the future.")
MSG_NOT_SCHOOL_DAY = _("%(date)s is not a school day on the district's calendar: nothing was recorded.")
MSG_NOT_YOUR_CLASS = _("You can record absences only for your own class.")
MSG_NOT_IN_CLASS = _("%(n)d of the pupils named are not attending pupils of this class: nothing was recorded.")
MSG_UNKNOWN_REASON = _("Unknown absence reason: %(reason)s.")
MSG_MOVED = _("This case has already moved on (it is now: %(status)s). Reload to see it.")
MSG_NOT_YOURS = _("Your role cannot take this step on this case.")
MSG_REASON = _("Say why the case is closed: a reason is required.")
MSG_PLACEMENT = _("Choose where the pupil is placed.")
MSG_UNKNOWN_STEP = _("Unknown step.")
MSG_CASE_ENDED = _("This case is finished (%(status)s): nothing more can be recorded on it.")
MSG_NEXT_BEFORE = _("The next step cannot be due before the date of this one.")
MSG_NOTICE_LEVEL = _("Choose which written notice was delivered.")
MSG_STEP_KIND = _("Choose what was done.")
MSG_NAME = _("Give the person's name.")
MSG_USER_TENANT = _("That account is not of this district.")
MSG_FUNDING_ROLE = _(
    "The pupil has %(n)d award(s) whose stop or resumption this step proposes, and your role cannot propose "
    "corrections: ask the school's funding officer or the district to take this step."
)
MSG_AT_ONCE = _("This class's day was being recorded at the same moment: nothing was recorded. Reload and check.")


class CareError(ValidationError):
    """A refusal of dropout control, with a message for the person who tried."""


# --- Attendance ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceResult:
    absent: int
    opened: int
    extended: int
    suspected: int
    returned: int


def _nth_working_day(workdays: list[dt.date], day: dt.date, n: int) -> dt.date:
    """The working day `n` working days after `day` (itself when n = 0); `day` is a working day."""
    index = workdays.index(day) + n
    return workdays[min(index, len(workdays) - 1)]


def attendance_record(*, actor: Any, klass: SchoolClass, day: dt.date, absences: Mapping[Any, str]) -> AttendanceResult:
    """缺勤登记: the class's absences on `day` (pupil id → reason; pupils not named were present),
    replacing what was recorded for the class that day. All or nothing; a fixed number of statements."""
    try:
        return _attendance_record(actor=actor, klass=klass, day=day, absences=absences)
    except IntegrityError:
        # Two submits of the same class at once (a double tap): the unique keys (one open case per
        # pupil, one absence per pupil and day) stop the second, which is told so.
        raise CareError(MSG_AT_ONCE) from None


def _attendance_record(
    *, actor: Any, klass: SchoolClass, day: dt.date, absences: Mapping[Any, str]
) -> AttendanceResult:
    if not permissions.can(actor, Action.ATTENDANCE_RECORD, klass):
        raise CareError(MSG_NOT_YOUR_CLASS)
    if day > clock.today():
        raise CareError(MSG_FUTURE)
    wanted: dict[uuid.UUID, str] = {}
    for key, reason in absences.items():
        if reason not in AbsenceReason.values:
            raise CareError(MSG_UNKNOWN_REASON % {"reason": reason})
        try:
            wanted[key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))] = reason
        except ValueError:
            raise CareError(MSG_NOT_IN_CLASS % {"n": 1}) from None
    rules = rules_current()
    with transaction.atomic():
        pupils = set(
            Student.objects.filter(klass=klass, enrollment_status=EnrollmentStatus.ATTENDING).values_list(
                "pk", flat=True
            )
        )
        strangers = set(wanted) - pupils
        if strangers:
            raise CareError(MSG_NOT_IN_CLASS % {"n": len(strangers)})
        open_cases = {
            c.student_id: c
            for c in DropoutCase.objects.select_for_update().filter(student_id__in=pupils, status__in=OPEN_STATES)
        }
        start = min([c.opened_on for c in open_cases.values()] + [day])
        reach = max(rules.school_notice_days, rules.home_visit_days)
        workdays = working_days_between(start, day + dt.timedelta(days=reach * 3 + 30))
        if day not in workdays:
            raise CareError(MSG_NOT_SCHOOL_DAY % {"date": day.isoformat()})

        with trail.labelled("care.attendance_replace"):
            Absence.objects.filter(klass=klass, absent_on=day).delete()

        unexplained = [pk for pk, reason in wanted.items() if reason == AbsenceReason.UNEXPLAINED]
        new_cases = [
            DropoutCase(
                student_id=pk,
                school_id=klass.school_id,
                grade_id=klass.grade_id,
                klass_id=klass.pk,
                opened_on=day,
                last_absent_on=day,
                absent_days=1,
                school_notice_on=_nth_working_day(workdays, day, rules.school_notice_days),
                home_visit_due_on=_nth_working_day(workdays, day, rules.home_visit_days),
                opened_by=actor,
            )
            for pk in unexplained
            if pk not in open_cases
        ]
        with trail.labelled("care.case_open"):
            DropoutCase.objects.bulk_create(new_cases)
        case_of = {**open_cases, **{c.student_id: c for c in new_cases}}
        with trail.labelled("care.attendance_record"):
            Absence.objects.bulk_create(
                Absence(
                    student_id=pk,
                    school_id=klass.school_id,
                    grade_id=klass.grade_id,
                    klass_id=klass.pk,
                    absent_on=day,
                    reason=reason,
                    case=case_of.get(pk) if reason == AbsenceReason.UNEXPLAINED else None,
                    recorded_by=actor,
                )
                for pk, reason in wanted.items()
            )

        # Existing cases: extended by today's unexplained absence, or ended by the pupil's presence.
        extended, suspected, returned = [], [], []
        steps = [
            CaseStep(case=c, kind=StepKind.STATUS, done_on=day, to_status=c.status, actor=actor) for c in new_cases
        ]
        for pk, case in open_cases.items():
            if case.status != CaseStatus.ABSENT:
                continue  # a suspected or confirmed case is the school's to move
            if pk in unexplained:
                case.opened_on, case.last_absent_on = min(case.opened_on, day), max(case.last_absent_on, day)
                extended.append(case)
            elif pk not in wanted and case.last_absent_on <= day:
                case.back_in_class()
                case.decided_on = day
                returned.append(case)
                steps.append(
                    CaseStep(
                        case=case,
                        kind=StepKind.STATUS,
                        done_on=day,
                        from_status=CaseStatus.ABSENT,
                        to_status=case.status,
                        notes=str(_("recorded present")),
                        actor=actor,
                    )
                )
        counted = [*extended, *(c for c in new_cases)]
        if counted:
            leave_days: dict[Any, set[dt.date]] = {}
            leave = Absence.objects.filter(
                student_id__in=[c.student_id for c in counted],
                absent_on__range=(start, day),
                reason__in=[AbsenceReason.SICK_LEAVE, AbsenceReason.PERSONAL_LEAVE],
            ).values_list("student_id", "absent_on")
            for pk, on in leave:
                leave_days.setdefault(pk, set()).add(on)
            for case in counted:
                span = [d for d in workdays if case.opened_on <= d <= case.last_absent_on]
                case.absent_days = len([d for d in span if d not in leave_days.get(case.student_id, ())])
                if case.absent_days > rules.suspected_after_days:
                    case.suspect()
                    case.suspected_on = day
                    suspected.append(case)
                    steps.append(
                        CaseStep(
                            case=case,
                            kind=StepKind.STATUS,
                            done_on=day,
                            from_status=CaseStatus.ABSENT,
                            to_status=case.status,
                            notes=str(_("%(n)d school days absent without leave") % {"n": case.absent_days}),
                            actor=actor,
                        )
                    )
        fields = ["status", "opened_on", "last_absent_on", "absent_days", "suspected_on", "decided_on", "updated_at"]
        plain = [c for c in extended if c not in suspected]
        for label, group in (
            ("care.case_extend", plain),
            ("care.case_suspect", suspected),
            ("care.case_back_in_class", returned),
        ):
            if group:
                with trail.labelled(label):
                    DropoutCase.objects.bulk_update(group, fields)
        with trail.labelled("care.case_step"):
            CaseStep.objects.bulk_create(steps)
    return AttendanceResult(
        absent=len(wanted),
        opened=len(new_cases),
        extended=len(extended),
        suspected=len(suspected),
        returned=len(returned),
    )


# --- The case's way ------------------------------------------------------------------------------------

#: The transitions a person may fire (the others are the rules').
TRANSITIONS = ("confirm", "start_persuasion", "mark_returned", "place", "close")


def case_transition(
    *,
    actor: Any,
    case: DropoutCase,
    name: str,
    reason: str = "",
    placement: str = "",
    expected_status: str | None = None,
) -> DropoutCase:
    """Move a case one step (confirm, persuade, returned, placed, closed): locked, checked against the
    state the person saw, the transition's permission, the reason or placement it needs; audited with a
    status step in the same transaction."""
    if name not in TRANSITIONS:
        raise CareError(MSG_UNKNOWN_STEP)
    reason = reason.strip()
    with transaction.atomic():
        c = DropoutCase.objects.select_for_update().get(pk=case.pk)
        if expected_status is not None and c.status != expected_status:
            raise CareError(MSG_MOVED % {"status": c.get_status_display()})
        step = workflow.transition_named(c, name)
        if step is None:
            raise CareError(MSG_MOVED % {"status": c.get_status_display()})
        if not step.has_perm(c, actor):
            raise CareError(MSG_NOT_YOURS)
        if name == "close" and not reason:
            raise CareError(MSG_REASON)
        if name == "place" and placement not in Placement.values:
            raise CareError(MSG_PLACEMENT)
        before = c.status
        getattr(c, name)()
        c.decided_on = clock.today()
        fields = ["status", "decided_on", "updated_at"]
        if name == "close":
            c.close_reason = reason[:300]
            fields.append("close_reason")
        if name == "place":
            c.placement = placement
            fields.append("placement")
        funding_notes = ""
        if name == "confirm":
            funding_notes = _dropout_confirmed(actor, c)
        elif name == "mark_returned" and before in (CaseStatus.CONFIRMED, CaseStatus.PERSUADING):
            funding_notes = _pupil_returned(actor, c)
        if funding_notes:
            reason = f"{reason}；{funding_notes}" if reason else funding_notes
        with trail.labelled(f"care.case_{name}", reason):
            c.save(update_fields=fields)
            notes = str(Placement(placement).label) if name == "place" else reason
            CaseStep.objects.create(
                case=c,
                kind=StepKind.STATUS,
                done_on=c.decided_on,
                from_status=before,
                to_status=c.status,
                notes=(f"{notes}；{reason}" if name == "place" and reason else notes),
                actor=actor,
            )
    return c


def case_evidence(case: DropoutCase) -> str:
    """The evidence of the corrections a case proposed: language-independent, so they can be found."""
    return f"dropout_case:{case.pk}"


def _case_reason(case: DropoutCase, what: str) -> str:
    return str(what) % {"pupil": case.student.name, "date": case.opened_on.isoformat()}


def _dropout_confirmed(actor: Any, case: DropoutCase) -> str:
    """确认辍学: the enrollment change and a stop proposal for each unpaid approved award. Returns what
    the status step's notes say about them."""
    awards = list(
        Award.objects.filter(student_id=case.student_id, status=AwardStatus.APPROVED)
        .exclude(lines__status=LineStatus.PAID)
        .exclude(corrections__kind=CorrectionKind.STOP, corrections__status=CorrectionStatus.PROPOSED)
        .annotate(at_bank=Exists(PaymentLine.objects.filter(award=OuterRef("pk"), status=LineStatus.EXPORTED)))
        .order_by("created_at", "pk")
    )
    # A line at the bank cannot be stopped (correction_propose would refuse): it waits for the return.
    at_bank = [a for a in awards if a.at_bank]
    to_stop = [a for a in awards if not a.at_bank]
    if any(not permissions.can(actor, Action.CORRECTION_PROPOSE, a) for a in to_stop):
        raise CareError(MSG_FUNDING_ROLE % {"n": len(to_stop)})
    reason = _case_reason(case, _("Dropout confirmed (dropout case of %(pupil)s, opened %(date)s)"))
    student_status_change(
        student=case.student,
        to_status=EnrollmentStatus.DROPPED_OUT,
        changed_on=case.decided_on,
        reason=reason,
        source="dropout_case",
    )
    for award in to_stop:
        try:
            correction_propose(actor=actor, award=award, reason=reason, evidence=case_evidence(case))
        except ValidationError as refused:
            raise CareError(refused.messages) from None
    notes = [str(_("enrollment: dropped out"))]
    if to_stop:
        notes.append(str(_("stop proposed for %(n)d unpaid award(s), waiting for the district")) % {"n": len(to_stop)})
    if at_bank:
        notes.append(str(_("%(n)d award(s) at the bank: stop or recover after the return")) % {"n": len(at_bank)})
    return "；".join(notes)


def _pupil_returned(actor: Any, case: DropoutCase) -> str:
    """复学 after a confirmed dropout: enrollment back to attending, and the reversal of each approved stop
    the case proposed (a second person approves it; the next reissue batch then pays the award)."""
    stops = list(
        Correction.objects.filter(
            evidence=case_evidence(case),
            kind=CorrectionKind.STOP,
            status=CorrectionStatus.APPROVED,
            reversed_by__isnull=True,
        ).order_by("created_at", "pk")
    )
    if any(not permissions.can(actor, Action.CORRECTION_PROPOSE, stop) for stop in stops):
        raise CareError(MSG_FUNDING_ROLE % {"n": len(stops)})
    reason = _case_reason(case, _("Back at school (dropout case of %(pupil)s, opened %(date)s)"))
    student_status_change(
        student=case.student,
        to_status=EnrollmentStatus.ATTENDING,
        changed_on=case.decided_on,
        reason=reason,
        source="dropout_case",
    )
    for stop in stops:
        try:
            correction_reverse_propose(actor=actor, correction=stop, reason=reason)
        except ValidationError as refused:
            raise CareError(refused.messages) from None
    notes = [str(_("enrollment: attending"))]
    if stops:
        waiting = _("resumption proposed for %(n)d stopped award(s), waiting for the district")
        notes.append(str(waiting) % {"n": len(stops)})
    return "；".join(notes)


def case_step_record(
    *,
    actor: Any,
    case: DropoutCase,
    kind: str,
    done_on: dt.date,
    notes: str = "",
    next_on: dt.date | None = None,
    notice_level: int | None = None,
) -> CaseStep:
    """Record what was done on an open case (家访, a call, the village committee, a written notice) and
    when the next step is due."""
    if kind not in StepKind.values or kind == StepKind.STATUS:
        raise CareError(MSG_STEP_KIND)
    if done_on > clock.today():
        raise CareError(MSG_FUTURE)
    if next_on is not None and next_on < done_on:
        raise CareError(MSG_NEXT_BEFORE)
    if kind == StepKind.WRITTEN_NOTICE and notice_level not in NoticeLevel.values:
        raise CareError(MSG_NOTICE_LEVEL)
    with transaction.atomic():
        c = DropoutCase.objects.select_for_update().get(pk=case.pk)
        if not permissions.can(actor, Action.CASE_STEP, c):
            raise CareError(MSG_NOT_YOURS)
        if not c.is_open:
            raise CareError(MSG_CASE_ENDED % {"status": c.get_status_display()})
        with trail.labelled(f"care.step_{kind.lower()}"):
            return CaseStep.objects.create(
                case=c,
                kind=kind,
                done_on=done_on,
                notes=notes.strip(),
                next_on=next_on,
                notice_level=notice_level if kind == StepKind.WRITTEN_NOTICE else None,
                actor=actor,
            )


def case_responsible_set(
    *, actor: Any, case: DropoutCase, role: str, name: str, phone: str = "", user: User | None = None
) -> CaseResponsible:
    """Name the person who answers for the pupil in one of the six roles (六长), replacing whoever held it."""
    if role not in ChiefRole.values:
        raise CareError(MSG_STEP_KIND)
    name = (name or (user.get_full_name() if user else "")).strip()
    if not name:
        raise CareError(MSG_NAME)
    if user is not None and user.tenant_id != case.tenant_id:
        raise CareError(MSG_USER_TENANT)
    with transaction.atomic():
        c = DropoutCase.objects.select_for_update().get(pk=case.pk)
        if not permissions.can(actor, Action.CASE_DECIDE, c):
            raise CareError(MSG_NOT_YOURS)
        if not c.is_open:
            raise CareError(MSG_CASE_ENDED % {"status": c.get_status_display()})
        row = CaseResponsible.objects.filter(case=c, role=role).first()
        with trail.labelled("care.responsible_set"):
            if row is None:
                row = CaseResponsible(case=c, role=role)
            row.name, row.phone, row.user = name[:50], phone.strip() or None, user
            if row._state.adding:
                row.save()
            else:
                row.save(update_fields=["name", "phone", "user", "updated_at"])
    return row
