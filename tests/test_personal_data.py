"""ID numbers: masked on every page and API response for roles that may not see them; a full view
is allowed only to the roles that need it, and is audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from audits.models import AuditEvent
from core.crypto import Sensitive, blind_index, decrypt, encrypt, mask
from schools import permissions
from schools.permissions import Action, Role
from students.models import Student
from tests.test_tenant_isolation import all_patterns, url_for

NEEDS_FULL = {Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}


def test_the_database_holds_ciphertext_only(world, tenant_of):
    student = world.a.students["c1"][0]
    full = student.id_number.reveal()
    with tenant_of(world.a.tenant):
        loaded = Student.objects.filter(pk=student.pk).values_list("id_number", flat=True).get()
        # The ORM decrypts through the field; read the columns as stored instead.
        pk = student.pk.hex if connection.vendor == "sqlite" else student.pk
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, student_no FROM students_student WHERE id = %s", [pk])
            stored_id, stored_no = cursor.fetchone()
    assert full not in stored_id
    assert full not in stored_no
    assert str(loaded) == student.id_number.masked
    assert decrypt(stored_id, context="id_number") == full


def test_sensitive_values_print_masked():
    value = Sensitive("41062220150615002X", "id_number")
    assert str(value) == "4106**********002X"
    assert f"{value}" == "4106**********002X"
    assert "41062220150615002X" not in repr(value)
    assert value.reveal() == "41062220150615002X"
    assert mask("6222021234567890123", "account") == "***************0123"
    assert mask("G41062220150615002X", "student_no") == "G4106**********002X"


def test_ciphertext_is_bound_to_its_field_kind():
    token = encrypt("41062220150615002X", context="id_number")
    with pytest.raises(Exception, match="decrypt"):
        decrypt(token, context="account")


def test_blind_index_finds_exact_numbers_only(world, tenant_of):
    student = world.a.students["c2"][1]
    with tenant_of(world.a.tenant):
        found = Student.objects.filter(id_number_hash=blind_index(student.id_number.reveal().lower(), kind="id_number"))
        assert list(found) == [student]


@pytest.mark.parametrize("role", list(Role))
def test_no_page_or_api_response_shows_a_full_number_to_a_role_that_may_not_see_it(world, tenant_of, role):
    user = world.a.users[role]
    client = Client()
    client.force_login(user)
    full_numbers = [s.id_number.reveal() for s in world.a.all_students]
    full_numbers += [s.card_account.reveal() for s in world.a.all_students]
    with tenant_of(world.a.tenant):
        full_numbers += [g.id_number.reveal() for s in world.a.all_students for g in s.guardians.all() if g.id_number]
    for _route, name in all_patterns():
        url = url_for(name, world.a) if name else None
        if url is None or name in ("students:reveal", "student-reveal"):
            continue
        response = client.get(url)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        shown = [n for n in full_numbers if n in body]
        assert not shown, f"{role} sees full ID numbers at {url}"


@pytest.mark.parametrize("role", list(Role))
def test_reveal_is_allowed_to_the_roles_that_need_it_and_audited(world, tenant_of, role):
    user = world.a.users[role]
    student = world.a.students["c1"][0]
    client = Client()
    client.force_login(user)
    page = client.post(f"/students/{student.pk}/reveal/id_number/")
    api = client.post(f"/api/v1/students/{student.pk}/reveal/?field=id_number")
    with tenant_of(world.a.tenant):
        views = AuditEvent.objects.filter(action="pii.view", object_id=str(student.pk), actor=user).count()
        may = permissions.can(user, Action.STUDENT_VIEW_PII, student)
    assert may is (role in NEEDS_FULL)
    if may:
        assert page.status_code == 200
        assert student.id_number.reveal() in page.content.decode()
        assert api.json() == {"field": "id_number", "value": student.id_number.reveal()}
        assert views == 2
    else:
        assert page.status_code in (403, 404)
        assert api.status_code in (403, 404)
        assert student.id_number.reveal() not in page.content.decode() + api.content.decode()
        assert views == 0


def test_reveal_needs_post(world):
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    assert client.get(f"/students/{world.a.students['c1'][0].pk}/reveal/id_number/").status_code == 405


def test_the_district_reveals_a_funding_card_number_audited(world, tenant_of):
    student = world.a.students["c2"][0]
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    page = client.post(f"/students/{student.pk}/reveal/card_account/")
    assert student.card_account.reveal() in page.content.decode()
    with tenant_of(world.a.tenant):
        event = AuditEvent.objects.get(action="pii.view", object_id=str(student.pk))
    assert event.after == {"field": "card_account"}
    teacher = Client()
    teacher.force_login(world.a.users[Role.CLASS_TEACHER])
    assert teacher.post(f"/students/{world.a.students['c1'][0].pk}/reveal/card_account/").status_code in (403, 404)
