"""资助名单: who a program funds this semester, school by school, and how much.

The eligible students are computed from the rules, in a few queries for a whole school; the officer
removes who should not be there (with the reason), publishes the list (公示), and the district approves
it within the school's budget, taken under a lock so that two approvals can never overspend it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core import clock, workflow
from core.audit import trail
from schools import permissions
from schools.models import Area, School, Tenant
from schools.permissions import Action
from schools.workdays import add_working_days
from students.identification.publicity import notice_publish
from students.models import ApplicationStatus, EnrollmentStatus, HardshipApplication, Student, Tier

from ..models import (
    ZERO,
    Award,
    AwardList,
    AwardListStatus,
    AwardStatus,
    Budget,
    BudgetWaiver,
    Program,
    Semester,
    Standard,
)
from ..signals import send_awards_changed
from .semesters import require_open

MSG_NOT_DRAFT = _("This list is no longer being prepared.")
MSG_BUDGET = _("Approving this list would pass the school's budget (%(quota)s yuan; %(used)s already approved).")
MSG_NO_BUDGET = _(
    "%(school)s has no budget for %(program)s in %(semester)s, so this list cannot be approved yet. On the "
    "Budgets page the district funding center computes the budgets of this program and semester, or "
    "records (with a reason) that its lists may be approved without a budget."
)
MSG_PERIOD = _("The publicity period runs until %(date)s: approve after it.")


@dataclass(frozen=True)
class Candidate:
    student_id: Any
    school_id: Any
    grade_id: Any
    klass_id: Any
    stage: str
    boarding: bool
    application_id: Any
    tier: str
    amount: Decimal
    reason: str


def standard_for(standards: list[Standard], *, stage: str, tier: str, boarding: bool) -> Standard | None:
    """The most specific standard that fits (blank fields fit anything): the one rule of what a pupil
    is owed, used by the award lists here and by the reconciliation's "tier too low" check."""
    fitting = [
        s
        for s in standards
        if s.stage in ("", stage) and s.tier in ("", tier) and s.boarding in ("", "Y" if boarding else "N")
    ]
    return max(fitting, key=lambda s: s.specificity, default=None)


def eligible_students(*, program: Program, semester: Semester, school: School) -> list[Candidate]:
    """Everyone the program's rules fund at this school this semester, with the amount and the reason,
    leaving out those who already have an award of the program this semester. Three queries."""
    if program.rural_schools_only and school.area != Area.RURAL:
        return []
    standards = list(Standard.objects.filter(program=program, semester=semester))
    identified = HardshipApplication.objects.filter(
        student=OuterRef("pk"), academic_year=semester.academic_year, status=ApplicationStatus.IDENTIFIED
    ).order_by("-identified_on")
    students = (
        Student.objects.filter(
            school=school, enrollment_status=EnrollmentStatus.ATTENDING, grade__stage__in=program.stages
        )
        .exclude(awards__program=program, awards__semester=semester)
        .annotate(
            application_id=Subquery(identified.values("pk")[:1]),
            application_tier=Subquery(identified.values("tier")[:1]),
            application_categories=Subquery(identified.values("categories")[:1]),
        )
        .values(
            "pk", "school_id", "grade_id", "klass_id", "grade__stage", "is_boarding",
            "application_id", "application_tier", "application_categories",
        )
        .order_by("pk")
    )  # fmt: skip
    candidates = []
    for row in students:
        tier = row["application_tier"] or ""
        if program.requires_identification and not row["application_id"]:
            continue
        if program.eligible_tiers and tier not in program.eligible_tiers:
            continue
        categories = row["application_categories"] or []
        if isinstance(categories, str):  # SQLite hands JSON back as text through a subquery
            categories = json.loads(categories)
        if program.eligible_categories and not set(categories) & set(program.eligible_categories):
            continue
        if program.boarders_only and not row["is_boarding"]:
            continue
        standard = standard_for(standards, stage=row["grade__stage"], tier=tier, boarding=row["is_boarding"])
        if standard is None:
            continue
        reason = "；".join(
            part
            for part in (
                f"认定{Tier(tier).label}" if tier else "",
                "寄宿生" if row["is_boarding"] else "",
                "农村学校" if program.rural_schools_only else "",
            )
            if part
        )
        candidates.append(
            Candidate(
                student_id=row["pk"],
                school_id=row["school_id"],
                grade_id=row["grade_id"],
                klass_id=row["klass_id"],
                stage=row["grade__stage"],
                boarding=row["is_boarding"],
                application_id=row["application_id"],
                tier=tier,
                amount=standard.amount,
                reason=str(reason) or program.name,
            )
        )
    return candidates


def award_list_build(*, actor: Any, program: Program, semester: Semester, school: School) -> AwardList:
    """The school's list for the program and semester, with everyone eligible not yet on it.

    On an approved list this adds the omissions (遗漏: identified late, moved in, …): they go through
    the same publicity and approval, and into the semester's reissue batch; the approved awards stay.
    """
    permissions.require(actor, Action.AWARD_PREPARE, school)
    return _add_eligible(program=program, semester=semester, school=school, only=None)


def award_omissions_add(
    *, actor: Any, program: Program, semester: Semester, school: School, student_ids: list[Any]
) -> list[Award]:
    """应助未助: the district puts students the reconciliation found missing onto the school's list, if
    the program's rules still fund them. Like any omission they are proposed (added late), published
    by the school and approved by the district before the reissue batch pays them."""
    permissions.require(actor, Action.RECONCILIATION_ACT, school)
    award_list = _add_eligible(program=program, semester=semester, school=school, only={str(i) for i in student_ids})
    return list(
        award_list.awards.filter(student_id__in=student_ids, status=AwardStatus.PROPOSED).order_by("student_id")
    )


def _add_eligible(*, program: Program, semester: Semester, school: School, only: set[str] | None) -> AwardList:
    require_open(semester)
    with transaction.atomic():
        award_list, _created = AwardList.objects.get_or_create(program=program, semester=semester, school=school)
        award_list = AwardList.objects.select_for_update().get(pk=award_list.pk)
        if award_list.status == AwardListStatus.PUBLICITY:
            raise ValidationError(MSG_NOT_DRAFT)
        late = award_list.status == AwardListStatus.APPROVED
        candidates = eligible_students(program=program, semester=semester, school=school)
        if only is not None:
            candidates = [c for c in candidates if str(c.student_id) in only]
        if late and candidates:
            award_list.reopen()
            with trail.labelled("award_list.reopen_for_omissions"):
                award_list.save(update_fields=["status", "updated_at"])
        with translation.override(settings.LANGUAGE_CODE), trail.labelled("award.propose"):
            Award.objects.bulk_create(
                [
                    Award(
                        award_list=award_list,
                        program=program,
                        semester=semester,
                        student_id=c.student_id,
                        school_id=c.school_id,
                        grade_id=c.grade_id,
                        klass_id=c.klass_id,
                        application_id=c.application_id,
                        tier=c.tier,
                        amount=c.amount,
                        reason=c.reason,
                        added_late=late,
                    )
                    for c in candidates
                ]
            )
    return award_list


def award_remove(*, actor: Any, award: Award, reason: str) -> Award:
    """Take a student off a list being prepared (with the reason)."""
    if not reason.strip():
        raise ValidationError(_("Say why the student is taken off the list."))
    with transaction.atomic():
        award = Award.objects.select_for_update().select_related("award_list").get(pk=award.pk)
        permissions.require(actor, Action.AWARD_PREPARE, award)
        if award.award_list.status != AwardListStatus.DRAFT or award.status != AwardStatus.PROPOSED:
            raise ValidationError(MSG_NOT_DRAFT)
        award.remove()
        award.status_reason = reason
        with trail.labelled("award.remove", reason):
            award.save(update_fields=["status", "status_reason", "updated_at"])
    return award


def award_list_publish(*, actor: Any, award_list: AwardList, starts_on: dt.date | None = None) -> AwardList:
    """公示 of the list: the same rules as the identification's (working days, a snapshot of what may
    be published)."""
    starts_on = starts_on or clock.today()
    with transaction.atomic():
        al = AwardList.objects.select_for_update().select_related("school", "program").get(pk=award_list.pk)
        permissions.require(actor, Action.AWARD_PREPARE, al)
        if al.status != AwardListStatus.DRAFT:
            raise ValidationError(MSG_NOT_DRAFT)
        awards = list(
            al.awards.filter(status=AwardStatus.PROPOSED)
            .select_related("student", "grade")
            .order_by("grade", "student__name")
        )
        if not awards:
            raise ValidationError(_("The list is empty."))
        days = Tenant.objects.get(pk=al.tenant_id).publicity_working_days
        al.publish()
        al.starts_on, al.published_by = starts_on, actor
        al.ends_on = add_working_days(starts_on, days)
        al.notice_token = uuid.uuid4()  # each publicity of the list (the omissions too) has its own page
        with trail.labelled("award_list.publish"):
            al.save(update_fields=["status", "starts_on", "ends_on", "published_by", "notice_token", "updated_at"])
        notice_publish(
            token=al.notice_token,
            tenant_id=al.tenant_id,
            title=f"{al.school.name}{al.semester}{al.program.name}受助学生名单公示",
            school_name=al.school.name,
            starts_on=al.starts_on,
            ends_on=al.ends_on,
            people=[(a.student.name, a.grade, a.get_tier_display) for a in awards],
        )
    return al


def approved_total(*, program: Any, semester: Any, school: Any) -> Decimal:
    """What the district has approved for a school, program and semester (objects or their ids): what
    its budget holds."""
    return (
        Award.objects.filter(program=program, semester=semester, school=school, status=AwardStatus.APPROVED).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )


def award_list_approve(*, actor: Any, award_list: AwardList, today: dt.date | None = None) -> AwardList:
    """The district approves a published list after its period, within the school's budget."""
    today = today or clock.today()
    with transaction.atomic():
        al = AwardList.objects.select_for_update().get(pk=award_list.pk)
        permissions.require(actor, Action.AWARD_APPROVE, al)
        if al.status != AwardListStatus.PUBLICITY:
            raise ValidationError(_("Only a published list can be approved."))
        if today <= al.ends_on:
            raise ValidationError(MSG_PERIOD % {"date": al.ends_on.isoformat()})
        adding = al.awards.filter(status=AwardStatus.PROPOSED).aggregate(total=Sum("amount"))["total"] or ZERO
        _take_budget(
            program_id=al.program_id, semester_id=al.semester_id, school_id=al.school_id, amount=adding, required=True
        )
        al.approve()
        al.approved_by = actor
        with trail.labelled("award_list.approve"):
            al.save(update_fields=["status", "approved_by", "updated_at"])
            workflow.bulk_transition(al.awards.all(), "approve")
        send_awards_changed(semester_id=al.semester_id, school_ids=[al.school_id], program_ids=[al.program_id])
    return al


def _take_budget(*, program_id: Any, semester_id: Any, school_id: Any, amount: Decimal, required: bool = False) -> None:
    """Check `amount` more fits the school's budget, holding the budget row locked until commit: two
    approvals (or an approval and an emergency grant) at once wait for each other. With `required`
    (a list's approval), no budget row is refused unless the district recorded that the program's
    lists of the semester may be approved without one (BudgetWaiver)."""
    budget = (
        Budget.objects.select_for_update()
        .filter(program_id=program_id, semester_id=semester_id, school_id=school_id)
        .first()
    )
    if budget is None:
        if required and not BudgetWaiver.objects.filter(program_id=program_id, semester_id=semester_id).exists():
            params = {
                "school": School.objects.get(pk=school_id).name,
                "program": Program.objects.get(pk=program_id).name,
                "semester": str(Semester.objects.get(pk=semester_id)),
            }
            raise ValidationError(MSG_NO_BUDGET, code="no_budget", params=params)
        return  # emergency aid, or the district's recorded decision: nothing to hold it to
    used = approved_total(program=program_id, semester=semester_id, school=school_id)
    if used + amount > budget.quota:
        raise ValidationError(MSG_BUDGET % {"quota": budget.quota, "used": used})


def emergency_propose(*, actor: Any, student: Student, semester: Semester, amount: Decimal, reason: str) -> Award:
    """临时救助: the school proposes aid for one student at any time (a short chain: the district decides)."""
    permissions.require(actor, Action.AWARD_PREPARE, student)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."))
    if not reason.strip():
        raise ValidationError(_("Describe the sudden hardship."))
    program = Program.objects.get(is_emergency=True, is_active=True)
    with transaction.atomic():
        school = School.objects.get(pk=student.school_id)
        award_list, _created = AwardList.objects.get_or_create(program=program, semester=semester, school=school)
        with trail.labelled("award.emergency_propose", reason):
            return Award.objects.create(
                award_list=award_list,
                program=program,
                semester=semester,
                student=student,
                school=school,
                grade_id=student.grade_id,
                klass_id=student.klass_id,
                amount=amount,
                reason=reason[:200],
            )


def emergency_approve(*, actor: Any, award: Award) -> Award:
    """The district approves one emergency award (within the school's emergency budget, if any)."""
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award.pk)
        permissions.require(actor, Action.AWARD_APPROVE, award)
        if award.status != AwardStatus.PROPOSED or not award.program.is_emergency:
            raise ValidationError(_("Only a proposed emergency award can be approved here."))
        _take_budget(
            program_id=award.program_id, semester_id=award.semester_id, school_id=award.school_id, amount=award.amount
        )
        award.approve()
        with trail.labelled("award.emergency_approve"):
            award.save(update_fields=["status", "updated_at"])
        _changed(award)
    return award


def award_stop(*, award: Award, reason: str) -> Award:
    """停发 / 追回 approved: the award is no longer payable. Called by the disbursements' correction
    service, inside its transaction, once a second person approved the correction."""
    award = Award.objects.select_for_update().get(pk=award.pk)
    award.stop()
    award.status_reason = reason[:200]
    award.save(update_fields=["status", "status_reason", "updated_at"])
    _changed(award)
    return award


def award_reinstate(*, award: Award) -> Award:
    """A stop or recovery was itself wrong (its reversal approved): the award is payable again."""
    award = Award.objects.select_for_update().get(pk=award.pk)
    award.reinstate()
    award.status_reason = ""
    award.save(update_fields=["status", "status_reason", "updated_at"])
    _changed(award)
    return award


def _changed(award: Award) -> None:
    send_awards_changed(semester_id=award.semester_id, school_ids=[award.school_id], program_ids=[award.program_id])
