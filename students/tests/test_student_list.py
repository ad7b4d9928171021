"""The student list page: its queries do not grow with the pupils shown, its order is served by the
(tenant, school, class) index, and its count stops a few pages ahead."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.paging import LookaheadPaginator
from schools.permissions import Role
from students.selectors import student_list
from tests.factories import make_student

PAGE = reverse("students:list")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(PAGE).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_query_count_does_not_grow_with_the_pupils_shown(world, tenant_of, django_assert_max_num_queries):
    client = _client(world.a.user(Role.DISTRICT_STAFF))
    few = _queries(client)  # 8 pupils in 4 classes of 2 schools
    with tenant_of(world.a.tenant):
        for key, klass in world.a.classes.items():
            for i in range(10):
                make_student(klass, name=f"more{key}{i}", region="410622")
    with django_assert_max_num_queries(few):  # 48 pupils: still one query for the page's rows
        assert client.get(PAGE).status_code == 200
    assert few <= 13  # the filter bar's schools are one query; the status tabs are kept half a minute


def test_pupils_are_grouped_by_school_and_class_and_ordered_by_name_within_a_class(world, tenant_of):
    with tenant_of(world.a.tenant):
        klass = world.a.classes["c2"]
        for name in ("丙", "甲", "乙"):
            make_student(klass, name=name, region="410622")
        rows = list(student_list(user=world.a.user(Role.DISTRICT_STAFF)))
    keys = [(s.school_id, s.klass_id) for s in rows]
    assert keys == sorted(keys)  # the index's order: a school's and a class's pupils together
    for school_id, klass_id in set(keys):
        names = [(s.name, s.pk) for s in rows if (s.school_id, s.klass_id) == (school_id, klass_id)]
        assert names == sorted(names)
    assert len(set(keys)) == len(world.a.classes)


@pytest.mark.parametrize(("page", "count", "exact"), [(1, 4, False), (2, 6, False), (4, 8, True)])
def test_a_long_list_is_counted_only_a_few_pages_ahead(world, tenant_of, page, count, exact):
    with tenant_of(world.a.tenant):
        students = student_list(user=world.a.user(Role.DISTRICT_STAFF))  # 8 pupils
        paginator = LookaheadPaginator(students, 2, lookahead=1)
        shown = paginator.get_page(page)
        assert (paginator.count, paginator.exact) == (count, exact)
        assert len(shown) == 2
        assert shown.has_next() is (page < 4)


def test_the_page_says_more_than_when_it_did_not_count_everything(world, tenant_of):
    with tenant_of(world.a.tenant):
        klass = world.a.classes["c1"]
        for i in range(600):
            make_student(klass, name=f"many{i:03d}", region="410622")
    response = _client(world.a.user(Role.DISTRICT_STAFF)).get(PAGE)
    page = response.content.decode()
    assert "超过 550 条" in page  # "more than 550 rows": 50 a page, 10 pages ahead
    assert "1 / 11+" in page
