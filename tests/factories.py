"""Test data built through the services (so it is scoped and audited like real data)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from care.models import (
    Absence,
    AbsenceReason,
    CareRules,
    CaseResponsible,
    CaseStep,
    ChiefRole,
    DropoutCase,
    Pairing,
    RiskFlag,
    RiskKind,
    StepKind,
    WeeklyReturn,
)
from core.tenancy.context import tenant_transaction
from disbursements.models import (
    BankLayout,
    BankReturn,
    Batch,
    BatchKind,
    BatchStatus,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    EnrollmentConfirmation,
    LineStatus,
    PaymentLine,
    Recovery,
)
from disbursements.summary import money_summary_rebuild
from funding.models import (
    Award,
    AwardList,
    AwardListStatus,
    AwardStatus,
    Budget,
    BudgetWaiver,
    Program,
    Semester,
    Term,
)
from funding.services.catalogue import standards_for_new_semester
from oversight.models import CheckFollowUp, OutreachRecord, ReportSnapshot, SpotCheck, SpotCheckLine
from schools import services
from schools.models import Area, CalendarDay, Grade, Job, Role, School, SchoolClass, Stage, Tenant, User
from students import idcard
from students.models import (
    ApplicationDecision,
    Attachment,
    AttachmentKind,
    Decision,
    Gender,
    Guardian,
    GuardianRelation,
    HardshipApplication,
    HomeVisit,
    Hukou,
    Objection,
    Publicity,
    PublicityEntry,
    StatusChange,
    Student,
    Tier,
    TierAdjustment,
    VisitPurpose,
)

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "test-pass-123"

_seq = itertools.count(1)


@dataclass
class TenantWorld:
    """One tenant: school s1 (primary: grade g1 with classes c1 and c2, grade g2 with c3) and school s2
    (junior: grade g3 with c4); two students per class; one user per role over c1 / g1 / s1."""

    tenant: Tenant
    marker: str
    schools: dict[str, School] = field(default_factory=dict)
    grades: dict[str, Grade] = field(default_factory=dict)
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    students: dict[str, list[Student]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    job: Job | None = None
    applications: dict[str, HardshipApplication] = field(default_factory=dict)
    publicity: Publicity | None = None
    other_publicity: Publicity | None = None
    objection: Objection | None = None
    attachment: Attachment | None = None
    adjustment: TierAdjustment | None = None
    semester: Semester | None = None
    budgets: dict[str, Budget] = field(default_factory=dict)
    budget_waiver: BudgetWaiver | None = None
    award_list: AwardList | None = None
    correction: Correction | None = None
    recovery: Recovery | None = None
    award: Award | None = None
    batch: Batch | None = None
    line: PaymentLine | None = None
    cases: dict[str, DropoutCase] = field(default_factory=dict)
    pairings: dict[str, Pairing] = field(default_factory=dict)
    flags: dict[str, RiskFlag] = field(default_factory=dict)
    visit: HomeVisit | None = None
    weekly_returns: dict[str, WeeklyReturn] = field(default_factory=dict)
    snapshot: ReportSnapshot | None = None
    spot_check: SpotCheck | None = None
    check_line: SpotCheckLine | None = None
    follow_up: CheckFollowUp | None = None
    outreach: dict[str, OutreachRecord] = field(default_factory=dict)

    @property
    def all_students(self) -> list[Student]:
        return [s for group in self.students.values() for s in group]

    def user(self, role: str) -> User:
        return self.users[role]


@dataclass
class World:
    a: TenantWorld
    b: TenantWorld


def make_student(klass: SchoolClass, *, name: str, region: str, **extra) -> Student:
    n = next(_seq)
    birth = dt.date(klass.grade.entry_year - 7, 1 + n % 12, 1 + n % 28)
    number = idcard.compose(region, birth, 1 + n % 400, idcard.Sex.MALE if n % 2 else idcard.Sex.FEMALE)
    student = Student(
        school_id=klass.school_id,
        grade_id=klass.grade_id,
        klass=klass,
        name=name,
        id_number=number,
        student_no=f"G{number}",
        gender=Gender.MALE if n % 2 else Gender.FEMALE,
        birth_date=birth,
        hukou=Hukou.RURAL,
        phone=f"1380000{n:04d}",
        card_bank="农村信用社",
        card_account=f"62210{n:014d}",
        card_holder=f"{name}家长",
        **extra,
    )
    student.save()
    parent_birth = dt.date(1985, 1 + n % 12, 1 + n % 28)
    Guardian.objects.create(
        student=student,
        position=1,
        name=f"{name}家长",
        relation=GuardianRelation.MOTHER,
        id_number=idcard.compose(region, parent_birth, 1 + n % 400, idcard.Sex.FEMALE),
    )
    return student


def user_with_role(tenant: Tenant, role: str, unit=None, *, username: str | None = None) -> User:
    user = services.user_create(
        tenant=tenant,
        username=username or f"{tenant.slug}-{role.lower()}-{next(_seq)}",
        password=PASSWORD,
        validate=False,
    )
    services.role_assign(user=user, role=role, unit=unit)
    return user


def build_tenant(slug: str, marker: str, region: str) -> TenantWorld:
    tenant = services.tenant_create(slug=slug, name=f"{marker} district", region_code=region)
    w = TenantWorld(tenant=tenant, marker=marker)
    with tenant_transaction(tenant.pk):
        s1 = services.school_create(
            code=f"{region}0001",
            name=f"{marker} primary",
            stages=[Stage.PRIMARY],
            area=Area.URBAN,
            township="T1",
        )
        s2 = services.school_create(
            code=f"{region}0002",
            name=f"{marker} junior",
            stages=[Stage.JUNIOR],
            area=Area.RURAL,
            township="T2",
        )
        g1 = services.grade_create(school=s1, stage=Stage.PRIMARY, entry_year=2024)
        g2 = services.grade_create(school=s1, stage=Stage.PRIMARY, entry_year=2025)
        g3 = services.grade_create(school=s2, stage=Stage.JUNIOR, entry_year=2025)
        c1, c2 = services.class_create(grade=g1, number=1), services.class_create(grade=g1, number=2)
        c3, c4 = services.class_create(grade=g2, number=1), services.class_create(grade=g3, number=1)
        w.schools = {"s1": s1, "s2": s2}
        w.grades = {"g1": g1, "g2": g2, "g3": g3}
        w.classes = {"c1": c1, "c2": c2, "c3": c3, "c4": c4}
        for key, klass in w.classes.items():
            w.students[key] = [make_student(klass, name=f"{marker}{key}pupil{i}", region=region) for i in (1, 2)]
        units = {Role.CLASS_TEACHER: c1, Role.GRADE_LEADER: g1, Role.SCHOOL_OFFICER: s1, Role.PRINCIPAL: s1}
        for role in Role:
            w.users[role] = user_with_role(tenant, role, units.get(role), username=f"{slug}-{role.lower()}")
        w.job = Job.objects.create(kind="audit_verify", actor=w.users[Role.DISTRICT_STAFF])
        StatusChange.objects.create(
            student=w.students["c1"][0], from_status="", to_status="ATTENDING", changed_on=dt.date(2024, 9, 1)
        )
        _identification_rows(w)
        _funding_rows(w)
        _care_rows(w)
        # A report snapshot (月调度), straight into the table: its figures are the report service's
        # business (oversight's tests); here it is a row of the tenant like any other.
        w.snapshot = ReportSnapshot.objects.create(
            kind="MONTHLY", period="2026-10", period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31),
            semester=w.semester, figures={"marker": marker}, fingerprint="0" * 64,
            generated_by=w.users[Role.DISTRICT_STAFF],
        )  # fmt: skip
        _oversight_rows(w)
    return w


def _oversight_rows(w: TenantWorld) -> None:
    """回访: the paid batch's sample (its one line, c1's first pupil, at school s1) with a follow-up of a
    discrepancy; 宣传: one outreach record per school (s1's with evidence)."""
    district, officer = w.users[Role.DISTRICT_STAFF], w.users[Role.SCHOOL_OFFICER]
    line = w.line
    w.spot_check = SpotCheck.objects.create(
        batch=w.batch, semester=w.semester, seed=7, size=1, population=1, drawn_by=district
    )
    w.check_line = SpotCheckLine.objects.create(
        sample=w.spot_check, line=line, student_id=line.student_id, school_id=line.school_id,
        grade_id=line.grade_id, klass_id=line.klass_id, rank=1,
    )  # fmt: skip
    w.follow_up = CheckFollowUp.objects.create(check_line=w.check_line, school_id=line.school_id)
    for key, school in w.schools.items():
        record = OutreachRecord(
            school=school, semester=w.semester, kind="LETTER", held_on=dt.date(2026, 10, 9), audience=30,
            note=f"{w.marker}宣传", recorded_by=officer,
        )  # fmt: skip
        if key == "s1":
            record.evidence_name, record.evidence_type = "photo.txt", "text/plain"
            record.evidence.save("evidence", ContentFile(b"photo"), save=False)
        record.save()
        w.outreach[key] = record


def build_world() -> World:
    # Markers with a character no CSRF token or id contains, so that a page naming one is never a coincidence.
    return World(a=build_tenant("tenant-a", "甲AQ", "410622"), b=build_tenant("tenant-b", "乙ZB", "511702"))


def make_application(student: Student, *, by: User, **extra) -> HardshipApplication:
    """An application straight into the table, in whatever state a test needs it (not via the chain)."""
    values = {
        "student": student,
        "school_id": student.school_id,
        "grade_id": student.grade_id,
        "klass_id": student.klass_id,
        "academic_year": 2026,
        "nominated_by": by,
        "proposed_tier": Tier.DIFFICULT,
        "family_situation": "父亲因病丧失劳动能力",
        **extra,
    }
    status = values.pop("status", None)
    application = HardshipApplication(**values)
    if status is not None:
        application.__dict__["status"] = status  # a factory may place it anywhere; services may not
    application.save()
    return application


def _identification_rows(w: TenantWorld) -> None:
    """One application per class; a draft publicity of s1 (and of s2) with an entry, an objection,
    an attachment, a proposed tier adjustment and a local calendar day."""
    teacher = w.users[Role.CLASS_TEACHER]
    for key, students in w.students.items():
        w.applications[key] = make_application(students[1], by=teacher)
    officer = w.users[Role.SCHOOL_OFFICER]
    w.publicity = Publicity.objects.create(
        school=w.schools["s1"], academic_year=2026, title="test list", created_by=officer
    )
    w.other_publicity = Publicity.objects.create(
        school=w.schools["s2"], academic_year=2026, title="other list", created_by=officer
    )
    PublicityEntry.objects.create(publicity=w.publicity, application=w.applications["c1"])
    w.objection = Objection.objects.create(
        publicity=w.publicity,
        content="test",
        raised_by="anonymous",
        received_on=dt.date(2026, 10, 12),
        recorded_by=officer,
    )
    attachment = Attachment(
        application=w.applications["c1"], kind=AttachmentKind.OTHER, original_name="proof.txt",
        content_type="text/plain", size=5, uploaded_by=teacher,
    )  # fmt: skip
    attachment.file.save("proof", ContentFile(b"proof"), save=False)
    attachment.save()
    w.attachment = attachment
    w.adjustment = TierAdjustment.objects.create(
        application=w.applications["c2"],
        from_tier=Tier.DIFFICULT,
        to_tier=Tier.SPECIAL,
        reason="test",
        proposed_by=officer,
    )
    ApplicationDecision.objects.create(application=w.applications["c1"], decision=Decision.NOMINATE, actor=teacher)
    CalendarDay.objects.create(date=dt.date(2026, 11, 2), is_workday=False, note="local holiday")


def make_semester(*, academic_year: int = 2026, term: str = Term.AUTUMN) -> Semester:
    """A semester with the reference standards, as semester_create makes it (current tenant)."""
    starts = dt.date(academic_year, 9, 1) if term == Term.AUTUMN else dt.date(academic_year + 1, 3, 1)
    semester = Semester.objects.create(
        academic_year=academic_year,
        term=term,
        starts_on=starts,
        ends_on=starts + dt.timedelta(days=140),
        deadline=starts + dt.timedelta(days=100),
    )
    standards_for_new_semester(semester)
    return semester


def _funding_rows(w: TenantWorld) -> None:
    """A semester, an approved award of c1's first pupil with a budget, a released batch with its line,
    a return, a stop proposal, a recovery and a bank layout: one row in every table of the money."""
    district, officer = w.users[Role.DISTRICT_STAFF], w.users[Role.SCHOOL_OFFICER]
    w.semester = make_semester()
    program = Program.objects.get(code="LIVING_SUBSIDY")
    school = w.schools["s1"]
    w.budgets = {
        key: Budget.objects.create(
            program=program, semester=w.semester, school=s, planned_students=1, planned_amount=250
        )
        for key, s in w.schools.items()
    }
    # The district's decision to approve the living subsidy without a budget (every school has one
    # here, so it changes nothing): a row in the table for the sweeps.
    w.budget_waiver = BudgetWaiver.objects.create(
        program=program, semester=w.semester, reason="test", decided_by=district
    )
    award_list = w.award_list = AwardList.objects.create(
        program=program, semester=w.semester, school=school, status=AwardListStatus.APPROVED
    )
    student = w.students["c1"][0]
    w.award = Award.objects.create(
        award_list=award_list, program=program, semester=w.semester, student=student, school=school,
        grade_id=student.grade_id, klass_id=student.klass_id, amount=250, status=AwardStatus.APPROVED, reason="test",
    )  # fmt: skip
    w.batch = Batch.objects.create(
        semester=w.semester, number=1, kind=BatchKind.FIRST, status=BatchStatus.RELEASED, created_by=district
    )
    EnrollmentConfirmation.objects.create(batch=w.batch, school=school, confirmed_by=officer)
    w.line = PaymentLine.objects.create(
        batch=w.batch, award=w.award, program=program, semester=w.semester, student=student, school=school,
        grade_id=student.grade_id, klass_id=student.klass_id, amount=250, source=program.source, bank="农村信用社",
        account=student.card_account.reveal(), holder=student.card_holder, status=LineStatus.PAID,
    )  # fmt: skip
    BankReturn.objects.create(batch=w.batch, file_name="return.csv", fingerprint="0" * 64, imported_by=district)
    correction = w.correction = Correction.objects.create(
        kind=CorrectionKind.RECOVER, award=w.award, line=w.line, school=school, amount=250, reason="test",
        proposed_by=district, status=CorrectionStatus.APPROVED,
    )  # fmt: skip
    w.recovery = Recovery.objects.create(correction=correction, line=w.line, school=school, amount=250)
    BankLayout.objects.create(bank="农村信用社", columns=[["序号", "seq"], ["姓名", "name"], ["账号", "account"]])
    # The rows above were written behind the services: the money summary's safety net sums them (a row
    # of the summary, as in every tenant).
    money_summary_rebuild()


#: A made-up 2027, for tests that need that year's calendar (the chinesecalendar package in use ends
#: with 2026, and the product never invents a year). Not the State Council's schedule: its festival is
#: fictional. Around Monday 2027-01-25: Tuesday 26 and Wednesday 27 off, Saturday 30 worked instead.
FICTIONAL_2027_CSV = """date,kind,name
2027-01-01,holiday,虚构元旦
2027-01-26,holiday,虚构节
2027-01-27,holiday,虚构节
2027-01-30,workday,虚构节
"""


def load_fictional_calendar(path, *, year: int = 2027, text: str = FICTIONAL_2027_CSV) -> None:
    """Write the fictional schedule to `path` (a file, as the platform operator would have) and load it
    with the command."""
    from django.core.management import call_command

    path.write_text(text, encoding="utf-8")
    call_command("load_official_calendar", "--year", str(year), "--file", str(path), stdout=io.StringIO())


def make_case(student: Student, *, by: User, opened_on: dt.date = dt.date(2026, 10, 12), **extra) -> DropoutCase:
    """A dropout case straight into the table, in whatever state a test needs it (not via the rules)."""
    values = {
        "student": student,
        "school_id": student.school_id,
        "grade_id": student.grade_id,
        "klass_id": student.klass_id,
        "opened_on": opened_on,
        "last_absent_on": opened_on,
        "school_notice_on": opened_on,
        "home_visit_due_on": opened_on + dt.timedelta(days=1),
        "opened_by": by,
        **extra,
    }
    status = values.pop("status", None)
    case = DropoutCase(**values)
    if status is not None:
        case.__dict__["status"] = status  # a factory may place it anywhere; services may not
    case.save()
    return case


def _care_rows(w: TenantWorld) -> None:
    """The district's rules; one suspected dropout case per class (its first pupil), with an absence,
    a home visit and a named chief on c1's."""
    teacher = w.users[Role.CLASS_TEACHER]
    CareRules.objects.create()
    for key, students in w.students.items():
        w.cases[key] = make_case(students[0], by=teacher, status="SUSPECTED", absent_days=6)
    case = w.cases["c1"]
    Absence.objects.create(
        student=case.student, school_id=case.school_id, grade_id=case.grade_id, klass_id=case.klass_id,
        absent_on=case.opened_on, reason=AbsenceReason.UNEXPLAINED, case=case, recorded_by=teacher,
    )  # fmt: skip
    CaseStep.objects.create(case=case, kind=StepKind.HOME_VISIT, done_on=case.opened_on, notes="visit", actor=teacher)
    CaseResponsible.objects.create(case=case, role=ChiefRole.VILLAGE_HEAD, name=f"{w.marker}村长", phone="13900000000")
    # Each school's weekly return of the week of 5 October (每周按时填报), submitted by s1's officer.
    for key, school in w.schools.items():
        w.weekly_returns[key] = WeeklyReturn.objects.create(
            school=school, week_start=dt.date(2026, 10, 5), due_on=dt.date(2026, 10, 10), status="SUBMITTED",
            submitted_by=w.users[Role.SCHOOL_OFFICER], submitted_at=timezone.now(),
        )  # fmt: skip

    _pairing_rows(w)


def make_pairing(student: Student, *, teacher: User, by: User, started_on: dt.date = dt.date(2026, 9, 1)) -> Pairing:
    """A pairing straight into the table (not via the service)."""
    return Pairing.objects.create(
        student=student, school_id=student.school_id, grade_id=student.grade_id, klass_id=student.klass_id,
        teacher=teacher, started_on=started_on, assigned_by=by,
    )  # fmt: skip


def _pairing_rows(w: TenantWorld) -> None:
    """1+1 pairing: each class's second pupil paired with the class teacher (of c1, school s1), a risk
    flag on each class's first pupil, and one pairing visit to c1's paired pupil."""
    teacher, officer = w.users[Role.CLASS_TEACHER], w.users[Role.SCHOOL_OFFICER]
    for key, students in w.students.items():
        w.pairings[key] = make_pairing(students[1], teacher=teacher, by=officer)
        w.flags[key] = RiskFlag.objects.create(
            student=students[0], school_id=students[0].school_id, grade_id=students[0].grade_id,
            klass_id=students[0].klass_id, kind=RiskKind.DISTANCE, note=f"{w.marker}路远", set_by=teacher,
        )  # fmt: skip
    pupil = w.pairings["c1"].student
    w.visit = HomeVisit.objects.create(
        student=pupil, school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id,
        purpose=VisitPurpose.PAIRING, visited_on=dt.date(2026, 10, 9), visitor=teacher, visitor_name="t",
        met=f"{w.marker}母亲", situation="ok", next_due_on=dt.date(2027, 1, 9), recorded_by=teacher,
    )  # fmt: skip
