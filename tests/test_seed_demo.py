"""The demo: two tenants, schools of every stage, pupils with valid IDs that fit their grades, one
account per role; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import translation

from core.tenancy.context import tenant_transaction
from demo import seed as demo
from schools.models import STAGE_ENTRY_AGE, Grade, RoleAssignment, School, SchoolClass, Stage, Tenant, User
from schools.permissions import Role
from students import idcard
from students.models import Student


def _counts():
    counts = {"tenants": Tenant.objects.count(), "users": User.objects.count()}
    for tenant in Tenant.objects.all():
        with tenant_transaction(tenant.pk):
            for model in (School, Grade, SchoolClass, Student, RoleAssignment):
                counts[(tenant.slug, model.__name__)] = model.objects.count()
    return counts


def test_seed_demo_builds_the_story_and_a_second_run_adds_nothing(db):
    out = io.StringIO()
    call_command("seed_demo", scale=0.05, stdout=out)
    first = _counts()
    assert first["tenants"] == 2
    # seven roles and the system account in each tenant, the platform operator, the region's account
    assert first["users"] == 18
    for slug in ("demo-a", "demo-b"):
        assert first[(slug, "School")] == 20
        assert first[(slug, "Student")] > 200
        assert first[(slug, "RoleAssignment")] == len(Role)
    assert "demo-2026" in out.getvalue()

    call_command("seed_demo", scale=0.05, stdout=io.StringIO())
    assert _counts() == first


def test_demo_schools_cover_every_stage_and_pupils_have_valid_fitting_ids(db):
    call_command("seed_demo", scale=0.05, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        stages = {stage for school in School.objects.all() for stage in school.stages}
        assert stages == set(Stage)
        assert {s.area for s in School.objects.all()} == {"URBAN", "RURAL"}
        for student in Student.objects.select_related("grade"):
            parsed = idcard.parse(student.id_number.reveal())
            assert parsed.birth_date == student.birth_date
            assert parsed.sex.value == student.gender
            age = (
                student.grade.entry_year
                - parsed.birth_date.year
                - (parsed.birth_date >= dt.date(parsed.birth_date.year, 9, 1))
            )
            assert age == STAGE_ENTRY_AGE[Stage(student.grade.stage)], (student.grade, parsed.birth_date)
            assert str(student.student_no) == "G" + student.id_number.masked


def test_every_demo_account_holds_its_role(db):
    call_command("seed_demo", scale=0.02, stdout=io.StringIO())
    for username, slug, _label in demo.demo_usernames():
        user = User.objects.get(username=username)
        if not slug:
            assert user.is_platform_operator or user.region.name == "示例市"
            continue
        with tenant_transaction(user.tenant_id):
            roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        assert len(roles) == 1
        assert user.tenant.slug == slug


def test_the_demo_leaves_work_at_every_step_of_the_chain(db):
    from students.identification.selectors import waiting_for
    from students.models import ApplicationStatus, HardshipApplication

    call_command("seed_demo", scale=0.25, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        statuses = sorted(HardshipApplication.objects.values_list("status", flat=True))
        assert statuses.count(ApplicationStatus.IDENTIFIED) == 2
        for username in ("a.teacher", "a.grade", "a.officer", "a.district"):
            user = User.objects.get(username=username)
            assert waiting_for(user=user).count() == 2, username


def test_the_demo_tells_the_whole_semester_of_money(db):
    """Several batches, a bank return with failures, a recovery and a stop: every money page and every
    money to-do has something to show, made through the services."""
    from core import worklist
    from disbursements.models import BankReturn, Batch, Correction, Recovery
    from funding.models import Award
    from students.models import ApplicationStatus, HardshipApplication

    call_command("seed_demo", scale=0.4, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        assert HardshipApplication.objects.filter(status=ApplicationStatus.IDENTIFIED).count() > 2
        batches = {(b.kind, b.status) for b in Batch.objects.all()}
        assert batches == {("FIRST", "CLOSED"), ("REISSUE", "FROZEN")}
        answered = BankReturn.objects.get()
        assert answered.paid_count > 0
        assert answered.failed_count > 0
        assert set(Correction.objects.values_list("kind", "status")) == {("RECOVER", "APPROVED"), ("STOP", "PROPOSED")}
        assert Recovery.objects.filter(status="OPEN").count() == 1
        assert Award.objects.filter(program__is_emergency=True, status="APPROVED").count() == 1
        with translation.override("en"):
            todo = {
                name: {i.label for i in worklist.items_for(User.objects.get(username=name)) if i.kind == "todo"}
                for name in ("a.district", "a.officer")
            }
    assert "Corrections to approve" in todo["a.district"]
    assert "Batches waiting for your enrollment check" in todo["a.officer"]


def test_the_demo_pairs_teachers_with_gaps_and_overdue_visits(db):
    """1+1 pairing in demo-a: pupils who need a teacher and have none (the coverage page's gaps), two of
    the teacher's visits overdue (the teacher's home page), pupils on the watch list."""
    from care.pairing import selectors as pairing
    from core import worklist

    call_command("seed_demo", scale=0.4, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        district, teacher = User.objects.get(username="a.district"), User.objects.get(username="a.teacher")
        assert pairing.uncovered_count(user=district) >= 1
        rows = pairing.my_pairings(user=teacher)
        assert len(rows) >= 4
        assert len([r for r in rows if r.overdue]) == 2
        assert len(pairing.watch_list(user=teacher)) >= 2
        with translation.override("en"):
            labels = {i.label for i in worklist.items_for(teacher)} | {i.label for i in worklist.items_for(district)}
    assert {"Pairing visits overdue", "Pupils without a paired teacher"} <= labels


def test_demo_advance_ends_a_running_publicity_period_and_closes_the_list(db):
    from core import clock
    from core.audit.models import AuditEvent
    from students.identification import publicity, workflow
    from students.models import ApplicationStatus, HardshipApplication, Publicity, PublicNotice

    call_command("seed_demo", scale=0.25, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    officer, principal = User.objects.get(username="a.officer"), User.objects.get(username="a.principal")
    published_on = dt.date(2026, 11, 16)
    with clock.frozen_at(published_on), tenant_transaction(tenant.pk):
        app = HardshipApplication.objects.filter(status=ApplicationStatus.SCHOOL_REVIEW).order_by("pk").first()
        workflow.village_confirm(actor=officer, application=app, confirmed_by="村委会", confirmed_on=published_on)
        workflow.application_decide(actor=officer, application_id=app.pk, decision="approve")
        listing = publicity.publicity_create(actor=officer, school=app.school, academic_year=app.academic_year)
        publicity.publicity_sign(actor=principal, publicity=listing)
        listing = publicity.publicity_publish(actor=officer, publicity=listing)
    assert listing.ends_on > published_on

    out = io.StringIO()
    with clock.frozen_at(published_on + dt.timedelta(days=1)):
        call_command("demo_advance", tenant=["demo-a"], stdout=out)
    assert "1 list(s) closed" in out.getvalue()
    with tenant_transaction(tenant.pk):
        listing = Publicity.objects.get(pk=listing.pk)
        assert listing.status == "CLOSED"
        assert listing.ends_on == published_on
        assert HardshipApplication.objects.get(pk=app.pk).status == ApplicationStatus.DISTRICT_REVIEW
        assert AuditEvent.objects.filter(action="demo.advance", object_id=str(listing.pk)).exists()
    assert PublicNotice.objects.get(token=listing.notice_token).ends_on == published_on


def test_demo_advance_refuses_a_district_that_is_not_a_demo(world):
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="never a real district"):
        call_command("demo_advance", tenant=["tenant-a"], stdout=io.StringIO())


def _main_links(body: str, pattern: str) -> list[str]:
    """The links of the page's <main> whose path matches `pattern`, in page order (as a person reads it)."""
    import re

    main = re.search(r"<main\b.*?</main>", body, re.S)
    hrefs = re.findall(r'<a\b[^>]*\bhref="(/[^"]*)"', main.group(0) if main else "")
    return [h for h in hrefs if re.match(pattern, h.split("?")[0])]


def test_the_demo_teacher_finds_a_pupil_to_nominate_an_open_case_and_a_visit_due(db):
    """a.teacher's class, as the browser walk of every role's pages reads it (tests/test_browser_pages.py):
    the first pupil's file offers the nomination, the case list links an open case, the paired pupils'
    page links a visit, and that visit is due."""
    from django.test import Client

    from care.models import DropoutCase
    from care.pairing import selectors as pairing
    from core import clock

    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    call_command("seed_demo", scale=0.25, stdout=io.StringIO())
    teacher = User.objects.get(username="a.teacher")
    client = Client()
    client.force_login(teacher)

    files = _main_links(client.get("/students/").content.decode(), rf"^/students/{uuid}/$")
    assert files, "the teacher's pupil list links no pupil's file"
    assert _main_links(client.get(files[0]).content.decode(), rf"^/students/{uuid}/nominate/$")

    cases = _main_links(client.get("/care/cases/").content.decode(), rf"^/care/cases/{uuid}/$")
    assert cases, "the teacher's case list links no case"
    visits = _main_links(client.get("/care/my-pupils/").content.decode(), rf"^/care/my-pupils/{uuid}/visit/$")
    assert visits, "the teacher's paired pupils' page links no visit"

    with tenant_transaction(teacher.tenant_id):
        case = DropoutCase.objects.get(pk=cases[0].split("/")[3])
        assert case.status in ("ABSENT", "SUSPECTED")  # open: the school still has to bring the pupil back
        assert case.klass_id == RoleAssignment.objects.get(user=teacher).klass_id
        rows = pairing.my_pairings(user=teacher)
        assert any(r.due_on <= clock.today() for r in rows), "no paired pupil's visit is due"
