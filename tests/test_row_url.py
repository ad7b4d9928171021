"""`{% row_url %}` (core/templatetags/row_url.py) gives exactly what `{% url %}` gives for a row's key."""

from __future__ import annotations

import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse

from core.templatetags.row_url import row_url

ROW_URLS = [
    "students:detail",
    "students:application",
    "students:publicity",
    "funding:award_list",
    "disbursements:batch",
    "disbursements:correction_decide",
    "reconciliation:run",
    "care:case",
    "schools:detail",
    "care:attendance_class",
]


@pytest.mark.parametrize("name", ROW_URLS)
def test_the_url_of_each_row_is_the_one_reverse_gives(name):
    for _ in range(3):
        pk = uuid.uuid4()
        assert row_url(name, pk) == reverse(name, args=[pk])


def test_a_key_that_is_not_a_uuid_is_reversed_as_before():
    assert row_url("schools:calendar_year", 2026) == reverse("schools:calendar_year", args=[2026])
    with pytest.raises(NoReverseMatch):
        row_url("students:detail", "not-a-uuid")


def test_in_a_template_the_row_url_matches_the_url_tag():
    pks = [uuid.uuid4() for _ in range(5)]
    source = "{% load row_url %}{% for pk in pks %}<a href=\"{% row_url 'students:detail' pk %}\">{% endfor %}"
    expected = "{% for pk in pks %}<a href=\"{% url 'students:detail' pk %}\">{% endfor %}"
    context = Context({"pks": pks})
    assert Template(source).render(context) == Template(expected).render(context)
