"""Words the Chinese pages got wrong: the "Kind" of a batch, a correction and an attachment are three
different things (pgettext contexts), and a pupil has a 姓名, not a 名称."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from schools.permissions import Role
from students.identification.forms import AttachmentForm

pytestmark = pytest.mark.django_db


def _html(user, url) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_batches_and_corrections_name_their_own_kind(world):
    district = world.a.users[Role.DISTRICT_STAFF]
    batches = _html(district, f"/disbursements/?semester={world.a.semester.pk}")
    assert "<th>批次类型</th>" in batches
    corrections = _html(district, "/disbursements/corrections/")
    assert "<th>更正类型</th>" in corrections
    assert "材料类型" not in batches + corrections


def test_an_attachment_keeps_its_kind_of_material():
    with translation.override("zh-hans"):
        assert str(AttachmentForm().fields["kind"].label) == "材料类型"


def test_the_pupil_list_calls_a_pupils_name_xingming(world):
    html = _html(world.a.users[Role.SCHOOL_OFFICER], "/students/")
    assert re.search(r"<th[^>]*>(<a[^>]*>)?姓名", html)  # a sortable head is a link
    assert not re.search(r"<th[^>]*>(<a[^>]*>)?名称", html)
