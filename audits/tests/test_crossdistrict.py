"""跨区县重复资助: the platform's matching of pupils across districts by its own keyed hash of the ID
number. A pupil funded in two districts, or at school in one and funded in the other, is found; each
district is told only the other's name, the program and the semester; its reconciliation lists it; no
district's tables hold another district's numbers or any platform hash; no district session reads the
platform table, raw SQL included."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from audits.crossdistrict.services import crossdistrict_match, crossdistrict_match_start
from audits.models import (
    CrossDistrictMatch,
    CrossDistrictPass,
    Finding,
    FindingKind,
    MatchCase,
    PlatformFact,
    ReasonCode,
)
from audits.reconciliation.selectors import evidence_summary
from audits.reconciliation.services import reconciliation_run
from core.crypto import blind_index, platform_hasher
from core.tenancy.context import tenant_transaction
from funding.models import Award, AwardStatus, Program
from schools.permissions import Role
from students.models import Student
from tests.factories import TenantWorld

SEMESTER = "2026-AUTUMN"


def twin(w: TenantWorld, of: Student, *, name: str, klass: str = "c1") -> Student:
    """A pupil of district `w` with the ID number of `of` (another district's pupil): the same child on
    two registers."""
    k = w.classes[klass]
    number = of.id_number.reveal()
    pupil = Student(
        school_id=k.school_id, grade_id=k.grade_id, klass=k, name=name, id_number=number, student_no=f"G{number}",
        gender=of.gender, birth_date=of.birth_date, hukou=of.hukou,
    )  # fmt: skip
    pupil.save()
    return pupil


def fund(w: TenantWorld, pupil: Student, *, program: str = "LIVING_SUBSIDY") -> Award:
    """An approved award of the district's program for the world's semester (2026-AUTUMN)."""
    return Award.objects.create(
        award_list=w.award_list, program=Program.objects.get(code=program), semester=w.semester, student=pupil,
        school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id, amount=250,
        status=AwardStatus.APPROVED, reason="test",
    )  # fmt: skip


@pytest.fixture
def twins(world):
    """A's c1[0] holds the living subsidy in A (the world's award) and, as B's 乙双一, in B too; A's
    c2[0] attends school in A, unfunded, and is funded in B as 乙双二."""
    a, b = world.a, world.b
    funded_twice, funded_there = a.students["c1"][0], a.students["c2"][0]
    with tenant_transaction(b.tenant.pk):
        b_twice = twin(b, funded_twice, name="乙双一")
        b_there = twin(b, funded_there, name="乙双二")
        fund(b, b_twice)
        fund(b, b_there)
    return world, {"a_twice": funded_twice, "a_there": funded_there, "b_twice": b_twice, "b_there": b_there}


def told(tenant) -> set[tuple[str, str, str, str, str]]:
    """What the district's latest pass told it."""
    with tenant_transaction(tenant.pk):
        last = CrossDistrictPass.objects.order_by("-finished_at", "-pk").first()
        return {
            (str(m.student_id), m.case, m.other_district, m.program_code, m.semester_code)
            for m in CrossDistrictMatch.objects.filter(platform_pass=last)
        }


def test_a_pupil_funded_in_two_districts_and_one_at_school_here_funded_there_are_found(twins):
    world, p = twins
    a, b = world.a, world.b
    result = crossdistrict_match(semesters=[SEMESTER])
    assert result.districts == 2
    assert result.told == 2
    name_a, name_b = a.tenant.name, b.tenant.name
    assert told(a.tenant) == {
        (str(p["a_twice"].pk), MatchCase.FUNDED_TWICE, name_b, "LIVING_SUBSIDY", SEMESTER),
        (str(p["a_there"].pk), MatchCase.FUNDED_THERE, name_b, "LIVING_SUBSIDY", SEMESTER),
    }
    assert told(b.tenant) == {
        (str(p["b_twice"].pk), MatchCase.FUNDED_TWICE, name_a, "LIVING_SUBSIDY", SEMESTER),
        (str(p["b_there"].pk), MatchCase.ENROLLED_THERE, name_a, "LIVING_SUBSIDY", SEMESTER),
    }
    # Each side's award is its own (the other district's award id is never told).
    with tenant_transaction(a.tenant.pk):
        assert CrossDistrictMatch.objects.get(case=MatchCase.FUNDED_TWICE).award_id == a.award.pk
        assert CrossDistrictMatch.objects.get(case=MatchCase.FUNDED_THERE).award_id is None


def test_both_districts_find_it_on_their_reconciliation_lists_with_the_reason(twins):
    world, p = twins
    crossdistrict_match(semesters=[SEMESTER])
    for w, other, mine in ((world.a, world.b, ("a_twice", "a_there")), (world.b, world.a, ("b_twice", "b_there"))):
        with tenant_transaction(w.tenant.pk):
            run, _created = reconciliation_run(actor=w.users[Role.DISTRICT_STAFF], semester=w.semester)
            found = Finding.objects.filter(run=run, reason=ReasonCode.FUNDED_ELSEWHERE)
            assert {f.student_id for f in found} == {p[k].pk for k in mine}
            assert {f.kind for f in found} == {FindingKind.ELSEWHERE}
            for f in found:
                assert f.evidence["elsewhere"]["district"] == other.tenant.name
                assert set(f.evidence["elsewhere"]) == {"case", "district", "program", "program_name", "semester"}
                assert other.tenant.name in evidence_summary(f, {})
            # Not a stop: neither district decides alone, so no correction is proposed from it.
            assert not Finding.objects.filter(
                run=run, reason=ReasonCode.FUNDED_ELSEWHERE, kind__in=[FindingKind.STOP, FindingKind.RECOVER]
            ).exists()


def test_a_pupil_only_in_one_district_or_funded_in_another_semester_is_not_found(world):
    a, b = world.a, world.b
    with tenant_transaction(b.tenant.pk):
        # At school in both, funded in neither: not a funding question.
        twin(b, a.students["c3"][0], name="乙只在籍")
    crossdistrict_match(semesters=["2025-AUTUMN"])  # A's award is of 2026-AUTUMN: nothing funded then
    assert told(a.tenant) == set()
    assert told(b.tenant) == set()
    crossdistrict_match(semesters=[SEMESTER])
    assert told(a.tenant) == set()  # A's funded pupil is only on A's register
    assert told(b.tenant) == set()


def test_a_pass_that_finds_the_same_tells_nobody_again_and_a_change_is_told(twins):
    world, p = twins
    crossdistrict_match(semesters=[SEMESTER])
    again = crossdistrict_match(semesters=[SEMESTER])
    assert again.told == 0
    for w in (world.a, world.b):
        with tenant_transaction(w.tenant.pk):
            assert CrossDistrictPass.objects.count() == 1
    with tenant_transaction(world.b.tenant.pk):
        award = Award.objects.get(student=p["b_twice"])
        Award.objects.filter(pk=award.pk).update(status=AwardStatus.STOPPED)
    changed = crossdistrict_match(semesters=[SEMESTER])
    assert changed.told == 2
    # B's award stopped: A's funded pupil is now funded here and at school there; A's other as before.
    assert {(s, case) for s, case, *_ in told(world.a.tenant)} == {
        (str(p["a_twice"].pk), MatchCase.ENROLLED_THERE),
        (str(p["a_there"].pk), MatchCase.FUNDED_THERE),
    }


def _tenant_rows_as_text(tenant_id) -> str:
    """Every row of every tenant table the district holds, as text (raw SQL: ciphertexts and hashes as
    stored, not as the ORM would mask them)."""
    from django.apps import apps

    texts = []
    with tenant_transaction(tenant_id), connection.cursor() as cursor:
        for model in apps.get_models():
            if not any(f.name == "tenant" for f in model._meta.concrete_fields):
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            key = tenant_id.hex if connection.vendor == "sqlite" else str(tenant_id)
            cursor.execute(f"SELECT * FROM {table} WHERE tenant_id = %s", [key])  # noqa: S608
            texts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(texts)


def test_a_districts_tables_hold_no_number_or_keyed_value_of_the_others_pupils_nor_platform_hashes(twins):
    world, p = twins
    crossdistrict_match(semesters=[SEMESTER])
    platform_hash = platform_hasher()
    with tenant_transaction(world.a.tenant.pk):
        a_numbers = [s.id_number.reveal() for s in Student.objects.all()]
    with tenant_transaction(world.b.tenant.pk):
        b_numbers = [s.id_number.reveal() for s in Student.objects.all()]
    shared = {p["a_twice"].id_number.reveal(), p["a_there"].id_number.reveal()}
    for tenant, others, own in (
        (world.a.tenant, [n for n in b_numbers if n not in shared], a_numbers),
        (world.b.tenant, [n for n in a_numbers if n not in shared], b_numbers),
    ):
        text = _tenant_rows_as_text(tenant.pk).upper()
        assert blind_index(own[0], kind="id_number").upper() in text, "the scan must see the district's own keys"
        for number in others:
            assert number.upper() not in text
            assert blind_index(number, kind="id_number").upper() not in text
            assert blind_index(f"G{number}", kind="student_no").upper() not in text
        for number in others + own:
            assert platform_hash(number).upper() not in text  # no platform hash, not even of its own pupils
            assert platform_hash(number)[:32].upper() not in text


@pytest.mark.postgres
def test_no_district_session_reads_or_writes_the_platform_table_even_with_raw_sql(twins):
    world, _p = twins
    crossdistrict_match(semesters=[SEMESTER])
    table = PlatformFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  no tenant: the platform's session
        assert cursor.fetchone()[0] > 0
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])
        assert cursor.fetchone() == (True, True)
    for w in (world.a, world.b):
        with tenant_transaction(w.tenant.pk), connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"SELECT count(*) FROM {table} WHERE district_id = %s", [w.tenant.pk])  # noqa: S608
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"UPDATE {table} SET fact = fact")  # noqa: S608
            assert cursor.rowcount == 0
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            assert cursor.rowcount == 0
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(
                    f"INSERT INTO {table} (district_id, student_id, id_hash, fact, semester_code, program_code, "  # noqa: S608
                    "program_name) VALUES (%s, gen_random_uuid(), 'x', 'ENROLLED', '', '', '')",
                    [w.tenant.pk],
                )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone()[0] > 0  # nothing a district session tried changed it


def test_the_matching_is_the_platforms_own_work(world):
    with tenant_transaction(world.a.tenant.pk), pytest.raises(PermissionDenied):
        crossdistrict_match(semesters=[SEMESTER])
    with tenant_transaction(world.a.tenant.pk):
        district = world.a.users[Role.DISTRICT_STAFF]
    with pytest.raises(PermissionDenied):
        crossdistrict_match_start(actor=district)
    # The operator's start, through a real worker: test_crossdistrict_worker.py.


def test_production_refuses_to_run_without_the_platform_key():
    from tests.test_settings import PRODUCTION, _manage

    env = {k: v for k, v in PRODUCTION.items() if k != "PLATFORM_MATCH_KEY"}
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "funding.E001" in result.stderr
    assert "PLATFORM_MATCH_KEY" in result.stderr
