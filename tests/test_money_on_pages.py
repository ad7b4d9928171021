"""Money reads the same on every page: two decimals, thousands separated (core.money.format_money,
through the `money` template filter). Scans the main money pages for their money cells (`.money`)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from funding.models import Award
from schools.permissions import Role

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^\d{1,3}(,\d{3})*\.\d{2}$")


class _MoneyCells(HTMLParser):
    """The text of every element whose class list holds `money`."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.cells: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif "money" in (dict(attrs).get("class") or "").split():
            self.depth = 1
            self.cells.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.cells[-1] += data


def money_cells(html: str) -> list[str]:
    parser = _MoneyCells()
    parser.feed(html)
    return [cell.strip() for cell in parser.cells]


def _pages(w) -> list[str]:
    semester = f"?semester={w.semester.pk}"
    return [
        f"/funding/awards/{semester}",
        f"/funding/awards/{w.award_list.pk}/",
        f"/disbursements/{semester}",
        f"/disbursements/{w.batch.pk}/",
        "/disbursements/corrections/",
        f"/disbursements/ledger/{semester}",
        f"/disbursements/letters/student/{w.award.student_id}/{semester}",
    ]


def test_every_money_cell_of_the_main_pages_has_two_decimals_and_thousands_separated(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        # An amount past a thousand, and one a sum on SQLite would give back as a whole number.
        Award.objects.filter(pk=w.award.pk).update(amount="1234.50")
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    seen = []
    for url in _pages(w):
        response = client.get(url)
        assert response.status_code == 200, url
        cells = money_cells(response.content.decode())
        assert cells, f"no money cell on {url}"
        bad = [c for c in cells if c and not MONEY.match(c)]
        assert not bad, (url, bad)
        seen += cells
    assert "1,234.50" in seen
    assert "250.00" in seen
