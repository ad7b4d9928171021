"""Publicity lists (公示) and award lists (资助名单) through the API, as on the pages: drafted or built by
the school's officer, signed and published, approved by the district, through the same services with
the same permissions; a row of another tenant is "not found", a service's refusal the one error format."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from rest_framework.test import APIClient

from core import clock
from funding.models import AwardList, AwardListStatus
from schools.permissions import Role
from students.models import ApplicationStatus, Publicity, PublicityStatus
from tests.factories import make_application, make_semester
from tests.money import identify

pytestmark = pytest.mark.django_db

PUBLICITY = "/api/v1/publicity/"
AWARD_LISTS = "/api/v1/award-lists/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def officer(world):
    return _client(world.a.users[Role.SCHOOL_OFFICER])


@pytest.fixture
def waiting(world, tenant_of):
    """An application of s1 approved by the school and on no list: it waits for publicity."""
    with tenant_of(world.a.tenant):
        return make_application(
            world.a.students["c2"][0],
            by=world.a.users[Role.CLASS_TEACHER],
            status=ApplicationStatus.SCHOOL_APPROVED,
            academic_year=clock.current_school_year(),
        )


# --- Publicity lists ---------------------------------------------------------------------------------


def test_the_officer_drafts_a_publicity_list_of_the_applications_waiting(world, officer, waiting, tenant_of):
    response = officer.post(PUBLICITY, {"school": str(world.a.schools["s1"].pk)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["academic_year"], body["applications"]) == (
        PublicityStatus.DRAFT,
        clock.current_school_year(),
        [str(waiting.pk)],
    )
    assert body["title"].startswith(world.a.schools["s1"].name)
    with tenant_of(world.a.tenant):
        assert Publicity.objects.get(pk=body["id"]).created_by == world.a.users[Role.SCHOOL_OFFICER]


def test_a_drafted_list_is_signed_and_published_through_the_api(world, officer, waiting):
    school = str(world.a.schools["s1"].pk)
    created = officer.post(PUBLICITY, {"school": school, "title": "2026年认定结果公示"}, format="json").json()
    assert created["title"] == "2026年认定结果公示"
    principal = _client(world.a.users[Role.PRINCIPAL])
    assert principal.post(f"{PUBLICITY}{created['id']}/sign/").json()["status"] == PublicityStatus.SIGNED
    with clock.frozen_at(dt.date(2026, 11, 2)):
        published = officer.post(f"{PUBLICITY}{created['id']}/publish/")
    assert published.status_code == 200, published.content
    assert (published.json()["status"], published.json()["starts_on"]) == (PublicityStatus.PUBLIC, "2026-11-02")


def test_a_list_with_nothing_waiting_is_the_services_refusal(world, officer):
    response = officer.post(PUBLICITY, {"school": str(world.a.schools["s1"].pk), "academic_year": 2019}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


def test_another_tenants_school_is_refused_like_a_missing_one(world, officer, tenant_of):
    theirs = officer.post(PUBLICITY, {"school": str(world.b.schools["s1"].pk)}, format="json")
    missing = officer.post(PUBLICITY, {"school": str(uuid.uuid4())}, format="json")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert list(theirs.json()) == ["school"]
    with tenant_of(world.b.tenant):
        assert Publicity.objects.count() == 2  # the factory's two, nothing new


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"school"}),
        ({"school": "s1"}, {"school"}),
        ({"school": "{s1}", "academic_year": "this year"}, {"academic_year"}),
        ({"school": "{s1}", "academic_year": 1900}, {"academic_year"}),
        ({"school": "{s1}", "title": "x" * 101}, {"title"}),
    ],
)
def test_malformed_publicity_input_is_answered_with_field_errors(world, officer, payload, fields):
    payload = {k: v.format(s1=world.a.schools["s1"].pk) if isinstance(v, str) else v for k, v in payload.items()}
    response = officer.post(PUBLICITY, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR])
def test_only_the_schools_officer_drafts_a_publicity_list(world, waiting, role, tenant_of):
    response = _client(world.a.users[role]).post(PUBLICITY, {"school": str(world.a.schools["s1"].pk)}, format="json")
    assert response.status_code == 403
    with tenant_of(world.a.tenant):
        assert not Publicity.objects.filter(entries__application=waiting).exists()


# --- Award lists -------------------------------------------------------------------------------------


@pytest.fixture
def spring(world, tenant_of):
    """A spring semester (open) and two identified pupils of s1's class c2: eligible for the living subsidy."""
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        return semester


def _build(client, world, semester="2026-SPRING", school="s1"):
    payload = {"semester": semester, "program": "LIVING_SUBSIDY", "school": str(world.a.schools[school].pk)}
    return client.post(AWARD_LISTS, payload, format="json")


def test_an_award_list_is_built_published_and_approved_through_the_api(world, officer, spring, tenant_of):
    built = _build(officer, world)
    assert built.status_code == 200, built.content
    body = built.json()
    assert (body["status"], body["proposed"], body["approved"], body["semester"]) == (
        AwardListStatus.DRAFT,
        2,
        0,
        str(spring.pk),
    )
    assert _client(world.a.users[Role.DISTRICT_STAFF]).get(AWARD_LISTS, {"semester": str(spring.pk)}).json()[
        "results"
    ] == [body]
    with clock.frozen_at(dt.date(2026, 11, 2)):
        published = officer.post(f"{AWARD_LISTS}{body['id']}/publish/")
    assert published.status_code == 200, published.content
    assert (published.json()["status"], published.json()["starts_on"]) == (AwardListStatus.PUBLICITY, "2026-11-02")
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    with clock.frozen_at(dt.date(2026, 11, 3)):
        early = district.post(f"{AWARD_LISTS}{body['id']}/approve/")
    assert early.status_code == 400  # the publicity period is not over: the service says so
    assert list(early.json()) == ["detail"]
    # A list is not approved against no budget: the district computes the program's budgets first.
    with clock.frozen_at(dt.date(2026, 12, 1)):
        refused = district.post(f"{AWARD_LISTS}{body['id']}/approve/")
    assert refused.status_code == 400
    computed = district.post(
        "/api/v1/budgets/compute/", {"semester": str(spring.pk), "program": "LIVING_SUBSIDY"}, format="json"
    )
    assert computed.status_code == 201, computed.content
    with clock.frozen_at(dt.date(2026, 12, 1)):
        approved = district.post(f"{AWARD_LISTS}{body['id']}/approve/")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["approved"]) == (AwardListStatus.APPROVED, 2)
    awards = district.get("/api/v1/awards/", {"award_list": body["id"]}).json()["results"]
    assert {a["status"] for a in awards} == {"APPROVED"}
    assert len(awards) == 2


def test_the_semester_and_program_are_named_by_id_or_code(world, officer, spring):
    by_id = officer.post(
        AWARD_LISTS,
        {"semester": str(spring.pk), "program": "LIVING_SUBSIDY", "school": str(world.a.schools["s1"].pk)},
        format="json",
    )
    assert by_id.status_code == 200
    by_code = _build(officer, world, semester="2026-spring")
    assert by_code.status_code == 200
    assert by_code.json()["id"] == by_id.json()["id"]  # one list per school, program and semester


def test_publishing_an_empty_list_is_the_services_refusal(world, officer, tenant_of):
    with tenant_of(world.a.tenant):
        make_semester(academic_year=2026, term="SPRING")  # nobody identified: nobody eligible
    built = _build(officer, world).json()
    assert built["proposed"] == 0
    response = officer.post(f"{AWARD_LISTS}{built['id']}/publish/")
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


def test_another_tenants_rows_are_refused_like_missing_ones(world, officer, spring, tenant_of):
    theirs = officer.post(
        AWARD_LISTS,
        {"semester": str(world.b.semester.pk), "program": "NO_SUCH", "school": str(world.b.schools["s1"].pk)},
        format="json",
    )
    assert theirs.status_code == 400
    assert set(theirs.json()) == {"semester", "program", "school"}
    assert officer.post(f"{AWARD_LISTS}{world.b.award_list.pk}/publish/").status_code == 404
    assert officer.get(f"{AWARD_LISTS}{world.b.award_list.pk}/").status_code == 404
    with tenant_of(world.b.tenant):
        assert AwardList.objects.count() == 1  # the factory's


@pytest.mark.parametrize(
    ("role", "step"),
    [
        (Role.CLASS_TEACHER, "build"),
        (Role.PRINCIPAL, "build"),
        (Role.DISTRICT_STAFF, "build"),
        (Role.DISTRICT_AUDITOR, "build"),
        (Role.DISTRICT_STAFF, "publish"),
        (Role.PRINCIPAL, "publish"),
        (Role.SCHOOL_OFFICER, "approve"),
        (Role.DISTRICT_AUDITOR, "approve"),
    ],
)
def test_each_step_is_for_its_role_only(world, officer, spring, role, step, tenant_of):
    draft = _build(officer, world).json()
    client = _client(world.a.users[role])
    if step == "build":
        response = _build(client, world, school="s2")
    else:
        response = client.post(f"{AWARD_LISTS}{draft['id']}/{step}/")
    assert response.status_code == 403
    with tenant_of(world.a.tenant):
        assert AwardList.objects.get(pk=draft["id"]).status == AwardListStatus.DRAFT
        assert not AwardList.objects.filter(semester=spring, school=world.a.schools["s2"]).exists()


def test_a_school_outside_the_officers_units_is_not_found(world, officer, spring, tenant_of):
    response = _build(officer, world, school="s2")
    assert response.status_code == 400
    assert list(response.json()) == ["school"]
    with tenant_of(world.a.tenant):
        assert not AwardList.objects.filter(semester=spring).exists()


@pytest.mark.parametrize("field", ["semester", "program", "school"])
def test_a_nul_character_in_a_row_name_is_a_field_error_not_a_server_error(world, officer, spring, field):
    """Found by the schema test: PostgreSQL refuses NUL in a text parameter, and the program's code was
    looked up with it (a 500)."""
    payload = {"semester": "2026-SPRING", "program": "LIVING_SUBSIDY", "school": str(world.a.schools["s1"].pk)}
    payload[field] = payload[field][:4] + "\x00"
    response = officer.post(AWARD_LISTS, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
