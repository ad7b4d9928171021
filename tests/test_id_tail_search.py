"""The search box finds a pupil by the last digits of the ID number (issue 25, item 3), through a keyed
index of the last four characters (`Student.id_tail_hash`): four for everyone who sees the pupil (the
masked number shows them), six only for the roles that may see full numbers; scoping holds, and a role
not allowed is told so instead of being shown rows."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from core.crypto import tail_index
from schools.permissions import Role
from students.models import Student

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(body: str) -> set[str]:
    table = re.search(r'<table[^>]*data-testid="students".*?</table>', body, re.S)
    return set(re.findall(r'href="/students/([0-9a-f-]{36})/"', table.group(0))) if table else set()


def _unique_tail(w, key: str, n: int) -> tuple[Student, str]:
    """A pupil of class `key` whose last `n` characters no other pupil of the world shares."""
    numbers = {p.pk: p.id_number.reveal() for k in w.students for p in w.students[k]}
    for pupil in w.students[key]:
        tail = numbers[pupil.pk][-n:]
        if sum(1 for v in numbers.values() if v.endswith(tail)) == 1:
            return pupil, tail
    pytest.skip("every pupil of the class shares its last digits with another")


def test_the_last_four_digits_find_the_pupil_and_no_other(world):
    w = world.a
    pupil, tail = _unique_tail(w, "c1", 4)
    rows = _rows(_client(w.users[Role.DISTRICT_STAFF]).get(reverse("students:list"), {"q": tail}).content.decode())
    assert rows == {str(pupil.pk)}


def test_the_class_teacher_finds_their_pupil_by_four_digits_but_not_another_class(world):
    w = world.a
    teacher = _client(w.users[Role.CLASS_TEACHER])
    mine, tail = _unique_tail(w, "c1", 4)
    assert _rows(teacher.get(reverse("students:list"), {"q": tail}).content.decode()) == {str(mine.pk)}
    theirs, tail = _unique_tail(w, "c4", 4)
    body = teacher.get(reverse("students:list"), {"q": tail}).content.decode()
    assert _rows(body) == set()
    assert theirs.name not in body


def test_another_tenants_pupil_is_never_found_by_its_last_digits(world):
    theirs, tail = _unique_tail(world.b, "c1", 4)
    body = _client(world.a.users[Role.DISTRICT_STAFF]).get(reverse("students:list"), {"q": tail}).content.decode()
    assert str(theirs.pk) not in body
    assert theirs.name not in body


def test_six_digits_are_for_roles_that_see_full_numbers(world):
    w = world.a
    pupil, tail = _unique_tail(w, "c1", 6)
    district = _client(w.users[Role.DISTRICT_STAFF]).get(reverse("students:list"), {"q": tail}).content.decode()
    assert _rows(district) == {str(pupil.pk)}
    assert 'data-testid="search-refused"' not in district
    # The class teacher sees the pupil, but only the masked number: six digits are refused, in words.
    response = _client(w.users[Role.CLASS_TEACHER]).get(reverse("students:list"), {"q": tail})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="search-refused"' in body
    assert _rows(body) == set()


def test_the_same_search_works_on_the_other_lists_of_pupils(world):
    w = world.a
    pupil, tail = _unique_tail(w, "c1", 4)
    case = w.cases["c1"]
    if case.student_id != pupil.pk:
        pupil, tail = case.student, case.student.id_number.reveal()[-4:]
    body = _client(w.users[Role.DISTRICT_STAFF]).get(reverse("care:cases"), {"q": tail}).content.decode()
    assert reverse("care:case", kwargs={"pk": case.pk}) in body


def test_the_index_is_filled_on_write_and_by_the_backfill(world, tenant_of):
    w = world.a
    pupil = w.students["c1"][0]
    with tenant_of(w.tenant):
        stored = Student.objects.values_list("id_tail_hash", flat=True).get(pk=pupil.pk)
        assert stored == tail_index(pupil.id_number.reveal(), kind="id_number")
        Student.objects.update(id_tail_hash=None)  # as pupils written before the column existed
    out = io.StringIO()
    call_command("id_tail_backfill", tenant=w.tenant.slug, stdout=out)
    assert f"{w.tenant.slug}: " in out.getvalue()
    with tenant_of(w.tenant):
        assert not Student.objects.filter(id_tail_hash__isnull=True).exists()
        stored = Student.objects.values_list("id_tail_hash", flat=True).get(pk=pupil.pk)
    assert stored == tail_index(pupil.id_number.reveal(), kind="id_number")
