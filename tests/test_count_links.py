"""Every number on a role's home page leads to exactly its rows (issue 25, "done means"): for the
teacher, the school officer, the principal, the district center and the auditor of the test world, each
count's link is followed with the test client and the rows the page shows are counted, as a reader
would: a list's total, or the sum of the column that holds the number (an award list's pupils, a
batch's lines), or the rows of the table the link points at (recoveries).

The world is given one of every row a count can hold (a failed and a paid line, a recovered recovery,
a nomination returned to the class, an open case in each school), so that a count of 0 meeting a list of
0 rows cannot pass for a match."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from care.models import CaseStatus
from disbursements.models import LineStatus, PaymentLine, Recovery, RecoveryStatus
from disbursements.summary import money_summary_rebuild
from schools.permissions import Role
from students.models import ApplicationDecision, ApplicationStatus, Decision
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = [Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR]


@pytest.fixture
def busy_world(world, tenant_of):
    """The world with rows behind every count of every role's home page."""
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant):
        # A nomination returned to c1 (the teacher's class), and one at each step inside the school.
        for i, status in enumerate([ApplicationStatus.CLASS_EVALUATION, ApplicationStatus.SCHOOL_REVIEW]):
            pupil = factories.make_student(w.classes["c1"], name=f"退回{i}", region=w.tenant.region_code)
            application = factories.make_application(pupil, by=teacher, status=status)
            ApplicationDecision.objects.create(application=application, decision=Decision.RETURN, actor=teacher)
        pupil = factories.make_student(w.classes["c3"], name="复核中", region=w.tenant.region_code)
        factories.make_application(pupil, by=teacher, status=ApplicationStatus.DISTRICT_REVIEW)
        # Open cases in both schools, one closed (not counted as open), one in the teacher's class.
        for key, status in (("c1", CaseStatus.SUSPECTED), ("c4", CaseStatus.CONFIRMED), ("c2", CaseStatus.RETURNED)):
            pupil = factories.make_student(w.classes[key], name=f"个案{key}", region=w.tenant.region_code)
            factories.make_case(pupil, by=teacher, status=status)
        # The batch's line is paid; a second line of the same batch failed; the recovery is done.
        PaymentLine.objects.filter(pk=w.line.pk).update(status=LineStatus.PAID)
        second = PaymentLine.objects.get(pk=w.line.pk)
        second.pk = None
        second.student = w.students["c1"][1]
        second.__dict__["status"] = LineStatus.FAILED  # a factory may place it anywhere; services may not
        second.save(force_insert=True)
        Recovery.objects.filter(line=w.line).update(status=RecoveryStatus.RECOVERED, recovered_amount=Decimal("250"))
        # Written around the services, so the money summary the home page reads is rebuilt as the night's
        # safety net would (disbursements.summary): the services refresh it themselves.
        money_summary_rebuild()
    return w


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


#: a home page's counted link: its data-testid (if any), its href and its number
TILE = re.compile(
    r'<a [^>]*href="(?P<href>/[^"]*)"(?:[^>]*data-testid="(?P<key>[^"]+)")?[^>]*>(?P<body>(?:(?!</a>).)*?)</a>', re.S
)


UUID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-")


def _counted_links(body: str) -> list[tuple[str, str, int]]:
    """(key, href, count) of every link inside the role's blocks that shows a number."""
    boards = "".join(re.findall(r'<section[^>]*data-testid="board-.*?</section>', body, re.S))
    found = []
    for m in TILE.finditer(boards):
        text = re.sub(r"<[^>]+>", " ", m.group("body"))
        numbers = re.findall(r"(?<![\d-])\d+(?![\d-])", text)
        path = urlsplit(m.group("href")).path
        if not numbers or UUID.search(path):
            continue  # a named link to one item (a publicity list, a batch): no count to match
        found.append((m.group("key") or "", m.group("href").replace("&amp;", "&"), int(numbers[-1])))
    return found


def _table(body: str, testid: str) -> str:
    match = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', body, re.S)
    return match.group(0) if match else ""


def _column_sum(table: str, column: int) -> int:
    total = 0
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[-1], re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) > column:
            total += int(re.sub(r"<[^>]+>", "", cells[column]).strip() or 0)
    return total


def _rows_shown(key: str, href: str, body: str) -> int:
    """What the page at `href` shows for the count: its total, or the column the count sums."""
    path, query = urlsplit(href).path, parse_qs(urlsplit(href).query)
    if path == "/funding/awards/" and key.startswith(("listed-", "approved-")):
        table = _table(body, "award-lists")
        # Columns: school, program, status, proposed, approved, amount (a list's pupils by their state).
        approved = _column_sum(table, 4)
        return approved if key.startswith("approved-") else _column_sum(table, 3) + approved
    if path == "/disbursements/" and "line_status" in query:
        return _column_sum(_table(body, "batches"), 3)  # each batch's lines of that program and answer
    if path == "/disbursements/corrections/" and "recovery" in query:
        return len(re.findall(r"<tr>", _table(body, "recoveries").split("<tbody>", 1)[-1]))
    if path == "/oversight/checks/":
        if urlsplit(href).fragment == "follow-ups":  # the open discrepancies, one row each
            rows = re.findall(r"<tr>.*?</tr>", _table(body, "follow-ups").split("<tbody>", 1)[-1], re.S)
            return len([r for r in rows if 'colspan="5"' not in r])
        # The sampled lines still to check: every sample's "checked/sampled" per school.
        return sum(int(total) - int(done) for done, total in re.findall(r">(\d+)/(\d+)<", body))
    total = re.search(r'data-testid="list-total">\D*(\d+)', body)
    return int(total.group(1)) if total else -1  # -1: the page says no total


def test_every_home_page_count_leads_to_exactly_its_rows(busy_world):
    """One world for the five roles (building it is the slow part); every mismatch is reported."""
    problems = []
    for role in ROLES:
        client = _client(busy_world.users[role])
        links = _counted_links(client.get("/").content.decode())
        assert links, role
        for key, href, count in links:
            response = client.get(href)
            if response.status_code != 200:
                problems.append(f"{role} {key} {href}: answers {response.status_code}")
                continue
            shown = _rows_shown(key, href, response.content.decode())
            if shown != count:
                problems.append(f"{role} {key} {href}: the home page says {count}, the page shows {shown}")
    assert not problems, "\n".join(problems)

    # The links above are compared with more than zeros: each kind of count is positive somewhere.
    district = _counted_links(_client(busy_world.users[Role.DISTRICT_STAFF]).get("/").content.decode())
    hrefs = {href: n for _k, href, n in district}
    for needle in ("line_status=PAID", "line_status=FAILED", "recovery=RECOVERED", "status=review", "status=open"):
        assert any(needle in h and n for h, n in hrefs.items()), needle
    teacher = dict(
        (k, n) for k, _h, n in _counted_links(_client(busy_world.users[Role.CLASS_TEACHER]).get("/").content.decode())
    )
    assert teacher.get("returned") == 1
    auditor = _counted_links(_client(busy_world.users[Role.DISTRICT_AUDITOR]).get("/").content.decode())
    assert any("since=" in h and n for _k, h, n in auditor)


#: Worklist items that open a page of work rather than a list with a total: the teacher's paired pupils
#: (overdue visits are marked among them), the week's return (a form), pairing coverage, the admin.
NOT_LISTS = ("/care/my-pupils/", "/care/weekly/", "/care/pairing/", "/admin/")


def _work_links(body: str) -> list[tuple[str, str, int]]:
    """(label, href, count) of the "waiting for you" items."""
    section = re.search(r'<section[^>]*data-testid="work".*?</section>', body, re.S)
    found = []
    for m in TILE.finditer(section.group(0) if section else ""):
        text = re.sub(r"<[^>]+>", " ", m.group("body"))
        numbers = re.findall(r"(?<![\d-])\d+(?![\d-])", text)
        if numbers:
            found.append((" ".join(text.split()), m.group("href").replace("&amp;", "&"), int(numbers[-1])))
    return found


def test_every_waiting_item_leads_to_exactly_its_rows(busy_world):
    """The worklist ("waiting for you", whose todo items the side menu sums beside each entry)."""
    problems = []
    seen = 0
    for role in ROLES:
        client = _client(busy_world.users[role])
        for label, href, count in _work_links(client.get("/").content.decode()):
            if urlsplit(href).path.startswith(NOT_LISTS):
                continue
            seen += 1
            response = client.get(href)
            if response.status_code != 200:
                problems.append(f"{role} {label} {href}: answers {response.status_code}")
                continue
            shown = _rows_shown("", href, response.content.decode())
            if shown != count:
                problems.append(f"{role} {label} {href}: the home page says {count}, the page shows {shown}")
    assert seen
    assert not problems, "\n".join(problems)
