"""Demo data that tells the story: two districts, their schools across every stage, ~10,000 pupils
each with valid ID numbers whose birth dates fit their grades, and one account per role.

Deterministic (a seeded random generator) and idempotent: a second run finds every school, grade,
class, pupil and account by its natural key and adds only what is missing. Inserts are set-based
(bulk_create in batches, audited in bulk).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext

from core.crypto import blind_index
from core.tenancy.context import tenant_transaction
from schools import services as school_services
from schools.models import (
    STAGE_ENTRY_AGE,
    STAGE_YEARS,
    Area,
    Grade,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    School,
    SchoolClass,
    Stage,
    Tenant,
    User,
)
from students import idcard
from students.models import EnrollmentStatus, Gender, Hukou, Student

DEMO_PASSWORD = "demo-2026"  # noqa: S105  printed for the demo, also in the README
ACADEMIC_YEAR = 2026  # autumn 2026: the 2026-2027 school year

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "子涵梓轩浩宇欣怡雨桐一诺思远佳琪俊杰诗涵博文嘉怡明轩雅婷天佑若曦铭泽语嫣晨阳可馨"
    "宇航梦瑶志强静怡建华丽娜海洋春燕国庆秀英伟明晓东"
)


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    region_code: str
    county: str
    townships: tuple[str, ...]
    user_prefix: str


TENANTS = (
    DemoTenant(
        slug="demo-a",
        name="甲县学生资助管理中心",
        region_code="410622",
        county="甲县",
        townships=("城关镇", "北阳镇", "西岗镇", "庙口镇", "高村镇", "黄洞乡", "桥盟街道", "朝歌街道"),
        user_prefix="a",
    ),
    DemoTenant(
        slug="demo-b",
        name="乙区学生资助管理中心",
        region_code="511702",
        county="乙区",
        townships=("东城街道", "西城街道", "北外镇", "罗江镇", "蒲家镇", "碑庙镇", "青宁镇", "金石镇"),
        user_prefix="b",
    ),
)


@dataclass(frozen=True)
class SchoolPlan:
    code_suffix: int
    name: str
    stages: tuple[str, ...]
    area: str
    township: str
    classes_per_grade: int


#: Pupils per class, by stage (jittered by ±5).
CLASS_SIZE = {
    Stage.PRESCHOOL: 30,
    Stage.PRIMARY: 45,
    Stage.JUNIOR: 50,
    Stage.SENIOR: 55,
    Stage.VOCATIONAL: 45,
}


def school_plans(t: DemoTenant) -> list[SchoolPlan]:
    """Twenty schools across every stage, town and country (rural schools get priority in funding)."""
    towns = t.townships
    plans = [
        SchoolPlan(1, f"{t.county}第一幼儿园", (Stage.PRESCHOOL,), Area.URBAN, towns[0], 2),
        SchoolPlan(2, f"{towns[1]}中心幼儿园", (Stage.PRESCHOOL,), Area.RURAL, towns[1], 2),
        SchoolPlan(3, f"{towns[2]}中心幼儿园", (Stage.PRESCHOOL,), Area.RURAL, towns[2], 2),
        SchoolPlan(4, f"{t.county}实验小学", (Stage.PRIMARY,), Area.URBAN, towns[0], 3),
        SchoolPlan(5, f"{towns[6]}第一小学", (Stage.PRIMARY,), Area.URBAN, towns[6], 3),
    ]
    plans += [
        SchoolPlan(6 + i, f"{town}中心小学", (Stage.PRIMARY,), Area.RURAL, town, 2) for i, town in enumerate(towns[1:7])
    ]
    plans += [
        SchoolPlan(12, f"{towns[5]}九年一贯制学校", (Stage.PRIMARY, Stage.JUNIOR), Area.RURAL, towns[5], 1),
        SchoolPlan(13, f"{t.county}第一初级中学", (Stage.JUNIOR,), Area.URBAN, towns[0], 4),
    ]
    plans += [
        SchoolPlan(14 + i, f"{town}初级中学", (Stage.JUNIOR,), Area.RURAL, town, 2) for i, town in enumerate(towns[1:5])
    ]
    plans += [
        SchoolPlan(18, f"{t.county}第一高级中学", (Stage.SENIOR,), Area.URBAN, towns[0], 5),
        SchoolPlan(19, f"{t.county}第二高级中学", (Stage.SENIOR,), Area.RURAL, towns[3], 5),
        SchoolPlan(20, f"{t.county}职业教育中心", (Stage.VOCATIONAL,), Area.URBAN, towns[7], 3),
    ]
    return plans


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        self.created[what] = self.created.get(what, 0) + n


def _school_code(t: DemoTenant, suffix: int) -> str:
    return f"3{t.region_code}{suffix:03d}"


def _birth_date(rng: random.Random, entry_year: int, stage: str) -> dt.date:
    """Entering in September at the stage's age: born from September of (year - age - 1) to August."""
    age = STAGE_ENTRY_AGE[Stage(stage)]
    start = dt.date(entry_year - age - 1, 9, 1)
    return start + dt.timedelta(days=rng.randrange(365))


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def seed_tenant(t: DemoTenant, *, scale: float, report: SeedReport, say: Callable[[str], None]) -> Tenant:
    tenant = Tenant.objects.filter(slug=t.slug).first()
    if tenant is None:
        tenant = school_services.tenant_create(slug=t.slug, name=t.name, region_code=t.region_code)
        report.add("tenants", 1)
    rng = random.Random(t.slug)  # noqa: S311  demo data, reproducible
    with tenant_transaction(tenant.pk):
        schools = _seed_structure(t, rng, report)
        _seed_students(t, rng, schools, scale, report)
        _seed_users(t, tenant, schools, report)
        _seed_identification(t, tenant, report)
        if t.slug == "demo-a":
            _seed_pairing(t, report)
            _seed_absences(t, report)
    say(f"{t.slug}: {tenant.name}")
    return tenant


def _seed_structure(t: DemoTenant, rng: random.Random, report: SeedReport) -> dict[str, School]:
    plans = school_plans(t)
    existing = {s.code: s for s in School.objects.all()}
    new_schools = [
        School(
            code=_school_code(t, p.code_suffix),
            name=p.name,
            stages=list(p.stages),
            area=p.area,
            township=p.township,
        )
        for p in plans
        if _school_code(t, p.code_suffix) not in existing
    ]
    School.objects.bulk_create(new_schools)
    report.add("schools", len(new_schools))
    schools = {s.code: s for s in School.objects.all()}

    existing_grades = {(g.school_id, g.stage, g.entry_year) for g in Grade.objects.all()}
    new_grades = [
        Grade(school=school, stage=stage, entry_year=year)
        for p in plans
        for school in [schools[_school_code(t, p.code_suffix)]]
        for stage in p.stages
        for year in range(ACADEMIC_YEAR - STAGE_YEARS[Stage(stage)] + 1, ACADEMIC_YEAR + 1)
        if (school.pk, stage, year) not in existing_grades
    ]
    Grade.objects.bulk_create(new_grades)
    report.add("grades", len(new_grades))

    existing_classes = {(k.grade_id, k.number) for k in SchoolClass.objects.all()}
    per_grade = {_school_code(t, p.code_suffix): p.classes_per_grade for p in plans}
    new_classes = [
        SchoolClass(school_id=g.school_id, grade=g, number=n)
        for g in Grade.objects.select_related("school").order_by("school__code", "stage", "entry_year")
        for n in range(1, per_grade[g.school.code] + 1)
        if (g.pk, n) not in existing_classes
    ]
    SchoolClass.objects.bulk_create(new_classes, batch_size=500)
    report.add("classes", len(new_classes))
    return schools


def _seed_students(
    t: DemoTenant, rng: random.Random, schools: dict[str, School], scale: float, report: SeedReport
) -> None:
    existing = set(Student.objects.values_list("id_number_hash", flat=True))
    used_sequences: dict[tuple[str, dt.date], int] = {}
    classes = SchoolClass.objects.select_related("school", "grade").order_by(
        "school__code", "grade__stage", "grade__entry_year", "number"
    )
    batch: list[Student] = []
    villages = [f"{c}村" for c in "东西南北前后上下新老大小"]
    boarding_rate = {Stage.JUNIOR: 0.6, Stage.SENIOR: 0.7, Stage.VOCATIONAL: 0.5, Stage.PRIMARY: 0.15}

    for klass in classes:
        school, grade = klass.school, klass.grade
        size = max(1, round((CLASS_SIZE[Stage(grade.stage)] + rng.randint(-5, 5)) * scale))
        for _ in range(size):
            birth = _birth_date(rng, grade.entry_year, grade.stage)
            # Most pupils were born in the county; some elsewhere in the province.
            region = t.region_code if rng.random() < 0.9 else t.region_code[:4] + rng.choice(("02", "03", "21", "23"))
            key = (region, birth)
            used_sequences[key] = used_sequences.get(key, rng.randrange(1, 40)) + 1
            sex = idcard.Sex.MALE if rng.random() < 0.52 else idcard.Sex.FEMALE
            number = idcard.compose(region, birth, used_sequences[key], sex)
            rural = rng.random() < (0.9 if school.area == Area.RURAL else 0.35)
            status_roll = rng.random()
            status = (
                EnrollmentStatus.SUSPENDED
                if status_roll < 0.005
                else EnrollmentStatus.DROPPED_OUT
                if status_roll < 0.008
                else EnrollmentStatus.ATTENDING
            )
            name = _name(rng)
            has_card = rng.random() < 0.97
            student = Student(
                school=school,
                grade=grade,
                klass=klass,
                name=name,
                id_number=number,
                student_no=f"G{number}",
                gender=Gender.MALE if sex is idcard.Sex.MALE else Gender.FEMALE,
                birth_date=birth,
                enrollment_status=status,
                is_boarding=school.area == Area.RURAL and rng.random() < boarding_rate.get(Stage(grade.stage), 0),
                hukou=Hukou.RURAL if rural else Hukou.URBAN,
                township=school.township,
                village=rng.choice(villages) if rural else "",
                # Most families have a funding card (a rural credit cooperative's, or a social security
                # card); the others are the "no card on record" the batches report.
                card_bank=rng.choice(("农村信用社", "农业银行", "邮政储蓄银行")) if has_card else "",
                card_account=f"6221{rng.randrange(10**14, 10**15)}" if has_card else "",
                card_holder=(name[0] + rng.choice(("建国", "秀英", "伟", "芳"))) if has_card else "",
            )
            # Every random draw happens before this test, so a second run draws the same pupils.
            if blind_index(number, kind="id_number") not in existing:
                batch.append(student)
            if len(batch) >= 2000:
                Student.objects.bulk_create(batch)
                report.add("students", len(batch))
                batch = []
    Student.objects.bulk_create(batch)
    report.add("students", len(batch))


DEMO_ROLES = (
    ("teacher", Role.CLASS_TEACHER, "李老师"),
    ("grade", Role.GRADE_LEADER, "王组长"),
    ("officer", Role.SCHOOL_OFFICER, "张专干"),
    ("principal", Role.PRINCIPAL, "赵校长"),
    ("district", Role.DISTRICT_STAFF, "陈主任"),
    ("auditor", Role.DISTRICT_AUDITOR, "刘审计"),
    ("admin", Role.TENANT_ADMIN, "周管理员"),
)


def demo_usernames() -> list[tuple[str, str, str]]:
    """(username, tenant slug or '', role label) of every demo account."""
    rows = [(f"{t.user_prefix}.{suffix}", t.slug, str(role.label)) for t in TENANTS for suffix, role, _ in DEMO_ROLES]
    # in the labels' language, like the roles
    return [*rows, ("platform", "", gettext("Platform operator")), ("region", "", gettext("Region oversight (示例市)"))]


def _seed_users(t: DemoTenant, tenant: Tenant, schools: dict[str, School], report: SeedReport) -> None:
    """One account per role. The teacher, grade leader, officer and principal share one primary
    school (its newest grade, class 1), so their home pages tell one story."""
    school = schools[_school_code(t, 4)]  # the county's experimental primary school
    grade = Grade.objects.get(school=school, stage=Stage.PRIMARY, entry_year=ACADEMIC_YEAR - 2)
    klass = SchoolClass.objects.get(grade=grade, number=1)
    units = {
        Role.CLASS_TEACHER: klass,
        Role.GRADE_LEADER: grade,
        Role.SCHOOL_OFFICER: school,
        Role.PRINCIPAL: school,
    }
    for suffix, role, full_name in DEMO_ROLES:
        username = f"{t.user_prefix}.{suffix}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = school_services.user_create(
                tenant=tenant, username=username, password=DEMO_PASSWORD, full_name=full_name, validate=False
            )
            _demo_password_only_in_debug(user)
            report.add("users", 1)
        school_services.role_assign(user=user, role=role, unit=units.get(role))


def _demo_password_only_in_debug(user: User) -> None:
    """The README's password serves the demo in DEBUG. Seeded anywhere else (a demo on a real server),
    it opens only the password change: each account chooses its own at its first sign-in."""
    if not settings.DEMO_PASSWORDS_ALLOWED:
        User.objects.filter(pk=user.pk).update(must_change_password=True)


def seed_platform_operator(report: SeedReport) -> None:
    if not User.objects.filter(username="platform").exists():
        user = school_services.user_create(
            tenant=None, username="platform", password=DEMO_PASSWORD, full_name="平台运维", validate=False
        )
        _demo_password_only_in_debug(user)
        report.add("users", 1)


#: The demo's city above both demo districts (a made-up code: no province is numbered 99).
DEMO_REGION = ("990100", "示例市")


def seed_region(report: SeedReport) -> None:
    """示例市 holding both demo districts, its oversight account `region`, and the figures it reads."""
    from oversight.region.services import district_figures_rebuild

    code, name = DEMO_REGION
    region = Region.objects.filter(code=code).first()
    if region is None:
        region = school_services.region_create(code=code, name=name, level=RegionLevel.CITY)
    for tenant in Tenant.objects.filter(slug__in=[t.slug for t in TENANTS]).exclude(region=region).order_by("slug"):
        school_services.tenant_region_set(tenant=tenant, region=region)
    if not User.objects.filter(username="region").exists():
        user = school_services.region_account_create(
            region=region, username="region", password=DEMO_PASSWORD, full_name="示例市资助中心", validate=False
        )
        _demo_password_only_in_debug(user)
        report.add("users", 1)
    district_figures_rebuild()


def seed(*, scale: float = 1.0, say: Callable[[str], None] = print) -> SeedReport:
    """Seed both demo tenants, the platform operator and the city above them; safe to run again."""
    report = SeedReport()
    for t in TENANTS:
        seed_tenant(t, scale=scale, report=report, say=say)
    seed_platform_operator(report)
    seed_region(report)
    return report


#: How many of the demo teacher's pupils stop at each step of the review chain, so that every demo
#: account finds work waiting on its home page.
IDENTIFICATION_STORY = (
    ("class", 2),  # the teacher records the class evaluation
    ("grade", 2),  # the grade leader investigates
    ("school", 2),  # the officer reviews with the village committee
    ("district", 2),  # published last month, no objection: the district re-checks
    ("identified", 2),  # identified
)


def _seed_identification(t: DemoTenant, tenant: Tenant, report: SeedReport) -> None:
    """Applications of the demo class at every step, made through the real services (so that every
    decision, publicity and audit row is what the product itself writes). Only for a tenant with none."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from schools.services import tenant_system_user
    from students.identification import publicity, workflow
    from students.models import AttachmentKind, HardshipApplication, Tier

    if HardshipApplication.objects.exists():
        return
    users = {suffix: User.objects.get(username=f"{t.user_prefix}.{suffix}") for suffix, _role, _name in DEMO_ROLES}
    teacher = users["teacher"]
    klass = SchoolClass.objects.get(pk=RoleAssignment.objects.get(user=teacher, role=Role.CLASS_TEACHER).klass_id)
    # The first pupil of the class list (the file a teacher opens first) is left for the teacher to
    # nominate: its file shows the nomination, whatever the scale.
    first = Student.objects.filter(klass=klass).order_by("name", "pk").first()
    pupils = list(
        Student.objects.filter(klass=klass, enrollment_status=EnrollmentStatus.ATTENDING)
        .exclude(pk=getattr(first, "pk", None))
        .order_by("name", "pk")
    )
    wanted = sum(n for _step, n in IDENTIFICATION_STORY)
    if len(pupils) < wanted:
        return  # a tiny demo (tests' --scale): no story
    categories = ["DIBAO", "", "LIFTED", "", "ORPHAN", "", "DISABLED_PARENT", "", "TEKUN", ""]
    apps: list[tuple[str, HardshipApplication]] = []
    steps = [step for step, n in IDENTIFICATION_STORY for _ in range(n)]
    for i, step in enumerate(steps):
        pupil = pupils[i]
        app = workflow.application_nominate(
            actor=teacher,
            student=pupil,
            academic_year=ACADEMIC_YEAR,
            data=workflow.Nomination(
                proposed_tier=Tier.DIFFICULT if i % 3 else Tier.GENERAL,
                family_situation="父母务农，收入微薄；" + ("家中有长期病人。" if i % 2 else "兄妹三人同时上学。"),
                categories=[categories[i]] if categories[i] else [],
                visit_on=dt.date(ACADEMIC_YEAR, 9, 10 + i % 10),
                visit_by=teacher.full_name,
                visit_findings="已入户核实，情况属实。",
            ),
        )
        if not app.materials_complete:  # no special category: the main proof is attached
            proof = SimpleUploadedFile("家庭经济困难证明.pdf", b"%PDF-1.4 demo proof", content_type="application/pdf")
            workflow.attachment_add(actor=teacher, application=app, kind=AttachmentKind.MAIN_PROOF, upload=proof)
        apps.append((step, app))
    moving = [(step, a) for step, a in apps if step != "class"]
    for _step, app in moving:
        workflow.application_record_details(actor=teacher, application=app, class_evaluation="班级评议小组一致同意")
        workflow.application_decide(actor=teacher, application_id=app.pk, decision="approve")
    for step, app in moving:
        if step != "grade":
            workflow.application_decide(actor=users["grade"], application_id=app.pk, decision="approve")
    extras = _nominate_more(users, pupils[wanted + 3 :], report)
    published = [a for step, a in moving if step in ("district", "identified")]
    for app in published:
        workflow.village_confirm(
            actor=users["officer"],
            application=app,
            confirmed_by="村民委员会",
            confirmed_on=dt.date(ACADEMIC_YEAR, 9, 25),
        )
        workflow.application_decide(actor=users["officer"], application_id=app.pk, decision="approve")
    school = School.objects.get(pk=klass.school_id)
    listing = publicity.publicity_create(actor=users["officer"], school=school, academic_year=ACADEMIC_YEAR)
    listing = publicity.publicity_sign(actor=users["principal"], publicity=listing)
    listing = publicity.publicity_publish(
        actor=users["officer"], publicity=listing, starts_on=dt.date(ACADEMIC_YEAR, 10, 12)
    )
    publicity.publicities_close_due(actor=tenant_system_user(tenant), today=listing.ends_on + dt.timedelta(days=1))
    for step, app in moving:
        if step == "identified":
            workflow.application_decide(actor=users["district"], application_id=app.pk, decision="approve")
    workflow.applications_decide(actor=users["district"], application_ids=[a.pk for a in extras], decision="approve")
    report.add("applications", len(apps))
    _seed_money(users, school, report)
    _seed_registry(users["district"], pupils, wanted)


#: How many more of the demo class's pupils are identified (beyond the story's two), so that the money
#: has a story to tell: a list of a few dozen, a first batch paid with failures, corrections, a reissue.
MORE_IDENTIFIED = 24


def _nominate_more(users: dict[str, User], pupils: list[Student], report: SeedReport) -> list:
    """More pupils of the demo class through the chain to the school's approval, with the bulk
    decisions the reviewers' pages use (one transaction per step); they join the publicity list and
    are identified with the story's two. At a small --scale there may be none."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from students.identification import workflow
    from students.models import AttachmentKind, Tier

    teacher = users["teacher"]
    categories = ["DIBAO", "", "", "ORPHAN", "", "", "DISABLED_PARENT", "", "TEKUN", "", "", "LIFTED"]
    apps = []
    for i, pupil in enumerate(pupils[:MORE_IDENTIFIED]):
        category = categories[i % len(categories)]
        app = workflow.application_nominate(
            actor=teacher,
            student=pupil,
            academic_year=ACADEMIC_YEAR,
            data=workflow.Nomination(
                proposed_tier=(Tier.GENERAL, Tier.DIFFICULT, Tier.DIFFICULT, Tier.SPECIAL)[i % 4],
                family_situation=("单亲家庭，母亲务工收入低。", "父亲因病丧失劳动能力。", "家中遭遇自然灾害。")[i % 3],
                categories=[category] if category else [],
                visit_on=dt.date(ACADEMIC_YEAR, 9, 11 + i % 10),
                visit_by=teacher.full_name,
                visit_findings="已入户核实，情况属实。",
            ),
        )
        if not app.materials_complete:
            proof = SimpleUploadedFile("家庭经济困难证明.pdf", b"%PDF-1.4 demo proof", content_type="application/pdf")
            workflow.attachment_add(actor=teacher, application=app, kind=AttachmentKind.MAIN_PROOF, upload=proof)
        workflow.application_record_details(actor=teacher, application=app, class_evaluation="班级评议小组一致同意")
        apps.append(app)
    ids = [a.pk for a in apps]
    workflow.applications_decide(actor=teacher, application_ids=ids, decision="approve")
    workflow.applications_decide(actor=users["grade"], application_ids=ids, decision="approve")
    for app in apps:
        workflow.village_confirm(
            actor=users["officer"],
            application=app,
            confirmed_by="村民委员会",
            confirmed_on=dt.date(ACADEMIC_YEAR, 9, 25),
        )
    workflow.applications_decide(actor=users["officer"], application_ids=ids, decision="approve")
    report.add("applications", len(apps))
    return apps


def _seed_money(users: dict[str, User], school: School, report: SeedReport) -> None:
    """The autumn semester, told through the services: the living subsidy's list of the demo school
    published and approved; the first batch checked by the school, released, exported and answered by
    the bank with two failures; a pupil who left after being paid (a recovery, approved) and a wrong
    award (a stop, waiting for the district); one failed card fixed and an emergency award, so a
    reissue batch (补发) waits for the school's enrollment check (the officer's next task)."""
    from disbursements.services import batches
    from funding.models import Program
    from funding.services import awards, budgets, semesters

    district, officer = users["district"], users["officer"]
    semester = semesters.semester_create(
        actor=district, academic_year=ACADEMIC_YEAR, term="AUTUMN", starts_on=dt.date(ACADEMIC_YEAR, 9, 1),
        ends_on=dt.date(ACADEMIC_YEAR + 1, 1, 20), deadline=dt.date(ACADEMIC_YEAR, 12, 31),
    )  # fmt: skip
    program = Program.objects.get(code="LIVING_SUBSIDY")
    budgets.budgets_compute(actor=district, program=program, semester=semester)
    award_list = awards.award_list_build(actor=officer, program=program, semester=semester, school=school)
    award_list = awards.award_list_publish(
        actor=officer, award_list=award_list, starts_on=dt.date(ACADEMIC_YEAR, 10, 26)
    )
    awards.award_list_approve(actor=district, award_list=award_list, today=award_list.ends_on + dt.timedelta(days=1))
    first = batches.batch_build(actor=district, semester=semester, kind="FIRST").batch
    if first is None:
        return
    report.add("batches", 1)
    batches.batch_confirm_school(actor=officer, batch=first, school=school, note="已逐一核实在校")
    first = batches.batch_release(actor=district, batch=first)
    failed = _bank_answers(district, first)
    report.add("bank returns", 1)
    _seed_corrections(users, semester, failed, report)
    _seed_reissue(users, semester, school, failed, report)


#: What the bank says about the lines it could not pay (code, message), in the order of the roster.
BANK_FAILURES = (("E01", "卡未激活"), ("E03", "户名不符"))


def _bank_answers(district: User, batch) -> list:
    """The bank's return (回盘) to the first batch, written from the exported roster as a bank would:
    every line paid except the last two, which failed (BANK_FAILURES). Returns the failed lines."""
    import csv
    import io

    from disbursements.models import LineStatus, PaymentLine
    from disbursements.services.exports import payment_roster
    from disbursements.services.returns import bank_return_import

    sent = io.BytesIO()
    payment_roster(actor=district, batch=batch, fmt="csv", target=sent)
    rows = list(csv.reader(io.StringIO(sent.getvalue().decode("gb18030"))))
    lines = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    # At least one line is paid, whatever the scale: a return that refuses everything tells no story.
    refused = lines[len(lines) - min(len(BANK_FAILURES), len(lines) - 1) :] if len(lines) > 1 else []
    failing = {line["业务编号"]: BANK_FAILURES[i] for i, line in enumerate(refused)}
    answer = io.StringIO()
    writer = csv.writer(answer)
    writer.writerow(["业务编号", "账号", "户名", "金额", "状态", "错误代码", "失败原因"])
    for line in lines:
        code, message = failing.get(line["业务编号"], ("0000", ""))
        status = "失败" if code != "0000" else "成功"
        writer.writerow([line["业务编号"], line["账号"], line["户名"], line["金额"], status, code, message])
    bank_return_import(
        actor=district,
        batch=batch,
        path_or_file=io.BytesIO(answer.getvalue().encode("gb18030")),
        file_name=f"回盘_{batch.number}.csv",
    )
    return list(PaymentLine.objects.filter(batch=batch, status=LineStatus.FAILED).order_by("pk"))


def _seed_corrections(users: dict[str, User], semester, failed: list, report: SeedReport) -> None:
    """Two mistakes found after the first payment: a pupil paid who had left for another county (a
    recovery, proposed by the school and approved by the district, still open) and an award the school
    finds wrong before it was paid (a stop, proposed, waiting for the district's second pair of eyes)."""
    from disbursements.models import LineStatus, PaymentLine
    from disbursements.services import corrections
    from funding.models import Award

    district, officer = users["district"], users["officer"]
    paid = PaymentLine.objects.filter(semester=semester, status=LineStatus.PAID).select_related("award")
    line = paid.order_by("pk").first()
    if line is not None:
        recover = corrections.correction_propose(
            actor=officer, award=line.award, reason="该生已于10月转学至外县，本学期补助应追回。", evidence="转学证明"
        )
        corrections.correction_decide(actor=district, correction=recover, approve=True, reason="核实无误")
        report.add("corrections", 1)
    if len(failed) > 1:  # the second failed card: not fixed, and the award turns out wrong
        wrong = Award.objects.get(pk=failed[1].award_id)
        corrections.correction_propose(
            actor=officer, award=wrong, reason="家庭经济状况已明显好转，经班级评议不再享受本学期补助。"
        )
        report.add("corrections", 1)


def _seed_reissue(users: dict[str, User], semester, school: School, failed: list, report: SeedReport) -> None:
    """补发: the first failed card is fixed (the family brought a new account) and a pupil gets emergency
    aid after a flood; the reissue batch takes both and waits for the school's enrollment check."""
    from decimal import Decimal

    from disbursements.services import batches
    from funding.services import awards

    district, officer = users["district"], users["officer"]
    if failed:
        pupil = Student.objects.get(pk=failed[0].student_id)
        pupil.card_account = (
            f"6228{pupil.card_account.reveal()[4:-1]}7" if pupil.card_account else "6228480000000000017"
        )
        pupil.card_bank = "农业银行"
        pupil.save(update_fields=["card_account", "card_account_hash", "card_bank", "updated_at"])
    flooded = (
        Student.objects.filter(school=school, enrollment_status=EnrollmentStatus.ATTENDING)
        .exclude(card_account_hash__isnull=True)
        .exclude(awards__semester=semester)
        .order_by("name", "pk")
        .first()
    )
    if flooded is not None:
        aid = awards.emergency_propose(
            actor=officer, student=flooded, semester=semester, amount=Decimal("800.00"), reason="家中房屋因暴雨受损"
        )
        awards.emergency_approve(actor=district, award=aid)
    if batches.batch_build(actor=district, semester=semester, kind="REISSUE").batch is not None:
        report.add("batches", 1)


def _seed_registry(district: User, pupils: list[Student], story: int) -> None:
    """A civil-affairs list of last month for the district to reconcile against: it names the demo
    class's 低保 pupil (identified, funded), two pupils nobody nominated (omissions to find) and the
    mother of a third (a disabled parent), among people of other districts."""
    import io

    from audits.registry.services import registry_import
    from students.models import Guardian

    rows = ["姓名,身份证号,类别,乡镇"]
    named = [pupils[0], *pupils[story : story + 2]]
    rows += [f"{p.name},{p.id_number.reveal()},低保,城关镇" for p in named]
    parent = Guardian.objects.filter(student__in=pupils[story + 2 : story + 3], id_number_hash__isnull=False).first()
    if parent is not None:
        rows.append(f"{parent.name},{parent.id_number.reveal()},残疾人,城关镇")
    rows.append("王某,110101199003077774,特困,外县")  # an adult of another district: matches no one
    data = io.BytesIO("\n".join(rows).encode("gb18030"))
    registry_import(
        actor=district, source="CIVIL", file=data, file_name="民政低保名单.csv", taken_on=dt.date(ACADEMIC_YEAR, 10, 31)
    )


def _seed_pairing(t: DemoTenant, report: SeedReport) -> None:
    """1+1 结对帮扶 in demo-a, through the services: the district pairs the demo teacher with the class's
    identified pupils except (at most) two who need a teacher (the coverage page's gaps); the teacher
    visited four families this autumn (fewer in a small demo), the first two long ago (their next visit
    is overdue on the teacher's home page); two pupils carry a risk flag (the watch list). Only for a
    tenant with no pairing yet."""
    from care.models import Pairing, RiskKind
    from care.pairing import selectors as pairing_selectors
    from care.pairing import services as pairing_services
    from core import clock
    from students.models import ApplicationStatus, HardshipApplication

    if Pairing.objects.exists():
        return
    users = {suffix: User.objects.get(username=f"{t.user_prefix}.{suffix}") for suffix, _role, _name in DEMO_ROLES}
    district, teacher = users["district"], users["teacher"]
    klass_id = RoleAssignment.objects.get(user=teacher, role=Role.CLASS_TEACHER).klass_id
    gaps = {p.pk for p in pairing_selectors.coverage(user=district).uncovered[:2]}
    identified = HardshipApplication.objects.filter(klass_id=klass_id, status=ApplicationStatus.IDENTIFIED)
    pupils = list(
        Student.objects.filter(pk__in=identified.values("student_id"), enrollment_status=EnrollmentStatus.ATTENDING)
        .exclude(pk__in=gaps)
        .order_by("name", "pk")
    )
    if not pupils:
        return  # a tiny demo (tests' --scale): no story
    result = pairing_services.pairing_assign(actor=district, teacher=teacher, student_ids=[p.pk for p in pupils])
    report.add("pairings", result.paired)
    today = clock.today()
    for i, pupil in enumerate(pupils[:4]):
        long_ago = i < 2
        pairing_services.pairing_visit_record(
            actor=teacher,
            student=pupil,
            visited_on=today - dt.timedelta(days=60 if long_ago else 20),
            met=("母亲", "祖父母", "父亲", "姑姑")[i],
            situation=("父母一方长期患病，靠低保和务农维持。", "父母在外务工，祖父母照看，住房老旧。")[i % 2],
            needs=("冬季衣物，学习用品", "课后辅导")[i % 2],
            follow_ups=("联系学校发放冬衣", "安排每周一次课后辅导")[i % 2],
            next_due_on=today - dt.timedelta(days=10) if long_ago else today + dt.timedelta(days=70),
        )
        report.add("home visits", 1)
    flags = ((RiskKind.LEFT_BEHIND, "父母在外省务工"), (RiskKind.DISTANCE, "单程步行一小时"))
    for pupil, (kind, note) in zip(pupils, flags, strict=False):  # a small demo pairs fewer than two
        pairing_services.risk_flag_set(actor=teacher, student=pupil, kind=kind, note=note)


#: School days the demo class's absent pupil has missed without a word, up to the seeding day: fewer
#: than the rules' five, so the case is open (缺勤) and its home visit due, not yet a suspected dropout.
ABSENT_DAYS = 3


def _seed_absences(t: DemoTenant, report: SeedReport) -> None:
    """控辍保学 in demo-a, through the attendance service: the demo class's last pupil on its list has
    been absent without explanation on ABSENT_DAYS school days in a row, so the teacher has an open
    case whose home visit is due (the teacher's home page and the case list). The latest such days the
    official calendar can count from (the service looks a month ahead, so late in a year whose next
    year is not loaded it takes earlier days). Only for a tenant with no case yet."""
    from django.db import transaction

    from care.models import AbsenceReason, DropoutCase
    from care.services import attendance_record
    from core import clock
    from schools.workdays import CalendarYearNotLoaded, working_days_between

    if DropoutCase.objects.exists():
        return
    teacher = User.objects.get(username=f"{t.user_prefix}.teacher")
    klass = SchoolClass.objects.get(pk=RoleAssignment.objects.get(user=teacher, role=Role.CLASS_TEACHER).klass_id)
    pupil = (
        Student.objects.filter(klass=klass, enrollment_status=EnrollmentStatus.ATTENDING)
        .order_by("-name", "-pk")
        .first()
    )
    today = clock.today()
    try:
        days = working_days_between(today - dt.timedelta(days=60), today)
    except CalendarYearNotLoaded:
        return  # a date the official calendar does not cover: no absence can be counted, none is made up
    while pupil is not None and len(days) >= ABSENT_DAYS:
        try:
            with transaction.atomic():
                for day in days[-ABSENT_DAYS:]:
                    attendance_record(
                        actor=teacher, klass=klass, day=day, absences={pupil.pk: AbsenceReason.UNEXPLAINED}
                    )
        except CalendarYearNotLoaded:
            days = days[:-1]  # counting from that day reaches a year not loaded: a day earlier
        else:
            report.add("absence cases", 1)
            return
