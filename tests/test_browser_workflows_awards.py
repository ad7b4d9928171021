"""In a real browser: an award list (资助名单) from the school officer's "prepare" to the district's
approval, with its publicity (公示) on the public page and one pupil taken off on the way."""

from __future__ import annotations

import datetime as dt

import pytest

from core.audit.models import AuditEvent
from core.crypto import mask
from core.tenancy.context import tenant_transaction
from funding.models import AwardList, AwardListStatus, AwardStatus, Program, Semester
from schools.permissions import Role
from tests.browser import live_today, messages_text, shared_chromium, signed_in, submit
from tests.factories import PASSWORD, build_world, make_semester
from tests.money import identify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    with shared_chromium() as b:
        yield b


@pytest.fixture
def site(live_server, fictional_2027):
    # The officer publishes "today": late in December the five working days reach into 2027.
    world = build_world()
    w = world.a
    w.users["other_tenant"] = world.b.users[Role.DISTRICT_STAFF]  # another district's funding center
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")  # the latest: the pages' default
        pupils = [*w.students["c1"], *w.students["c2"]]
        for pupil in pupils:
            identify(w, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
    return live_server.url, w, semester, program, pupils


def test_the_officer_prepares_and_publishes_a_list_and_the_district_approves_it(site, browser, monkeypatch):
    url, w, semester, program, pupils = site
    officer = signed_in(browser, url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)

    # Prepare: the list is computed from the program's rules (the identified pupils of the school).
    officer.goto(f"{url}/funding/awards/")
    form = "[data-testid=build-list]"
    officer.select_option(f"{form} select[name=school]", label=w.schools["s1"].name)
    officer.select_option(f"{form} select[name=program]", label=program.name)
    submit(officer, f"{form} button[type=submit]")
    assert "/funding/awards/" in officer.url
    assert officer.get_attribute("[data-testid=list-status]", "data-status") == AwardListStatus.DRAFT
    rows = officer.locator("[data-testid=awards] tbody tr")
    assert rows.count() == len(pupils)
    for pupil in pupils:
        assert pupil.name in officer.inner_text("[data-testid=awards]")
    list_url = officer.url

    # One pupil is taken off (moved away), with the reason; the page says so on the row.
    gone = pupils[0]
    row = rows.filter(has_text=gone.name)
    row.locator("input[name=reason]").fill("已转学")
    with officer.expect_navigation():
        row.get_by_role("button").click()
    assert "已转学" in officer.locator("[data-testid=awards] tbody tr", has_text=gone.name).inner_text()

    # Publish: the period is counted in working days from today; the public page shows masked names.
    submit(officer, "[data-testid=publish-list]")
    assert officer.get_attribute("[data-testid=list-status]", "data-status") == AwardListStatus.PUBLICITY
    assert officer.locator(".alert-success").count() == 1
    with tenant_transaction(w.tenant.pk):
        award_list = AwardList.objects.get(program=program, semester=semester, school=w.schools["s1"])
    ends = award_list.ends_on
    assert f"{ends.year}年{ends.month}月{ends.day}日" in messages_text(officer)  # the page's date format
    public = browser.new_page()  # nobody signed in
    with officer.expect_popup() as popup:
        officer.locator("[data-testid=list-status] a[href*='/p/']").click()
    public_url = popup.value.url
    popup.value.close()
    public.goto(public_url)
    notice = public.inner_text("[data-testid=notice-rows]")
    for pupil in pupils[1:]:
        assert mask(pupil.name, "name") in notice
        assert pupil.name not in notice
    # The pupil taken off before the list went public is not on it (the factory's masked names look
    # alike, so count the rows).
    assert public.locator("[data-testid=notice-rows] tbody tr").count() == len(pupils) - 1

    # The district may not approve while the list is public: the page says until when.
    district = signed_in(browser, url, w.users[Role.DISTRICT_STAFF].username, PASSWORD)
    district.goto(list_url)
    submit(district, "[data-testid=approve-list]")
    assert district.locator(".alert-danger").count() == 1
    assert award_list.ends_on.isoformat() in messages_text(district)
    assert district.get_attribute("[data-testid=list-status]", "data-status") == AwardListStatus.PUBLICITY

    # Another district's funding center finds no such list (exactly as for one that does not exist).
    stranger = signed_in(browser, url, w.users["other_tenant"].username, PASSWORD)
    assert stranger.goto(list_url).status == 404
    stranger.context.close()

    # The day after the period it approves, once the program's budgets are computed (a list is not
    # approved against no budget); the list on the overview says so too.
    live_today(monkeypatch, award_list.ends_on + dt.timedelta(days=1))
    district.goto(list_url)
    submit(district, "[data-testid=approve-list]")
    assert district.get_attribute("[data-testid=list-status]", "data-status") == AwardListStatus.PUBLICITY
    assert "预算" in messages_text(district)
    district.goto(f"{url}/funding/budgets/?semester={semester.pk}&program={program.pk}")
    submit(district, "[data-testid=budgets-compute] button[type=submit]")
    assert district.locator("[data-testid=budget-row]").count() >= 1
    district.goto(list_url)
    submit(district, "[data-testid=approve-list]")
    assert district.get_attribute("[data-testid=list-status]", "data-status") == AwardListStatus.APPROVED
    assert district.locator("[data-testid=approve-list]").count() == 0
    district.goto(f"{url}/funding/awards/?semester={semester.pk}")
    overview = district.locator("[data-testid=award-lists] tbody tr", has_text=program.name)
    assert w.schools["s1"].name in overview.inner_text()

    with tenant_transaction(w.tenant.pk):
        award_list = AwardList.objects.get(pk=award_list.pk)
        statuses = dict(award_list.awards.values_list("student_id", "status"))
        actions = set(AuditEvent.objects.filter(object_id=str(award_list.pk)).values_list("action", flat=True))
        semester = Semester.objects.get(pk=semester.pk)
    assert award_list.status == AwardListStatus.APPROVED
    assert award_list.approved_by_id == w.users[Role.DISTRICT_STAFF].pk
    assert award_list.published_by_id == w.users[Role.SCHOOL_OFFICER].pk
    assert statuses == {
        gone.pk: AwardStatus.REMOVED,
        **{p.pk: AwardStatus.APPROVED for p in pupils[1:]},
    }
    assert {"award_list.publish", "award_list.approve"} <= actions
