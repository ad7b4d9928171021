"""The award list's page links to the public notice only while the public page answers: after the
period (or before it) the link would be a 404, so the page says when the notice ended (or starts)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from core import clock
from funding.models import AwardList
from schools.permissions import Role

pytestmark = pytest.mark.django_db

STARTS, ENDS = dt.date(2026, 10, 12), dt.date(2026, 10, 16)


@pytest.fixture
def published(world, tenant_of):
    with tenant_of(world.a.tenant):
        AwardList.objects.filter(pk=world.a.award_list.pk).update(starts_on=STARTS, ends_on=ENDS)
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    return client, world.a.award_list


def _page(client, award_list, day) -> str:
    with clock.frozen_at(day):
        response = client.get(f"/funding/awards/{award_list.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_public_link_is_shown_on_the_last_day_of_the_notice(published):
    client, award_list = published
    html = _page(client, award_list, ENDS)
    assert f"/p/{award_list.tenant.slug}/{award_list.notice_token}/" in html


def test_after_the_period_the_page_says_the_notice_ended_instead_of_linking_to_a_404(published):
    client, award_list = published
    html = _page(client, award_list, ENDS + dt.timedelta(days=1))
    assert f"/p/{award_list.tenant.slug}/{award_list.notice_token}/" not in html
    assert 'data-testid="public-ended"' in html
    assert "2026年10月16日" in html


def test_before_the_period_the_page_says_when_the_notice_starts(published):
    client, award_list = published
    html = _page(client, award_list, STARTS - dt.timedelta(days=1))
    assert f"/p/{award_list.tenant.slug}/{award_list.notice_token}/" not in html
    assert 'data-testid="public-upcoming"' in html
