"""The defaults a new district starts with fit the policy they cite (seed 001), and the district can
delete a standard row in the admin (issue 19, item 4)."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from core.audit.models import AuditEvent
from funding.models import Program, Standard
from schools.permissions import Role
from students.models import Tier
from tests.factories import make_semester


def _amounts(code: str, semester) -> dict[str, Decimal]:
    return {s.tier: s.amount for s in Standard.objects.filter(program__code=code, semester=semester)}


def test_a_new_districts_defaults_fit_the_countys_published_figures(world, tenant_of):
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2030, term="AUTUMN")
        # 普通高中国家助学金 by tier; 83 registered-poor pupils came to 83 × 1,200 in seed 001.
        assert _amounts("SENIOR_GRANT", semester) == {
            Tier.SPECIAL: Decimal("1200.00"),
            Tier.DIFFICULT: Decimal("1000.00"),
            Tier.GENERAL: Decimal("800.00"),
        }
        assert _amounts("VOCATIONAL_GRANT", semester) == {"": Decimal("1000.00")}  # whatever the tier
        nutrition = Program.objects.get(code="NUTRITION")
        assert nutrition.requires_identification
        assert nutrition.rural_schools_only
        assert not Program.objects.get(code="SOCIAL_GRANT").is_active  # an example, off until the donor's rules


def _change_form_data(response) -> dict[str, object]:
    """What the admin's change form would post back unchanged: the main form and its inlines."""
    data: dict[str, object] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = value
    return data


def test_the_district_deletes_a_standard_row_in_the_admin_audited(world, tenant_of):
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2030, term="AUTUMN")
        program = Program.objects.get(code="SENIOR_GRANT")
        doomed = Standard.objects.get(program=program, semester=semester, tier=Tier.GENERAL)
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    url = f"/admin/funding/program/{program.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = _change_form_data(page)
    formset = page.context["inline_admin_formsets"][0].formset
    index = next(i for i, f in enumerate(formset.forms) if f.instance == doomed)
    prefix = formset.prefix
    data[f"{prefix}-{index}-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_of(world.a.tenant):
        assert not Standard.objects.filter(pk=doomed.pk).exists()
        assert Standard.objects.filter(program=program, semester=semester).count() == 2
        assert AuditEvent.objects.filter(object_id=str(doomed.pk), action__endswith="delete").exists()
    # A school's officer cannot open the programs at all.
    officer = Client()
    officer.force_login(world.a.users[Role.SCHOOL_OFFICER])
    assert officer.get(url).status_code in (302, 403)
