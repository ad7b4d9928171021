"""Session keys are bearer credentials: with Redis configured (production), none is kept in the
database, where any SQL the app role runs, or a dump, would find every one of them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from schools.permissions import Role
from tests.factories import PASSWORD


@pytest.mark.skipif(not settings.REDIS_URL, reason="without Redis the database keeps the sessions (quick start)")
def test_a_signed_in_session_is_not_stored_in_the_database(world):
    client = Client()
    assert client.login(username=world.a.users[Role.DISTRICT_STAFF].username, password=PASSWORD)
    assert client.get("/").status_code == 200  # signed in, and the session found again
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_session")
        assert cursor.fetchone()[0] == 0
