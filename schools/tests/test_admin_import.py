"""Schools and classes imported and exported as sheets in the admin (django-import-export), through the
real import → preview → confirm flow, as the tenant administrator: scoped, all-or-nothing, audited."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools.models import Grade, School, SchoolClass
from schools.permissions import Role

XLSX = "0"  # the first format offered (schools.admin.ScopedImportExportMixin: XLSX, CSV)


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


def preview(client: Client, url: str, upload: SimpleUploadedFile, resource: str = "0"):
    return client.post(f"{url}import/", {"import_file": upload, "format": XLSX, "resource": resource})


def import_sheet(client: Client, url: str, upload: SimpleUploadedFile, resource: str = "0"):
    """Preview, then confirm with the hidden fields the preview's form carries (as the browser does)."""
    response = preview(client, url, upload, resource)
    assert response.status_code == 200
    form = response.context["confirm_form"]
    assert form is not None, response.content.decode()[:3000]
    return client.post(f"{url}process_import/", {name: form.initial[name] for name in form.fields})


SCHOOLS = "/admin/schools/school/"
CLASSES = "/admin/schools/schoolclass/"


def test_a_tenant_admin_imports_schools_from_xlsx_audited(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    upload = sheet(
        [
            ["code", "name", "stages", "area", "township", "is_active"],
            ["4106229001", "新建小学", "小学", "农村", "T9", "是"],
            [4106229002, "新建九年制学校", "PRIMARY、初中", "URBAN", "", ""],
            ["4106220001", "甲AQ primary renamed", "小学", "城镇", "T1", "1"],  # an existing school: updated
        ],
        name="schools-2026.xlsx",
    )
    response = import_sheet(client, SCHOOLS, upload)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_transaction(world.a.tenant.pk):
        new = School.objects.get(code="4106229001")
        assert (new.name, new.stages, new.area, new.township, new.is_active) == (
            "新建小学", ["PRIMARY"], "RURAL", "T9", True,
        )  # fmt: skip
        both = School.objects.get(code="4106229002")  # a number in the cell, as spreadsheets store codes
        assert (both.stages, both.area, both.is_active) == (["PRIMARY", "JUNIOR"], "URBAN", True)
        assert School.objects.get(pk=world.a.schools["s1"].pk).name == "甲AQ primary renamed"
        events = AuditEvent.objects.filter(action="admin.import", reason="schools-2026.xlsx")
        assert {e.object_id for e in events} == {str(new.pk), str(both.pk), str(world.a.schools["s1"].pk)}
    with tenant_transaction(world.b.tenant.pk):
        assert not School.objects.filter(code__in=["4106229001", "4106229002"]).exists()


def test_the_preview_writes_nothing(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    upload = sheet([["code", "name", "stages", "area"], ["4106229001", "新建小学", "小学", "农村"]])
    response = preview(client, SCHOOLS, upload)
    assert response.context["confirm_form"] is not None
    with tenant_transaction(world.a.tenant.pk):
        assert not School.objects.filter(code="4106229001").exists()
        assert not AuditEvent.objects.filter(action="admin.import").exists()


def test_a_bad_school_sheet_changes_nothing_and_says_why(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    upload = sheet(
        [
            ["code", "name", "stages", "area", "township", "is_active"],
            ["4106229001", "好的一行", "小学", "农村", "T9", "是"],
            ["4106229002", "坏的学段", "大学", "农村", "", ""],
            ["4106229003", "坏的地区", "小学", "海边", "", "也许"],
        ]
    )
    response = preview(client, SCHOOLS, upload)
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None  # nothing to confirm
    page = response.content.decode()
    assert "大学" in page
    assert "海边" in page
    assert "也许" in page
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [2, 3]
    with tenant_transaction(world.a.tenant.pk):
        assert not School.objects.filter(code__startswith="41062290").exists()  # not even the good row


def test_a_sheet_with_wrong_columns_is_refused_with_a_message(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    response = preview(client, SCHOOLS, sheet([["学校", "名称"], ["4106229001", "新建小学"]]))
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    assert "code" in response.content.decode()  # the missing key column is named
    response = preview(client, SCHOOLS, SimpleUploadedFile("not-a-sheet.xlsx", b"plain text, not a workbook"))
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_tenant_admin_imports_classes_creating_the_missing_grade(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    s1 = world.a.schools["s1"]
    upload = sheet(
        [
            ["school", "stage", "entry_year", "number"],
            [s1.code, "小学", 2026, 1],  # grade 2026 does not exist yet
            [s1.code, "PRIMARY", 2026, 2],
            [s1.code, "小学", 2024, 3],  # grade g1 exists (classes 1 and 2)
            [s1.code, "小学", 2024, 1],  # class c1 exists: unchanged, skipped
        ],
        name="classes.xlsx",
    )
    response = import_sheet(client, CLASSES, upload)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_transaction(world.a.tenant.pk):
        grade = Grade.objects.get(school=s1, stage="PRIMARY", entry_year=2026)
        assert sorted(SchoolClass.objects.filter(grade=grade).values_list("number", flat=True)) == [1, 2]
        assert SchoolClass.objects.filter(grade=world.a.grades["g1"]).count() == 3
        assert AuditEvent.objects.filter(action="admin.import", object_id=str(grade.pk)).exists()
        created = SchoolClass.objects.filter(grade__school=s1, created_at__gte=grade.created_at)
        assert AuditEvent.objects.filter(action="admin.import", object_type="schools.schoolclass").count() == 3
        assert created.count() == 3


def test_a_class_of_another_tenants_school_is_refused_and_theirs_is_unchanged(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    theirs = world.b.schools["s1"]
    with tenant_transaction(world.b.tenant.pk):
        before = sorted(SchoolClass.objects.values_list("pk", "number", "grade_id"))
        grades_before = Grade.objects.count()
    upload = sheet(
        [
            ["school", "stage", "entry_year", "number"],
            [world.a.schools["s1"].code, "小学", 2026, 1],
            [theirs.code, "小学", 2024, 9],
        ]
    )
    response = preview(client, CLASSES, upload)
    assert response.context.get("confirm_form") is None
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [2]
    assert "school" in result.invalid_rows[0].field_specific_errors
    assert theirs.code in response.content.decode()
    with tenant_transaction(world.b.tenant.pk):
        assert sorted(SchoolClass.objects.values_list("pk", "number", "grade_id")) == before
        assert Grade.objects.count() == grades_before
    with tenant_transaction(world.a.tenant.pk):
        assert not Grade.objects.filter(entry_year=2026).exists()  # all or nothing: row 1 is not kept


def test_a_class_for_a_stage_the_school_does_not_teach_is_a_row_error(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    upload = sheet([["school", "stage", "entry_year", "number"], [world.a.schools["s1"].code, "高中", 2026, 1]])
    response = preview(client, CLASSES, upload)
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [1]
    assert "stage" in result.invalid_rows[0].field_specific_errors
    with tenant_transaction(world.a.tenant.pk):
        assert not Grade.objects.filter(entry_year=2026).exists()


def test_export_holds_only_the_tenants_schools_and_classes(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    fields = {f"schoolresource_{f}": "on" for f in ["code", "name", "stages", "area", "township", "is_active"]}
    response = client.post(f"{SCHOOLS}export/", {"format": XLSX, "resource": "0", **fields})
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:2] == ("code", "name")
    assert sorted(r[0] for r in rows[1:]) == sorted(s.code for s in world.a.schools.values())
    assert ("小学" if rows[1][0] == world.a.schools["s1"].code else "初中") == rows[1][2]

    fields = {f"schoolclassresource_{f}": "on" for f in ["school", "stage", "entry_year", "number"]}
    response = client.post(f"{CLASSES}export/", {"format": XLSX, "resource": "0", **fields})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    codes = {s.pk: s.code for s in world.a.schools.values()}
    years = {g.pk: g.entry_year for g in world.a.grades.values()}
    # As text: formula escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) writes every cell as a string.
    expected = {(codes[k.school_id], str(years[k.grade_id]), str(k.number)) for k in world.a.classes.values()}
    assert {(r[0], r[2], r[3]) for r in rows[1:]} == expected
    assert not re.search(world.b.schools["s1"].code, response.content.decode("latin-1"))


def test_an_exported_sheet_imports_back_unchanged(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    fields = {f"schoolclassresource_{f}": "on" for f in ["school", "stage", "entry_year", "number"]}
    exported = client.post(f"{CLASSES}export/", {"format": XLSX, "resource": "0", **fields}).content
    response = preview(client, CLASSES, SimpleUploadedFile("back.xlsx", exported))
    result = response.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["skip"] == len(world.a.classes)


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.SCHOOL_OFFICER])
def test_only_who_manages_schools_gets_the_import_and_export(world, role):
    """District staff open the admin (funding) but do not manage schools: 403; a school officer does not
    open the admin at all: sent to the login page."""
    client = client_of(world.a.users[role])
    refused = 403 if role == Role.DISTRICT_STAFF else 302
    for url in (SCHOOLS, CLASSES):
        assert client.get(f"{url}import/").status_code == refused
        assert client.post(f"{url}export/", {"format": XLSX}).status_code == refused
    admin = client_of(world.a.users[Role.TENANT_ADMIN])
    assert admin.get(f"{CLASSES}import/").status_code == 200
    page = admin.get(SCHOOLS).content.decode()
    assert f"{SCHOOLS}import/" in page
    assert f"{SCHOOLS}export/" in page


def test_a_sheet_that_no_longer_fits_at_confirmation_changes_nothing(world):
    """Previewed clean, then the data changed before the confirmation: the whole file is refused
    (rollback_on_validation_errors), not the rows that still fit."""
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    s1, s2 = world.a.schools["s1"], world.a.schools["s2"]
    upload = sheet(
        [["school", "stage", "entry_year", "number"], [s1.code, "小学", 2026, 1], [s2.code, "初中", 2026, 1]]
    )
    response = preview(client, CLASSES, upload)
    form = response.context["confirm_form"]
    assert form is not None
    with tenant_transaction(world.a.tenant.pk):
        school = School.objects.get(pk=s2.pk)
        school.stages = ["PRIMARY"]  # s2 no longer teaches 初中: row 2 cannot make its grade
        school.save(update_fields=["stages"])
    response = client.post(f"{CLASSES}process_import/", {name: form.initial[name] for name in form.fields})
    assert response.status_code == 302
    assert response["Location"] == f"{CLASSES}import/"
    with tenant_transaction(world.a.tenant.pk):
        assert not Grade.objects.filter(entry_year=2026).exists()
        assert not AuditEvent.objects.filter(action="admin.import").exists()


def test_the_sheet_kept_for_the_confirmation_stays_in_the_app_encrypted_and_goes(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    upload = sheet([["code", "name", "stages", "area"], ["4106229001", "新建小学", "小学", "农村"]])
    plain = upload.read()
    upload.seek(0)
    response = preview(client, SCHOOLS, upload)
    assert response.context["confirm_form"] is not None
    kept = list((tmp_path / "import-sheets").iterdir())
    assert [p.name.startswith("incoming-") for p in kept] == [True]  # swept if never confirmed
    assert kept[0].read_bytes() != plain
    assert b"PK" not in kept[0].read_bytes()[:4]  # not the workbook in clear
    form = response.context["confirm_form"]
    client.post(f"{SCHOOLS}process_import/", {name: form.initial[name] for name in form.fields})
    assert list((tmp_path / "import-sheets").iterdir()) == []


def test_a_csv_sheet_imports_too(world):
    client = client_of(world.a.users[Role.TENANT_ADMIN])
    csv = "code,name,stages,area\n4106229001,新建小学,小学、初中,农村\n".encode("utf-8-sig")
    response = client.post(
        f"{SCHOOLS}import/", {"import_file": SimpleUploadedFile("s.csv", csv), "format": "1", "resource": "0"}
    )
    form = response.context["confirm_form"]
    assert form is not None, response.content.decode()[:3000]
    response = client.post(f"{SCHOOLS}process_import/", {name: form.initial[name] for name in form.fields})
    assert response.status_code == 302
    with tenant_transaction(world.a.tenant.pk):
        assert School.objects.get(code="4106229001").stages == ["PRIMARY", "JUNIOR"]
