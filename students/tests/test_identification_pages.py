"""The identification pages tell a person what stands in their way before and after they post: a pupil
who cannot be nominated has no live button (and the form is refused on GET), and a form posted empty
says what is missing instead of nothing."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from core.clock import current_school_year as current_academic_year
from schools.permissions import Role
from students.models import ApplicationStatus, EnrollmentStatus, HardshipApplication, TierAdjustment
from tests.factories import make_application

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Nomination -----------------------------------------------------------------------------------------


def test_a_pupil_with_this_years_application_shows_no_nominate_link_but_the_reason(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        make_application(pupil, by=teacher, academic_year=current_academic_year())
    page = _client(teacher).get(f"/students/{pupil.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="nominate-link"' not in html
    assert 'data-testid="nominate-refused"' in html
    assert "该学生本学年已有困难认定申请" in html


def test_a_pupil_without_one_keeps_the_nominate_link(world):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    html = _client(teacher).get(f"/students/{pupil.pk}/").content.decode()
    assert 'data-testid="nominate-link"' in html
    assert 'data-testid="nominate-refused"' not in html


def test_the_nomination_form_is_refused_on_get_when_the_pupil_already_has_an_application(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        make_application(pupil, by=teacher, academic_year=current_academic_year())
    response = _client(teacher).get(f"/students/{pupil.pk}/nominate/")
    assert response.status_code == 302
    assert response["Location"] == f"/students/{pupil.pk}/"
    assert len(_messages(response)) == 1


def test_the_nomination_form_is_refused_on_get_for_a_pupil_who_left_school(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        pupil.enrollment_status = EnrollmentStatus.DROPPED_OUT
        pupil.save(update_fields=["enrollment_status"])
    client = _client(teacher)
    assert client.get(f"/students/{pupil.pk}/nominate/").status_code == 302
    assert 'data-testid="nominate-refused"' in client.get(f"/students/{pupil.pk}/").content.decode()


def test_a_rejected_application_does_not_block_a_new_nomination(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        make_application(pupil, by=teacher, academic_year=current_academic_year(), status=ApplicationStatus.REJECTED)
    assert _client(teacher).get(f"/students/{pupil.pk}/nominate/").status_code == 200


# --- Empty forms say what is missing --------------------------------------------------------------------


def test_an_empty_village_confirmation_says_what_is_missing(world, tenant_of):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        application = make_application(
            world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=ApplicationStatus.SCHOOL_REVIEW
        )
    response = _client(officer).post(
        f"/students/applications/{application.pk}/village/", {"confirmed_by": "  ", "confirmed_on": ""}
    )
    assert response.status_code == 302
    said = _messages(response)
    assert len(said) == 2, said  # who confirmed, and when
    with tenant_of(world.a.tenant):
        assert HardshipApplication.objects.get(pk=application.pk).village_confirmed_by == ""


def test_an_empty_tier_adjustment_proposal_says_what_is_missing(world, tenant_of):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        application = make_application(
            world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=ApplicationStatus.IDENTIFIED
        )
        before = TierAdjustment.objects.count()
    response = _client(officer).post(f"/students/applications/{application.pk}/adjust/", {"to_tier": "", "reason": ""})
    said = _messages(response)
    assert len(said) == 2, said
    with tenant_of(world.a.tenant):
        assert TierAdjustment.objects.count() == before


def test_an_empty_tier_adjustment_decision_says_what_is_missing(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    response = _client(district).post(f"/students/adjustments/{world.a.adjustment.pk}/decide/", {})
    said = _messages(response)
    assert len(said) == 1, said
    with tenant_of(world.a.tenant):
        assert TierAdjustment.objects.get(pk=world.a.adjustment.pk).status == "PROPOSED"
