"""Passwords (issue 23, item 4): at least eight characters of three of the four classes, the existing
validators kept; a password set by an administrator is changed at the next sign-in before anything
else; the demo password serves the demo only where settings allow (DEBUG)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from demo import seed as demo
from schools.door import services as door_services
from schools.door.validators import generated_password
from schools.models import User
from schools.permissions import Role
from tests.door import door_on, events, verified_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


@pytest.mark.parametrize(
    ("password", "fine"),
    [
        ("Ab1!xyz", False),  # seven characters
        ("abcdefgh12", False),  # two classes
        ("ABCDEFGH!!", False),  # two classes
        ("zhangsan2026", False),  # two classes
        ("zhangsan-2026", True),  # lower case, digits, a symbol
        ("Zhangsan2026", True),  # upper, lower, digits
        ("12345678", False),  # numeric, and one class
    ],
)
def test_three_of_four_classes_and_eight_characters(password, fine):
    if fine:
        validate_password(password, User(username="li.si"))
    else:
        with pytest.raises(ValidationError):
            validate_password(password, User(username="li.si"))


def test_a_generated_password_always_passes_the_rule():
    # create_tenant and create_region print one; a bare token_urlsafe(12) lacked a third class about one
    # time in twenty, and the command then refused its own password (a CI run failed on it).
    for _ in range(2000):
        validate_password(generated_password(), User(username="new.admin"))


def test_a_password_set_by_the_admin_is_changed_first(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    door_services.password_set_by_admin(account=teacher, actor=world.a.users[Role.TENANT_ADMIN])
    client = Client()
    assert client.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 302
    for path in ["/", "/students/", "/accounts/security/"]:
        assert client.get(path).url == "/accounts/password/", path
    weak = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": "abcdefgh12", "new_password2": "abcdefgh12"}
    )
    assert weak.status_code == 200  # refused: two classes
    changed = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "New-Pass-2027", "new_password2": "New-Pass-2027"},
    )
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    teacher.refresh_from_db()
    assert not teacher.must_change_password
    assert events(world.a.tenant, "user.password_set", teacher)
    assert events(world.a.tenant, "user.password_change", teacher)


def test_the_admin_site_password_form_requires_a_change(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    admin = verified_client(world.a.users[Role.TENANT_ADMIN])
    response = admin.post(
        f"/admin/schools/user/{teacher.pk}/password/",
        {"password1": "Set-By-Admin-1", "password2": "Set-By-Admin-1", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    teacher.refresh_from_db()
    assert teacher.must_change_password
    (event,) = events(world.a.tenant, "user.password_set", teacher)
    assert event.after == {"by": world.a.users[Role.TENANT_ADMIN].username}


def test_demo_passwords_only_where_allowed(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    door.DEMO_PASSWORDS_ALLOWED = True  # DEBUG
    demo._demo_password_only_in_debug(teacher)
    teacher.refresh_from_db()
    assert not teacher.must_change_password
    door.DEMO_PASSWORDS_ALLOWED = False  # anywhere else
    demo._demo_password_only_in_debug(teacher)
    teacher.refresh_from_db()
    assert teacher.must_change_password
