"""A small tenant where every kind of omission, error and tier mismatch is present exactly once.

Built in world.a (the fixture already holds an approved, paid living subsidy of c1's first pupil, which
is correct and must stay off every list). One CIVIL snapshot names three pupils; the errors need no
registry row (except REGISTRY_DROPPED, whose family the CIVIL list no longer names):

    NOT_IDENTIFIED    c2[0]   named as the child (低保, special), never identified
    NOT_AWARDED       c2[1]   identified, a guardian named (低保边缘, not special), no living subsidy
    TIER_TOO_LOW      tier    identified 困难, named as an orphan (孤儿: special), already awarded
    REGISTRY_DROPPED  c1[1]   identified for 低保, awarded and paid, the CIVIL list no longer names them
    LEFT_SCHOOL       c3[0]   awarded, transferred out (unpaid)
    NOT_REGISTERED    c3[1]   awarded, no registration number (unpaid)
    DOUBLE_FUNDED     c4[0]   the living subsidy and a county living subsidy (same exclusive group)
    SHARED_CARD       card1 (paid) and card2 (unpaid): unrelated pupils, one card
    FUNDED_DROPPED_OUT  case_dropout (paid): a dropout case confirmed in the semester, enrollment not yet
                      changed; status_dropout (unpaid): enrollment "dropped out". Not listed: came_back,
                      awarded, whose confirmed case ended with the return (复学).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from audits.models import FindingKind, ReasonCode
from audits.registry.services import registry_import
from care.models import CaseStatus, CaseStep, StepKind
from disbursements.models import LineStatus, PaymentLine
from funding.models import (
    Award,
    AwardList,
    AwardListStatus,
    AwardStatus,
    FundingSource,
    PaymentMethod,
    Program,
    Standard,
)
from schools.models import Stage
from schools.permissions import Role
from students import idcard
from students.models import EnrollmentStatus, HardshipApplication, Student, Tier
from tests.factories import TenantWorld, make_case, make_student
from tests.money import identify

REGION = "410622"


@dataclass
class Scenario:
    w: TenantWorld
    pupils: dict[str, Student] = field(default_factory=dict)
    awards: dict[str, Award] = field(default_factory=dict)
    county: Program | None = None
    csv: bytes = b""

    @property
    def district(self):
        return self.w.users[Role.DISTRICT_STAFF]

    def expected(self) -> set[tuple[str, str, Any]]:
        p = self.pupils
        return {
            (FindingKind.OMISSION, ReasonCode.NOT_IDENTIFIED, p["not_identified"].pk),
            (FindingKind.OMISSION, ReasonCode.NOT_AWARDED, p["not_awarded"].pk),
            (FindingKind.TIER, ReasonCode.TIER_TOO_LOW, p["tier"].pk),
            (FindingKind.RECOVER, ReasonCode.REGISTRY_DROPPED, p["dropped"].pk),
            (FindingKind.STOP, ReasonCode.LEFT_SCHOOL, p["left"].pk),
            (FindingKind.STOP, ReasonCode.NOT_REGISTERED, p["unregistered"].pk),
            (FindingKind.STOP, ReasonCode.DOUBLE_FUNDED, p["double"].pk),
            (FindingKind.RECOVER, ReasonCode.SHARED_CARD, p["card1"].pk),
            (FindingKind.STOP, ReasonCode.SHARED_CARD, p["card2"].pk),
            (FindingKind.RECOVER, ReasonCode.FUNDED_DROPPED_OUT, p["case_dropout"].pk),
            (FindingKind.STOP, ReasonCode.FUNDED_DROPPED_OUT, p["status_dropout"].pk),
        }


#: The findings that become corrections (stops and recoveries), one per award: REGISTRY_DROPPED,
#: LEFT_SCHOOL, NOT_REGISTERED, DOUBLE_FUNDED, SHARED_CARD twice, FUNDED_DROPPED_OUT twice.
CORRECTIONS_EXPECTED = 8


def award(w: TenantWorld, student: Student, program: Program, *, amount: str, application=None) -> Award:
    """An approved award, straight into the table (its list approved), like the fixture's."""
    award_list, _ = AwardList.objects.get_or_create(
        program=program, semester=w.semester, school_id=student.school_id,
        defaults={"status": AwardListStatus.APPROVED},
    )  # fmt: skip
    return Award.objects.create(
        award_list=award_list, program=program, semester=w.semester, student=student,
        school_id=student.school_id, grade_id=student.grade_id, klass_id=student.klass_id,
        application=application, tier=application.tier if application else "", amount=Decimal(amount),
        status=AwardStatus.APPROVED, reason="test",
    )  # fmt: skip


def paid_line(w: TenantWorld, a: Award) -> PaymentLine:
    """A line of the award paid in the fixture's released first batch."""
    student = Student.objects.get(pk=a.student_id)
    return PaymentLine.objects.create(
        batch=w.batch, award=a, program_id=a.program_id, semester=w.semester, student=student,
        school_id=a.school_id, grade_id=a.grade_id, klass_id=a.klass_id, amount=a.amount,
        source=a.program.source, bank="农村信用社", account=student.card_account.reveal(),
        holder=student.card_holder, status=LineStatus.PAID,
    )  # fmt: skip


def dropout_case(student: Student, teacher, *, status: str, confirmed_on: dt.date = dt.date(2026, 10, 12)):
    """A dropout case (care) confirmed on `confirmed_on`, now in `status`."""
    case = make_case(student, by=teacher, status=status, absent_days=6)
    CaseStep.objects.create(
        case=case, kind=StepKind.STATUS, done_on=confirmed_on, from_status=CaseStatus.SUSPECTED,
        to_status=CaseStatus.CONFIRMED, actor=teacher,
    )  # fmt: skip
    return case


def stranger_id() -> str:
    return idcard.compose(REGION, dt.date(1970, 5, 5), 77, idcard.Sex.MALE)


def build(w: TenantWorld) -> Scenario:
    """Call inside tenant_of(w.tenant). Builds the data and imports the CIVIL list."""
    sc = Scenario(w=w)
    p = sc.pupils
    living = Program.objects.get(code="LIVING_SUBSIDY")
    sc.county = Program.objects.create(
        code="COUNTY_LIVING", name="县级生活补助", stages=[Stage.PRIMARY, Stage.JUNIOR],
        source=FundingSource.COUNTY, payment_method=PaymentMethod.BANK, exclusive_group="LIVING",
        eligible_categories=["MARTYR_CHILD"],
    )  # fmt: skip
    Standard.objects.create(program=sc.county, semester=w.semester, amount=Decimal("300.00"))

    p["not_identified"], p["not_awarded"] = w.students["c2"]
    identify(w, p["not_awarded"], tier=Tier.DIFFICULT)

    p["tier"] = make_student(w.classes["c3"], name="档次偏低", region=REGION)
    app = identify(w, p["tier"], tier=Tier.DIFFICULT)
    sc.awards["tier"] = award(w, p["tier"], living, amount="250", application=app)
    paid_line(w, sc.awards["tier"])

    p["dropped"] = w.students["c1"][1]
    app = identify(w, p["dropped"], tier=Tier.SPECIAL)
    HardshipApplication.objects.filter(pk=app.pk).update(categories=["DIBAO"])
    app.refresh_from_db()
    sc.awards["dropped"] = award(w, p["dropped"], living, amount="250", application=app)
    paid_line(w, sc.awards["dropped"])

    p["left"], p["unregistered"] = w.students["c3"]
    sc.awards["left"] = award(w, p["left"], living, amount="250")
    Student.objects.filter(pk=p["left"].pk).update(enrollment_status=EnrollmentStatus.TRANSFERRED_OUT)
    sc.awards["unregistered"] = award(w, p["unregistered"], living, amount="250")
    Student.objects.filter(pk=p["unregistered"].pk).update(student_no=None, student_no_hash=None)

    p["double"] = w.students["c4"][0]
    sc.awards["double_kept"] = award(w, p["double"], living, amount="312.50")
    # The living subsidy came first: it stands; the county's is the second of the group.
    Award.objects.filter(pk=sc.awards["double_kept"].pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    sc.awards["double"] = award(w, p["double"], sc.county, amount="300")

    p["card1"] = make_student(w.classes["c2"], name="共卡甲", region=REGION)
    p["card2"] = make_student(w.classes["c2"], name="共卡乙", region=REGION)
    p["card2"].card_account = p["card1"].card_account.reveal()
    p["card2"].save(update_fields=["card_account", "card_account_hash", "updated_at"])
    sc.awards["card1"] = award(w, p["card1"], living, amount="250")
    paid_line(w, sc.awards["card1"])
    sc.awards["card2"] = award(w, p["card2"], living, amount="250")

    teacher = w.users[Role.CLASS_TEACHER]
    p["case_dropout"] = make_student(w.classes["c4"], name="确认辍学", region=REGION)
    sc.awards["case_dropout"] = award(w, p["case_dropout"], living, amount="250")
    paid_line(w, sc.awards["case_dropout"])
    dropout_case(p["case_dropout"], teacher, status=CaseStatus.PERSUADING)
    p["status_dropout"] = make_student(w.classes["c4"], name="学籍辍学", region=REGION)
    sc.awards["status_dropout"] = award(w, p["status_dropout"], living, amount="250")
    Student.objects.filter(pk=p["status_dropout"].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    p["came_back"] = make_student(w.classes["c4"], name="已复学", region=REGION)
    sc.awards["came_back"] = award(w, p["came_back"], living, amount="250")
    paid_line(w, sc.awards["came_back"])
    dropout_case(p["came_back"], teacher, status=CaseStatus.RETURNED)

    guardian = p["not_awarded"].guardians.get()
    rows = [
        "姓名,身份证号,类别",
        f"{p['not_identified'].name},{p['not_identified'].id_number.reveal()},低保",
        f"{guardian.name},{guardian.id_number.reveal()},低保边缘",
        f"{p['tier'].name},{p['tier'].id_number.reveal()},孤儿",
        f"路人,{stranger_id()},低保",  # names nobody at school: no finding
    ]
    sc.csv = "\n".join(rows).encode("gb18030")
    result = registry_import(actor=sc.district, source="CIVIL", file=io.BytesIO(sc.csv), file_name="民政.csv")
    assert result.created
    assert result.counts == {"rows": 4, "kept": 4, "rejected": 0}, result.rejected
    return sc


def found(run) -> set[tuple[str, str, Any]]:
    return {(f.kind, f.reason, f.student_id) for f in run.findings.all()}
