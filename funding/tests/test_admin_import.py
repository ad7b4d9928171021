"""Programs and their standards imported and exported as sheets in the program admin (django-import-export),
as the district staff: scoped to the tenant, all-or-nothing, audited."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from funding.models import Program, Standard
from schools.permissions import Role

XLSX = "0"
PROGRAMS, STANDARDS = "0", "1"  # the two sheets of the program admin (ProgramAdmin.resource_classes)
URL = "/admin/funding/program/"
STANDARD_COLUMNS = ["program", "academic_year", "term", "stage", "tier", "boarding", "amount"]


def sheet(rows: list[list[object]], name: str = "sheet.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/octet-stream")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def preview(client: Client, upload: SimpleUploadedFile, resource: str):
    return client.post(f"{URL}import/", {"import_file": upload, "format": XLSX, "resource": resource})


def import_sheet(client: Client, upload: SimpleUploadedFile, resource: str):
    response = preview(client, upload, resource)
    form = response.context.get("confirm_form")
    assert form is not None, response.content.decode()[:3000]
    return client.post(f"{URL}process_import/", {name: form.initial[name] for name in form.fields})


def standards_of(tenant) -> list[tuple]:
    with tenant_transaction(tenant.pk):
        return sorted(
            Standard.objects.values_list("program__code", "semester_id", "stage", "tier", "boarding", "amount")
        )


def test_district_staff_import_programs_by_code_or_label(world):
    client = client_of(world.a.users[Role.DISTRICT_STAFF])
    upload = sheet(
        [
            ["code", "name", "stages", "source", "payment_method", "eligible_tiers", "rural_schools_only"],
            ["TOWN_GRANT", "乡镇助学金", "小学、JUNIOR", "县级", "BANK", "特别困难,困难", "是"],
            ["LIVING_SUBSIDY", "生活补助（改名）", "小学,初中", "CENTRAL", "打卡发放", "", "否"],
        ],
        name="programs.xlsx",
    )
    response = import_sheet(client, upload, PROGRAMS)
    assert response.status_code == 302
    with tenant_transaction(world.a.tenant.pk):
        town = Program.objects.get(code="TOWN_GRANT")
        assert (town.stages, town.source, town.payment_method) == (["PRIMARY", "JUNIOR"], "COUNTY", "BANK")
        assert (town.eligible_tiers, town.rural_schools_only, town.is_active) == (["SPECIAL", "DIFFICULT"], True, True)
        assert Program.objects.get(code="LIVING_SUBSIDY").name == "生活补助（改名）"
        assert AuditEvent.objects.filter(action="admin.import", reason="programs.xlsx", object_id=str(town.pk)).exists()
    with tenant_transaction(world.b.tenant.pk):
        assert not Program.objects.filter(code="TOWN_GRANT").exists()
        assert Program.objects.get(code="LIVING_SUBSIDY").name != "生活补助（改名）"


def test_district_staff_import_standards_for_a_program_and_semester(world):
    client = client_of(world.a.users[Role.DISTRICT_STAFF])
    before_b = standards_of(world.b.tenant)
    upload = sheet(
        [
            STANDARD_COLUMNS,
            ["LIVING_SUBSIDY", 2026, "秋季学期", "小学", "", "寄宿生", "600"],  # updates the 500 of the defaults
            ["LIVING_SUBSIDY", 2026, "AUTUMN", "PRIMARY", "特别困难", "Y", 650.5],  # a new, more specific row
        ],
        name="standards-2026.xlsx",
    )
    response = import_sheet(client, upload, STANDARDS)
    assert response.status_code == 302
    semester = world.a.semester
    with tenant_transaction(world.a.tenant.pk):
        rows = Standard.objects.filter(program__code="LIVING_SUBSIDY", semester=semester, stage="PRIMARY", boarding="Y")
        assert {r.tier: r.amount for r in rows} == {"": Decimal("600.00"), "SPECIAL": Decimal("650.50")}
        assert AuditEvent.objects.filter(action="admin.import", object_type="funding.standard").count() == 2
    assert standards_of(world.b.tenant) == before_b


def test_a_standard_naming_another_tenants_program_or_a_bad_value_changes_nothing(world):
    with tenant_transaction(world.b.tenant.pk):
        Program.objects.create(
            code="B_ONLY", name="乙的项目", stages=["PRIMARY"], source="COUNTY", payment_method="BANK"
        )
    before_a, before_b = standards_of(world.a.tenant), standards_of(world.b.tenant)
    client = client_of(world.a.users[Role.DISTRICT_STAFF])
    upload = sheet(
        [
            STANDARD_COLUMNS,
            ["LIVING_SUBSIDY", 2026, "AUTUMN", "PRIMARY", "", "Y", "600"],  # fine on its own
            ["B_ONLY", 2026, "AUTUMN", "", "", "", "100"],  # tenant B's program
            ["LIVING_SUBSIDY", 2031, "SPRING", "", "", "", "100"],  # no such semester
            ["LIVING_SUBSIDY", 2026, "AUTUMN", "JUNIOR", "", "Y", "六百"],  # not an amount
            ["LIVING_SUBSIDY", 2026, "AUTUMN", "JUNIOR", "", "N", "-5"],  # not a positive amount
        ]
    )
    response = preview(client, upload, STANDARDS)
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [2, 3, 4, 5]
    assert "program" in result.invalid_rows[0].field_specific_errors
    page = response.content.decode()
    assert "B_ONLY" in page
    assert "六百" in page
    assert standards_of(world.a.tenant) == before_a
    assert standards_of(world.b.tenant) == before_b


def test_export_of_standards_holds_only_the_tenants_rows(world):
    with tenant_transaction(world.b.tenant.pk):
        program = Program.objects.create(
            code="B_ONLY", name="乙的项目", stages=["PRIMARY"], source="COUNTY", payment_method="BANK"
        )
        Standard.objects.create(program=program, semester=world.b.semester, amount=Decimal("777.77"))
    client = client_of(world.a.users[Role.DISTRICT_STAFF])
    fields = {
        f"standardresource_{f}": "on" for f in ["program", "semester", "term", "stage", "tier", "boarding", "amount"]
    }
    response = client.post(f"{URL}export/", {"format": XLSX, "resource": STANDARDS, **fields})
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert list(rows[0]) == STANDARD_COLUMNS
    assert len(rows) - 1 == len(standards_of(world.a.tenant))
    assert all(r[0] != "B_ONLY" and r[6] != "777.77" for r in rows[1:])
    # …and it imports back unchanged.
    response = preview(client, SimpleUploadedFile("back.xlsx", response.content), STANDARDS)
    result = response.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["skip"] == len(rows) - 1


def test_only_district_staff_get_the_program_sheets(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])  # opens the admin, does not manage funding
    assert client.get(f"{URL}import/").status_code == 403
    assert client.post(f"{URL}export/", {"format": XLSX, "resource": PROGRAMS}).status_code == 403
