"""manage.py import_roster: the same import for automation; non-zero exit only for an unreadable file."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from schools.permissions import Role
from students.tests.test_roster_support import pupil, read_report, write_roster


def _run(*args, **options) -> str:
    out = io.StringIO()
    call_command("import_roster", *args, stdout=out, **options)
    return out.getvalue()


def test_prints_the_counts_and_writes_the_report(world, tmp_path):
    a = world.a
    path = write_roster(tmp_path / "r.xlsx", [pupil(a), pupil(a, klass="c4"), pupil(a, 身份证号="4106")])
    report = tmp_path / "out.xlsx"

    output = _run(str(path), tenant=a.tenant.slug, report=str(report))

    assert "created 2, updated 0, unchanged 0, rejected 1" in output
    assert [r[4] for r in read_report(report)[1:]] == ["", "", "ID_LENGTH"]
    assert "created 0, updated 0, unchanged 2, rejected 1" in _run(str(path), tenant=a.tenant.slug)


def test_as_a_school_officer_rows_of_other_schools_are_rejected(world, tmp_path):
    a = world.a
    path = write_roster(tmp_path / "r.xlsx", [pupil(a), pupil(a, klass="c4")])
    officer = a.user(Role.SCHOOL_OFFICER)
    output = _run(str(path), tenant=a.tenant.slug, username=officer.username)
    assert "created 1, updated 0, unchanged 0, rejected 1" in output


def test_an_unreadable_file_exits_1_with_the_reason(world, tmp_path):
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"%PDF-1.4 not a workbook")
    with pytest.raises(CommandError) as caught:
        _run(str(path), tenant=world.a.tenant.slug)
    assert caught.value.returncode == 1
    assert "junk.xlsx" in str(caught.value)
    assert ".xlsx" in str(caught.value)


def test_a_user_without_the_permission_or_of_another_tenant_is_refused(world, tmp_path):
    path = write_roster(tmp_path / "r.xlsx", [pupil(world.a)])
    with pytest.raises(CommandError, match="may not import"):
        _run(str(path), tenant=world.a.tenant.slug, username=world.a.user(Role.CLASS_TEACHER).username)
    with pytest.raises(CommandError, match="no active user"):
        _run(str(path), tenant=world.a.tenant.slug, username=world.b.user(Role.DISTRICT_STAFF).username)
    with pytest.raises(CommandError, match="no tenant"):
        _run(str(path), tenant="nowhere")
