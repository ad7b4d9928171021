"""Writes of the 1+1 pairing: pair a teacher with pupils (one or many in one set-based call), record a
paired teacher's home visit, set and clear a pupil's risk flags. Each one transaction, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core import clock
from core.audit import trail
from schools import permissions
from schools.models import RoleAssignment, User
from schools.permissions import Action, Role
from students.models import EnrollmentStatus, HomeVisit, Student, VisitPurpose
from students.services import home_visit_record

from ..models import Pairing, RiskFlag, RiskKind
from ..selectors import rules_current

MSG_NOT_MANAGER = _("Your role cannot pair teachers with pupils.")
MSG_NO_PUPILS = _("Choose at least one pupil.")
MSG_PUPILS_NOT_FOUND = _("%(n)d of the pupils chosen are not attending pupils you look after: nothing was changed.")
MSG_NOT_A_TEACHER = _("That account is not a teacher of this district.")
MSG_OTHER_SCHOOL = _(
    "%(teacher)s teaches at another school than %(n)d of the pupils chosen (%(names)s): a pupil is paired with a "
    "teacher of their own school. Nothing was changed."
)
MSG_AT_ONCE = _("These pupils were being paired at the same moment: nothing was changed. Reload and check.")
MSG_NOT_PAIRED = _("Only the pupil's paired teacher records the pairing visits: you are not paired with this pupil.")
MSG_FLAG_ROLE = _("Your role cannot change this pupil's risk flags.")
MSG_FLAG_KIND = _("Choose a risk.")


class PairingError(ValidationError):
    """A refusal of the pairing work, with a message for the person who tried."""


@dataclass(frozen=True)
class PairingResult:
    paired: int  # new pairings made
    ended: int  # earlier pairings of the same pupils ended (the pupil changed teacher)
    unchanged: int  # already paired with this teacher
    teacher_total: int  # the teacher's current pupils after this
    over_limit: bool  # more than the district's limit per teacher (shown, not refused)


def teacher_schools(teacher: User) -> set[Any]:
    """The schools where the account teaches (holds a class teacher's role)."""
    return set(RoleAssignment.objects.filter(user=teacher, role=Role.CLASS_TEACHER).values_list("school_id", flat=True))


def pairing_assign(*, actor: Any, teacher: User | None, student_ids: Sequence[Any]) -> PairingResult:
    """结对: pair `teacher` with each pupil named, ending a pupil's pairing with another teacher. All or
    nothing, a fixed number of statements whatever the number of pupils (the district's bulk form).
    Refused, with the reason, for a teacher of another school or a pupil the actor does not look after."""
    if not permissions.can(actor, Action.PAIRING_MANAGE):
        raise PairingError(MSG_NOT_MANAGER)
    if teacher is None or not teacher.is_active or teacher.tenant_id != actor.tenant_id:
        raise PairingError(MSG_NOT_A_TEACHER)
    ids = list(dict.fromkeys(str(pk) for pk in student_ids))
    if not ids:
        raise PairingError(MSG_NO_PUPILS)
    schools = teacher_schools(teacher)
    if not schools:
        raise PairingError(MSG_NOT_A_TEACHER)
    today = clock.today()
    try:
        with transaction.atomic():
            try:
                pupils = list(
                    Student.objects.visible_to(actor, Action.PAIRING_MANAGE)
                    .filter(pk__in=ids, enrollment_status=EnrollmentStatus.ATTENDING)
                    .order_by("pk")
                )
            except ValidationError:  # a malformed id
                pupils = []
            if len(pupils) != len(ids):
                raise PairingError(MSG_PUPILS_NOT_FOUND % {"n": len(ids) - len(pupils)})
            strangers = [p for p in pupils if p.school_id not in schools]
            if strangers:
                raise PairingError(
                    MSG_OTHER_SCHOOL
                    % {
                        "teacher": teacher.get_full_name() or teacher.username,
                        "n": len(strangers),
                        "names": "、".join(p.name for p in strangers[:5]),
                    }
                )
            current = list(
                Pairing.objects.select_for_update()
                .filter(student_id__in=[p.pk for p in pupils], ended_on__isnull=True)
                .order_by("pk")
            )
            same = {c.student_id for c in current if c.teacher_id == teacher.pk}
            to_end = [c.pk for c in current if c.teacher_id != teacher.pk]
            with trail.labelled("care.pairing_end", str(_("paired with another teacher"))):
                if to_end:
                    Pairing.objects.filter(pk__in=to_end).update(ended_on=today)
            new = [
                Pairing(
                    student_id=p.pk,
                    school_id=p.school_id,
                    grade_id=p.grade_id,
                    klass_id=p.klass_id,
                    teacher=teacher,
                    started_on=today,
                    assigned_by=actor,
                )
                for p in pupils
                if p.pk not in same
            ]
            with trail.labelled("care.pairing_assign"):
                Pairing.objects.bulk_create(new)
            total = Pairing.objects.filter(teacher=teacher, ended_on__isnull=True).count()
    except IntegrityError:
        raise PairingError(MSG_AT_ONCE) from None
    return PairingResult(
        paired=len(new),
        ended=len(to_end),
        unchanged=len(same),
        teacher_total=total,
        over_limit=total > rules_current().pairing_max_pupils,
    )


def pairing_visit_record(
    *,
    actor: Any,
    student: Student,
    visited_on: dt.date | None,
    met: str = "",
    situation: str = "",
    needs: str = "",
    follow_ups: str = "",
    next_due_on: dt.date | None = None,
) -> HomeVisit:
    """走访: the paired teacher records a visit to the pupil's family (not in the future); the next visit
    falls due on the date given, or after the district's interval."""
    if not permissions.can(actor, Action.VISIT_RECORD):
        raise PairingError(MSG_NOT_PAIRED)
    with transaction.atomic():
        paired = Pairing.objects.filter(student=student, teacher_id=actor.pk, ended_on__isnull=True).exists()
        if not paired:
            raise PairingError(MSG_NOT_PAIRED)
        if next_due_on is None and visited_on is not None and visited_on <= clock.today():
            next_due_on = visited_on + dt.timedelta(days=rules_current().pairing_visit_days)
        return home_visit_record(
            actor=actor,
            student=student,
            purpose=VisitPurpose.PAIRING,
            visited_on=visited_on,
            met=met,
            situation=situation,
            needs=needs,
            follow_ups=follow_ups,
            next_due_on=next_due_on,
        )


def risk_flag_set(*, actor: Any, student: Student, kind: str, note: str = "") -> RiskFlag:
    """Put the pupil on the watch list for a risk (one flag per risk: setting it again changes the note)."""
    if kind not in RiskKind.values:
        raise PairingError(MSG_FLAG_KIND)
    if not permissions.can(actor, Action.RISK_FLAG_SET, student):
        raise PairingError(MSG_FLAG_ROLE)
    with transaction.atomic():
        flag = RiskFlag.objects.select_for_update().filter(student=student, kind=kind).first()
        with trail.labelled("care.risk_flag_set"):
            if flag is None:
                return RiskFlag.objects.create(
                    student=student,
                    school_id=student.school_id,
                    grade_id=student.grade_id,
                    klass_id=student.klass_id,
                    kind=kind,
                    note=note.strip()[:200],
                    set_by=actor,
                )
            flag.note, flag.set_by = note.strip()[:200], actor
            flag.save(update_fields=["note", "set_by", "updated_at"])
            return flag


def risk_flag_clear(*, actor: Any, flag: RiskFlag) -> None:
    """Take the pupil off the watch list for that risk (the audit trail keeps that it was set)."""
    if not permissions.can(actor, Action.RISK_FLAG_SET, flag):
        raise PairingError(MSG_FLAG_ROLE)
    with transaction.atomic(), trail.labelled("care.risk_flag_clear"):
        RiskFlag.objects.filter(pk=flag.pk).delete()
