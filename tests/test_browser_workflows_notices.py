"""In a real browser: what the public and the families read, and what the school does about it.
Objections during a publicity period (公示异议: a parent reads the public notice and objects through
the school's office; the officer records and answers them; the list closes only once they are
answered), the printable A4 notice, and the printable letters to the families (温馨告知书)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.crypto import mask
from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from students.identification import publicity as publicity_services
from students.models import (
    ApplicationStatus,
    Decision,
    HardshipApplication,
    Objection,
    ObjectionStatus,
    Publicity,
    PublicityStatus,
)
from tests.browser import live_today, messages_text, shared_chromium, signed_in, submit
from tests.factories import PASSWORD, build_world, make_application, make_semester
from tests.money import approved_list, identify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    with shared_chromium() as b:
        yield b


@pytest.fixture
def public_list(live_server, fictional_2027):
    """A school's identification list, signed by the principal and public from today (made through the
    services: the officer's and the principal's clicks up to here have their own browser test)."""
    world = build_world()
    w = world.a
    w.users["other_tenant"] = world.b.users[Role.DISTRICT_STAFF]  # another district's funding center
    with tenant_transaction(w.tenant.pk):
        pupils = [w.students[key][0] for key in ("c1", "c2", "c3")]
        for pupil in pupils:
            make_application(pupil, by=w.users[Role.CLASS_TEACHER], status=ApplicationStatus.SCHOOL_APPROVED)
        officer = w.users[Role.SCHOOL_OFFICER]
        item = publicity_services.publicity_create(actor=officer, school=w.schools["s1"], academic_year=2026)
        item = publicity_services.publicity_sign(actor=w.users[Role.PRINCIPAL], publicity=item)
        item = publicity_services.publicity_publish(actor=officer, publicity=item)
    return live_server.url, w, item, pupils


def test_objections_to_a_public_list_are_recorded_answered_and_hold_its_closing(public_list, browser, monkeypatch):
    url, w, item, pupils = public_list
    questioned, others = pupils[0], pupils[1:]

    # A parent reads the public notice (no login): masked names, the period, where to object.
    parent = browser.new_page()
    parent.goto(f"{url}/p/{item.notice_token}/")
    notice = parent.inner_text("body")
    assert parent.locator("[data-testid=notice-rows] tbody tr").count() == len(pupils)
    assert mask(questioned.name, "name") in notice
    assert questioned.name not in notice
    assert f"{item.ends_on.year}年{item.ends_on.month}月{item.ends_on.day}日" in notice

    # They object through the school's office; the officer records it from the list's page, about one
    # pupil, and a second one about the list as a whole.
    officer = signed_in(browser, url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)
    officer.goto(f"{url}/students/publicity/")
    with officer.expect_navigation():
        officer.get_by_role("link", name=item.title).click()
    assert officer.get_attribute("[data-testid=publicity-status]", "data-status") == PublicityStatus.PUBLIC
    form = "[data-testid=objection]"
    officer.select_option(f"{form} select[name=application]", label=questioned.name)
    officer.fill(f"{form} input[name=raised_by]", "同班家长（实名）")
    officer.fill(f"{form} input[name=channel]", "看到公示后来电")
    officer.fill(f"{form} textarea[name=content]", "该生家长在县城经营商铺")
    submit(officer, f"{form} button[type=submit]")
    assert officer.locator(".alert-success").count() == 1, messages_text(officer)
    officer.fill(f"{form} input[name=raised_by]", "匿名")
    officer.fill(f"{form} input[name=channel]", "公示栏留言")
    officer.fill(f"{form} textarea[name=content]", "名单应在校门口张贴")
    submit(officer, f"{form} button[type=submit]")
    objections = officer.locator("[data-testid=objections] li")
    assert objections.count() == 2
    assert questioned.name in objections.filter(has_text="该生家长在县城经营商铺").inner_text()

    # An objection without its content is refused with a message, not recorded.
    # (The browser would stop it first: the check is lifted, as an old browser or a script would.)
    officer.locator(f"{form} textarea[name=content]").evaluate("e => e.removeAttribute('required')")
    officer.fill(f"{form} input[name=raised_by]", "匿名")
    officer.fill(f"{form} textarea[name=content]", "")
    submit(officer, f"{form} button[type=submit]")
    assert officer.locator(".alert-danger").count() == 1
    assert objections.count() == 2

    # The period is over, but an objection is still open: the list stays public until it is answered.
    live_today(monkeypatch, item.ends_on + dt.timedelta(days=1))
    officer.reload()
    assert officer.get_attribute("[data-testid=publicity-status]", "data-status") == PublicityStatus.PUBLIC

    # The officer checks and upholds the first (the pupil leaves the list), dismisses the second; with
    # the last answer the list closes and the others go on to the district.
    upheld = objections.filter(has_text="该生家长在县城经营商铺")
    upheld.locator("select[name=upheld]").select_option("1")
    upheld.locator("textarea[name=decision]").fill("经入户核实，家长经营商铺年收入较高，异议成立")
    with officer.expect_navigation():
        upheld.get_by_role("button").click()
    assert officer.locator(".alert-success").count() == 1, messages_text(officer)
    withdrawn = officer.locator("[data-testid=entries] tbody tr", has_text=questioned.name)
    assert "text-decoration-line-through" in withdrawn.get_attribute("class")
    assert officer.get_attribute("[data-testid=publicity-status]", "data-status") == PublicityStatus.PUBLIC
    dismissed = objections.filter(has_text="名单应在校门口张贴")
    dismissed.locator("select[name=upheld]").select_option("0")
    dismissed.locator("textarea[name=decision]").fill("名单已同时在校门口公示栏张贴，异议不成立")
    with officer.expect_navigation():
        dismissed.get_by_role("button").click()
    assert officer.get_attribute("[data-testid=publicity-status]", "data-status") == PublicityStatus.CLOSED
    assert officer.locator("[data-testid=objections] form").count() == 0
    assert "异议成立" in objections.filter(has_text="该生家长在县城经营商铺").inner_text()

    # The class teacher finds in the pupil's file why the pupil left the list.
    teacher = signed_in(browser, url, w.users[Role.CLASS_TEACHER].username, PASSWORD)
    teacher.goto(f"{url}/students/{questioned.pk}/")
    assert "经入户核实，家长经营商铺年收入较高，异议成立" in teacher.inner_text("main")

    # Another district sees no such list.
    stranger = signed_in(browser, url, w.users["other_tenant"].username, PASSWORD)
    assert stranger.goto(f"{url}/students/publicity/{item.pk}/").status == 404
    stranger.context.close()

    # The public page ends with the period.
    assert parent.goto(f"{url}/p/{item.notice_token}/").status == 404

    with tenant_transaction(w.tenant.pk):
        closed = Publicity.objects.get(pk=item.pk)
        statuses = dict(HardshipApplication.objects.filter(student__in=pupils).values_list("student_id", "status"))
        answers = {o.content: (o.status, o.decided_by_id) for o in Objection.objects.filter(publicity=item)}
        decisions = list(
            HardshipApplication.objects.get(student=questioned, academic_year=2026)
            .decisions.order_by("created_at", "pk")
            .values_list("decision", flat=True)
        )
    officer_id = w.users[Role.SCHOOL_OFFICER].pk
    assert closed.status == PublicityStatus.CLOSED
    assert answers == {
        "该生家长在县城经营商铺": (ObjectionStatus.UPHELD, officer_id),
        "名单应在校门口张贴": (ObjectionStatus.DISMISSED, officer_id),
    }
    assert statuses[questioned.pk] == ApplicationStatus.SCHOOL_REVIEW
    assert {statuses[p.pk] for p in others} == {ApplicationStatus.DISTRICT_REVIEW}
    assert decisions[-1] == Decision.OBJECTION_UPHELD


def test_the_printable_notice_shows_the_public_list_and_prints_without_buttons(public_list, browser):
    url, w, item, pupils = public_list
    officer = signed_in(browser, url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)
    officer.goto(f"{url}/students/publicity/{item.pk}/")
    with officer.expect_popup() as popup:
        officer.locator(f"a[href$='/students/publicity/{item.pk}/print/']").click()
    sheet = popup.value
    sheet.wait_for_load_state()
    assert item.title in sheet.inner_text("h1")
    assert sheet.locator("[data-testid=notice-rows] tbody tr").count() == len(pupils)
    assert all(p.name not in sheet.inner_text("body") for p in pupils)
    assert sheet.get_by_role("button").is_visible()
    sheet.emulate_media(media="print")
    assert not sheet.get_by_role("button").is_visible()  # the print button stays off the paper


@pytest.fixture
def funded(live_server, fictional_2027):
    """An approved living-subsidy list of the primary school for the spring semester."""
    w = build_world().a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        pupils = [*w.students["c1"], *w.students["c2"]]
        for pupil in pupils:
            identify(w, pupil)
        award_list = approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        accounts = {p.pk: p.card_account.reveal() for p in pupils}
        program_name = award_list.program.name
    return live_server.url, w, award_list, program_name, accounts


def test_the_officer_prints_a_class_letters_to_the_families(funded, browser):
    url, w, award_list, program_name, accounts = funded
    officer = signed_in(browser, url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)
    officer.goto(f"{url}/funding/awards/{award_list.pk}/")
    klass = w.classes["c2"]
    with officer.expect_popup() as popup:
        officer.locator("[data-testid=letters]").get_by_role("link", name=str(klass)).click()
    letters = popup.value
    letters.wait_for_load_state()
    assert f"/disbursements/letters/class/{klass.pk}/" in letters.url
    pages = letters.locator("[data-testid=letter]")
    assert pages.count() == len(w.students["c2"])  # one letter per funded pupil of the class, no other
    for pupil in w.students["c2"]:
        letter = pages.filter(has_text=pupil.name)
        text = letter.inner_text()
        assert program_name in text
        assert "250" in text
        assert accounts[pupil.pk][-4:] in text  # the card's last digits, never the whole number
        assert accounts[pupil.pk] not in text
    assert w.students["c1"][0].name not in letters.inner_text("body")
    # Each letter on a page of its own; the print button stays off the paper.
    assert pages.first.evaluate("e => getComputedStyle(e).breakAfter") == "page"
    letters.emulate_media(media="print")
    assert not letters.get_by_role("button").is_visible()

    # One family's letter, from the pupil's file.
    pupil = w.students["c1"][0]
    officer.goto(f"{url}/students/{pupil.pk}/")
    with officer.expect_popup() as popup:
        officer.locator("[data-testid=letter-link]").click()
    single = popup.value
    single.wait_for_load_state()
    assert single.locator("[data-testid=letter]").count() == 1
    assert pupil.name in single.inner_text("[data-testid=letter]")
