"""The roster import service: every kind of bad row, the upsert, re-imports, audit rows, the report."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied

from core.audit.models import AuditEvent
from core.crypto import blind_index, mask
from schools.permissions import Role
from students import idcard
from students.models import EnrollmentStatus, Guardian, StatusChange, Student
from students.roster import pipeline
from students.roster.services import ImportOutcome
from students.tests.test_roster_support import (
    AsText,
    new_id,
    pupil,
    read_report,
    reader_processes,
    run_import,
    write_roster,
)


@pytest.fixture(autouse=True, params=["here", pytest.param("beside", marks=pytest.mark.django_db(transaction=True))])
def reading(request, settings):
    """Every test here runs twice on PostgreSQL: rows read in the importing process, and read, prepared
    and written by reader processes (students.roster.pipeline), as a large roster is. The readers write
    on connections of their own, which see only what is committed: those tests commit."""
    from django.db import connection

    if request.param == "beside" and connection.vendor != "postgresql":
        pytest.skip("rows are read beside the import on PostgreSQL only")
    settings.ROSTER_PARALLEL_ROWS = 1 if request.param == "beside" else 0
    return request.param


def _codes(report_rows: list[list]) -> dict[int, tuple[str, str, str]]:
    """Excel row number → (result, codes, messages) from a report's rows."""
    return {int(r[0]): (r[3], r[4], r[5]) for r in report_rows[1:]}


def _events(tenant_of, tenant) -> list[AuditEvent]:
    with tenant_of(tenant):
        return list(AuditEvent.objects.order_by("seq"))


def test_a_file_with_every_kind_of_bad_row(world, tenant_of, tmp_path):
    """One file, one row per kind of problem, imported by a school officer: the good rows are applied
    completely, every bad row is rejected whole with its code, the report says so with masked IDs."""
    a = world.a
    officer = a.user(Role.SCHOOL_OFFICER)  # school s1
    with tenant_of(a.tenant):
        elsewhere = a.students["c4"][0].id_number.reveal()  # registered (attending) at school s2
        taken_no = a.students["c1"][1].student_no.reveal()
        existing = a.students["c1"][0]
        existing_id = existing.id_number.reveal()
    good = new_id()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    dup = new_id()
    half_valid = new_id()
    female = new_id(sex=idcard.Sex.FEMALE)
    formula_looking = new_id()
    rows = [
        pupil(a, 姓名="王小明", 身份证号=good),  # 2 created
        pupil(a, 身份证号=bad_check),  # 3 ID_CHECK_DIGIT
        pupil(a, 出生日期="2016-01-01"),  # 4 BIRTH_MISMATCH
        pupil(a, 身份证号=female, 性别="男"),  # 5 SEX_MISMATCH
        pupil(a, 学校标识码="9999999999"),  # 6 UNKNOWN_SCHOOL
        pupil(a, 班号=9),  # 7 UNKNOWN_CLASS
        pupil(a, 身份证号=dup),  # 8 DUPLICATE_IN_FILE
        pupil(a, 身份证号=dup),  # 9 DUPLICATE_IN_FILE
        pupil(a, 身份证号=elsewhere),  # 10 AT_OTHER_SCHOOL (在籍不在校 / 在校不在籍)
        pupil(a, klass="c4"),  # 11 NOT_YOUR_SCHOOL
        pupil(a, 姓名=""),  # 12 MISSING_VALUE
        pupil(a, 学籍状态="在读书"),  # 13 BAD_CHOICE
        pupil(a, 身份证号=int(new_id()[:17] + "1")),  # 14 NUMBER_LOST_DIGITS (stored as a number)
        pupil(a, 银行账号=6221000011112222333),  # 15 NUMBER_LOST_DIGITS
        pupil(a, 身份证号=half_valid, 监护人1身份证号="410622198805060000"),  # 16 GUARDIAN_ID_INVALID
        pupil(a, 学籍号=taken_no),  # 17 STUDENT_NO_TAKEN
        None,  # 18: a blank row, skipped
        pupil(a, 出生日期="2017-02-30"),  # 19 BAD_VALUE
        pupil(a, klass="c2", 身份证号=existing_id, 姓名="改了名字"),  # 20 updated
        pupil(a, 身份证号=formula_looking, 姓名=AsText('=HYPERLINK("http://x","y")')),  # 21 created
        pupil(a, 监护人1关系=""),  # 22 MISSING_VALUE (a guardian needs a relation)
    ]
    path = write_roster(tmp_path / "名册.xlsx", rows)
    report = tmp_path / "report.xlsx"
    before = len(_events(tenant_of, a.tenant))

    outcome = run_import(a.tenant, path, actor=officer, report=report)

    assert (outcome.created, outcome.updated, outcome.unchanged, outcome.rejected) == (2, 1, 0, 17)
    result = _codes(read_report(report))
    expected = {
        2: "",
        3: "ID_CHECK_DIGIT",
        4: "BIRTH_MISMATCH",
        5: "SEX_MISMATCH",
        6: "UNKNOWN_SCHOOL",
        7: "UNKNOWN_CLASS",
        8: "DUPLICATE_IN_FILE",
        9: "DUPLICATE_IN_FILE",
        10: "AT_OTHER_SCHOOL",
        11: "NOT_YOUR_SCHOOL",
        12: "MISSING_VALUE",
        13: "BAD_CHOICE",
        14: "NUMBER_LOST_DIGITS",
        15: "NUMBER_LOST_DIGITS",
        16: "GUARDIAN_ID_INVALID",
        17: "STUDENT_NO_TAKEN",
        19: "BAD_VALUE",
        20: "",
        21: "",
        22: "MISSING_VALUE",
    }
    assert {n: codes for n, (_result, codes, _msg) in result.items()} == expected
    assert {n for n, (r, _c, _m) in result.items() if r == "新增"} == {2, 21}
    assert result[20][0] == "更新"
    assert {r for r, _codes, _msg in result.values()} == {"新增", "更新", "拒绝"}
    assert read_report(report)[0][:4] == ["行号", "姓名", "身份证号（已脱敏）", "结果"]
    assert all(result[n][2] for n, codes in expected.items() if codes), "every rejected row says why"
    assert "8、9" in result[8][2]
    assert "文本" in result[14][2]  # says to format the column as text

    with tenant_of(a.tenant):
        created = Student.objects.select_related("klass").get(id_number_hash=blind_index(good, kind="id_number"))
        # Written around the ORM, read back through it: the same values the fields would have stored.
        assert created.id_number.reveal() == good
        assert created.student_no.reveal() == f"G{good}"
        assert created.phone.reveal() == "13800001111"
        assert created.card_account.reveal() == "6221000011112222333"
        assert (created.name, created.klass, created.enrollment_status) == ("王小明", a.classes["c1"], "ATTENDING")
        assert created.birth_date == idcard.parse(good).birth_date
        assert created.gender == "M"
        guardian = Guardian.objects.get(student=created)
        assert (guardian.position, guardian.relation, guardian.phone.reveal()) == (1, "MOTHER", "13900001111")
        assert idcard.is_valid(guardian.id_number.reveal())
        # Rejected rows left nothing behind, not even the half that was valid.
        for number in (half_valid, dup, female, bad_check):
            assert not Student.objects.filter(id_number_hash=blind_index(number, kind="id_number")).exists()
        assert Guardian.objects.count() == len(a.all_students) + 2
        existing.refresh_from_db()
        assert (existing.name, existing.klass_id) == ("改了名字", a.classes["c2"].pk)
        elsewhere_student = Student.objects.get(pk=a.students["c4"][0].pk)
        assert elsewhere_student.school_id == a.schools["s2"].pk  # never moved silently

    # The report never holds a full ID number; it holds the masked form; formula-like text is neutralised.
    flat = json.dumps(read_report(report), ensure_ascii=False)
    for number in (good, bad_check, dup, elsewhere, half_valid, existing_id):
        assert number not in flat
    assert mask(good, "id_number") in flat
    names = {int(r[0]): r[1] for r in read_report(report)[1:]}
    assert names[21].startswith("'=")

    # Audit: one event per row written (its guardians inside), personal numbers masked, the file named in
    # the reason.
    events = _events(tenant_of, a.tenant)[before:]
    actions = sorted(e.action for e in events)
    assert actions == sorted(["students.student.import_create"] * 2 + ["students.student.import_update"])
    with tenant_of(a.tenant):
        recorded = next(e for e in events if e.object_id == str(created.pk))
        assert recorded.after["guardians"] == [
            {
                "id": str(guardian.pk),
                "tenant": str(a.tenant.pk),
                "student": str(created.pk),
                "position": 1,
                "name": guardian.name,
                "relation": "MOTHER",
                "id_number": mask(guardian.id_number.reveal(), "id_number"),
                "id_number_hash": guardian.id_number_hash,
                "phone": mask("13900001111", "phone"),
            }
        ]
    assert all(e.reason == "roster import 名册.xlsx" for e in events)
    text = json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)
    for number in (good, existing_id, "6221000011112222333", "13800001111"):
        assert number not in text
    assert mask(good, "id_number") in text


def test_reimporting_the_same_file_changes_nothing(world, tenant_of, tmp_path):
    a = world.a
    rows = [pupil(a), pupil(a, klass="c3"), pupil(a, klass="c4", 监护人2姓名="爷爷", 监护人2关系="祖父母")]
    path = write_roster(tmp_path / "r.xlsx", rows)
    first = run_import(a.tenant, path)
    assert (first.created, first.rejected) == (3, 0)
    with tenant_of(a.tenant):
        stamps = dict(Student.objects.values_list("pk", "updated_at"))
        guardians = dict(Guardian.objects.values_list("pk", "updated_at"))
    events = len(_events(tenant_of, a.tenant))

    again = run_import(a.tenant, path, report=tmp_path / "again.xlsx")

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 0)
    assert [r[3] for r in read_report(tmp_path / "again.xlsx")[1:]] == ["未变"] * 3
    assert len(_events(tenant_of, a.tenant)) == events, "no audit row for an unchanged file"
    with tenant_of(a.tenant):
        assert dict(Student.objects.values_list("pk", "updated_at")) == stamps
        assert dict(Guardian.objects.values_list("pk", "updated_at")) == guardians


def test_an_update_writes_what_changed_keeps_blank_cells_and_records_the_status_change(world, tenant_of, tmp_path):
    a = world.a
    with tenant_of(a.tenant):
        student = Student.objects.get(pk=a.students["c1"][0].pk)
        number, phone, account = student.id_number.reveal(), student.phone.reveal(), student.card_account.reveal()
        guardian = Guardian.objects.get(student=student, position=1)
        guardian_id, old_guardian_name = guardian.id_number.reveal(), guardian.name
    row = pupil(
        a,
        身份证号=number,
        姓名=student.name,
        学籍号=student.student_no.reveal(),
        学籍状态="休学",
        联系电话="",  # blank: keep the stored phone
        银行账号="",
        开户银行="",
        账户持有人="",
        监护人1姓名="改名的妈妈",
        监护人1身份证号="",  # blank: keep the guardian's ID number
        监护人1电话="",
    )
    events = len(_events(tenant_of, a.tenant))

    outcome = run_import(a.tenant, write_roster(tmp_path / "u.xlsx", [row]))

    assert outcome.updated == 1
    with tenant_of(a.tenant):
        student.refresh_from_db()
        assert student.enrollment_status == EnrollmentStatus.SUSPENDED
        assert (student.phone.reveal(), student.card_account.reveal()) == (phone, account)
        guardian.refresh_from_db()
        assert guardian.name == "改名的妈妈"
        assert guardian.id_number.reveal() == guardian_id
        change = StatusChange.objects.get(student=student, source="roster_import")
        assert (change.from_status, change.to_status) == ("ATTENDING", "SUSPENDED")
    new = {e.action: e for e in _events(tenant_of, a.tenant)[events:]}
    assert set(new) == {"students.student.import_update", "students.statuschange.import_create"}
    update = new["students.student.import_update"]
    assert update.before["enrollment_status"] == "ATTENDING"
    assert update.after["enrollment_status"] == "SUSPENDED"
    assert "phone" not in update.after
    assert "card_account" not in update.after
    # The guardian's change is recorded inside the pupil's event, with the guardian's id.
    assert update.before["guardians"] == [{"id": str(guardian.pk), "name": old_guardian_name}]
    assert update.after["guardians"] == [{"id": str(guardian.pk), "name": "改名的妈妈"}]


def test_a_pupil_who_left_another_school_is_registered_by_the_new_one(world, tenant_of, tmp_path):
    """毕业 / 转出 at the old school: no longer registered there, so the new school's row moves the
    record (audited, with a note in the report); 在校 or 休学 there would be a conflict."""
    a = world.a
    with tenant_of(a.tenant):
        leaver = Student.objects.get(pk=a.students["c4"][0].pk)
        leaver.enrollment_status = EnrollmentStatus.GRADUATED
        leaver.save(update_fields=["enrollment_status"])
        number = leaver.id_number.reveal()
    report = tmp_path / "rep.xlsx"

    outcome = run_import(a.tenant, write_roster(tmp_path / "m.xlsx", [pupil(a, 身份证号=number)]), report=report)

    assert outcome.updated == 1
    with tenant_of(a.tenant):
        leaver.refresh_from_db()
        assert (leaver.school_id, leaver.klass_id, leaver.enrollment_status) == (
            a.schools["s1"].pk,
            a.classes["c1"].pk,
            "ATTENDING",
        )
    assert a.schools["s2"].name in read_report(report)[1][5]


def test_district_staff_import_any_school_and_learn_where_a_conflicting_pupil_is(world, tenant_of, tmp_path):
    a = world.a
    with tenant_of(a.tenant):
        elsewhere = a.students["c4"][0].id_number.reveal()
    rows = [pupil(a, klass="c4"), pupil(a, 身份证号=elsewhere)]
    report = tmp_path / "rep.xlsx"

    outcome = run_import(
        a.tenant, write_roster(tmp_path / "d.xlsx", rows), actor=a.user(Role.DISTRICT_STAFF), report=report
    )

    assert (outcome.created, outcome.rejected) == (1, 1)
    assert a.schools["s2"].name in read_report(report)[2][5]


def test_a_school_officer_is_not_told_which_school_holds_a_conflicting_pupil(world, tenant_of, tmp_path):
    a = world.a
    with tenant_of(a.tenant):
        elsewhere = a.students["c4"][0].id_number.reveal()
    report = tmp_path / "rep.xlsx"
    run_import(
        a.tenant,
        write_roster(tmp_path / "o.xlsx", [pupil(a, 身份证号=elsewhere)]),
        actor=a.user(Role.SCHOOL_OFFICER),
        report=report,
    )
    message = read_report(report)[1][5]
    assert "AT_OTHER_SCHOOL" in read_report(report)[1][4]
    assert a.schools["s2"].name not in message


def test_roles_without_the_permission_cannot_import(world, tmp_path):
    path = write_roster(tmp_path / "r.xlsx", [pupil(world.a)])
    for role in (Role.CLASS_TEACHER, Role.PRINCIPAL, Role.DISTRICT_AUDITOR, Role.TENANT_ADMIN):
        with pytest.raises(PermissionDenied):
            run_import(world.a.tenant, path, actor=world.a.user(role))


def test_the_import_audit_rows_have_the_shape_of_the_orm_hooks(world, tenant_of, tmp_path):
    """An imported pupil's create event carries the same fields as one saved through the ORM, and its
    guardians' inside it the same fields as a guardian's own event, with their ids."""
    a = world.a
    run_import(a.tenant, write_roster(tmp_path / "s.xlsx", [pupil(a)]))
    with tenant_of(a.tenant):
        orm = AuditEvent.objects.filter(action="students.student.create").first()
        imported = AuditEvent.objects.get(action="students.student.import_create")
        guardian_orm = AuditEvent.objects.filter(action="students.guardian.create").first()
    assert set(imported.after) == set(orm.after) | {"guardians"}
    [guardian_imported] = imported.after["guardians"]
    assert set(guardian_imported) == set(guardian_orm.after) | {"id"}


def test_rows_are_applied_in_chunks_with_progress(world, tenant_of, tmp_path, reading):
    a = world.a
    rows = [pupil(a, klass=("c1", "c2", "c3")[i % 3], 姓名=f"学生{i}") for i in range(25)]
    seen: list[tuple[int, int]] = []

    outcome = run_import(
        a.tenant,
        write_roster(tmp_path / "c.xlsx", rows),
        chunk_size=10,
        on_progress=lambda done, total: seen.append((done, total)),
    )

    assert isinstance(outcome, ImportOutcome)
    assert outcome.created == 25
    # Read beside, the first chunk is a tenth of the others, and each next one half as large again (the
    # import starts writing sooner, and waits for no reader after that).
    beside = [(1, 25), (3, 25), (6, 25), (10, 25), (16, 25), (25, 25)]
    assert seen == ([(10, 25), (20, 25), (25, 25)] if reading == "here" else beside)
    with tenant_of(a.tenant):
        assert Student.objects.filter(name__startswith="学生").count() == 25


def test_dates_numbers_and_spacing_as_people_type_them(world, tenant_of, tmp_path):
    """A date cell, "2017年3月9日", a class "3班" written as "(1)班", an entry year "2024级", full-width
    digits and spaces in numbers, a phone stored as a number: all understood."""
    a = world.a
    number = new_id(birth=dt.date(2017, 3, 9))
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        pupil(a, 身份证号=f" {wide[:6]} {wide[6:]} ", 出生日期=dt.date(2017, 3, 9), 班号="(1)班", 入学年份="2024级"),
        pupil(a, 出生日期="2017年3月9日", 联系电话=13800002222, 身份证号=new_id(birth=dt.date(2017, 3, 9))),
    ]

    outcome = run_import(a.tenant, write_roster(tmp_path / "t.xlsx", rows))

    assert (outcome.created, outcome.rejected) == (2, 0)
    with tenant_of(a.tenant):
        assert Student.objects.filter(id_number_hash=blind_index(number, kind="id_number")).exists()


def test_a_pupil_registered_while_the_file_is_read_is_not_registered_twice(
    world, tenant_of, tmp_path, reading, monkeypatch
):
    """Read beside the import, new pupils are prepared from the register as it was when the import
    began. One registered meanwhile (by someone else, once the import has looked at the register and
    before the row is written) is reported, and the register keeps one entry."""
    a = world.a
    rows = [pupil(a, 姓名=f"学生{i}") for i in range(4)]
    late = rows[3]
    chunks = pipeline.chunks

    def register_meanwhile(plan, **kwargs):
        # The import has taken its look at the register (the plan) and not yet read a row.
        with tenant_of(a.tenant):
            k, person = a.classes["c1"], idcard.parse(late["身份证号"])
            Student.objects.create(
                school_id=k.school_id, grade_id=k.grade_id, klass=k, name="别处录入", id_number=person.number,
                gender=person.sex.value, birth_date=person.birth_date, hukou="RURAL",
            )  # fmt: skip
        return chunks(plan, **kwargs)

    monkeypatch.setattr(pipeline, "chunks", register_meanwhile)
    outcome = run_import(a.tenant, write_roster(tmp_path / "m.xlsx", rows), chunk_size=2)

    with tenant_of(a.tenant):
        assert Student.objects.filter(id_number_hash=blind_index(late["身份证号"], kind="id_number")).count() == 1
    if reading == "beside":
        assert (outcome.created, outcome.rejected) == (3, 1)
        assert outcome.errors == {"CHANGED_MEANWHILE": 1}
    else:  # read in turn, the row is compared with the pupil registered meanwhile and updates them
        assert (outcome.created, outcome.updated) == (3, 1)


def test_a_stopped_import_stops_every_reader_even_a_stuck_one(world, tmp_path, reading):
    """However an import ends, its readers end with it: here the import fails (an error while it
    writes) while every reader, the first and the one it forked, is stuck (stopped by a signal, as
    a reader deep in a huge chunk)."""
    import os
    import signal

    if reading != "beside":
        pytest.skip("about the readers")
    a = world.a
    birth = dt.date(2016, 1, 1)
    rows = [pupil(a, 姓名=f"学生{i}", 身份证号=new_id(birth=birth + dt.timedelta(days=i))) for i in range(100)]
    stuck: list[int] = []

    class Failed(Exception):
        pass

    def stop_readers_and_fail(done: int, total: int) -> None:
        found = reader_processes()
        first = [pid for pid, (ppid, _state) in found.items() if ppid == os.getpid()]
        stuck.extend(first + [pid for pid, (ppid, _state) in found.items() if ppid in first])
        for pid in stuck:
            os.kill(pid, signal.SIGSTOP)
        raise Failed

    with pytest.raises(Failed):
        run_import(a.tenant, write_roster(tmp_path / "s.xlsx", rows), chunk_size=10, on_progress=stop_readers_and_fail)

    assert len(stuck) == 2, "the first reader and the one it forked"
    left = reader_processes()
    assert not [pid for pid in stuck if pid in left and left[pid][1] != "Z"], "a stuck reader outlived the import"


@pytest.mark.parametrize("victim", ["first", "forked"])
def test_a_reader_killed_half_way_fails_the_import_and_keeps_whole_chunks(world, tenant_of, tmp_path, reading, victim):
    """A reader dies (killed, out of memory): the first reader process, or one it forked. The import
    stops with an error, the chunks written before stay written whole, nothing of the others is
    written, the partial report is gone, and no reader is left running. (The chunks it had sent
    before it died are still written: enough rows here that it cannot have sent them all by then.)"""
    import os
    import signal

    if reading != "beside":
        pytest.skip("about the readers")
    a = world.a
    birth = dt.date(2016, 1, 1)
    rows = [pupil(a, 姓名=f"学生{i}", 身份证号=new_id(birth=birth + dt.timedelta(days=i))) for i in range(300)]
    readers: dict[int, int] = {}  # pid → parent pid, of the reader processes seen

    def kill_reader(done: int, total: int) -> None:
        found = reader_processes()
        first = [pid for pid, (ppid, _state) in found.items() if ppid == os.getpid()]
        forked = [pid for pid, (ppid, _state) in found.items() if ppid in first]
        readers.update({pid: found[pid][0] for pid in first + forked})
        for pid in first if victim == "first" else forked:
            os.kill(pid, signal.SIGKILL)

    with pytest.raises(RuntimeError, match="roster reader stopped"):
        run_import(
            a.tenant,
            write_roster(tmp_path / "k.xlsx", rows),
            chunk_size=10,
            on_progress=kill_reader,
            report=tmp_path / "k-report.xlsx",
        )

    assert len(readers) == 2, "the first reader and the one it forked"
    left = reader_processes()
    assert not [pid for pid in readers if pid in left and left[pid][1] != "Z"], "a reader outlived the import"
    with tenant_of(a.tenant):
        names = set(Student.objects.filter(name__startswith="学生").values_list("name", flat=True))
        imported = len(names)
        assert 1 <= imported < 300
        # Each reader commits its own chunks: whole ones only (1, 2, 3, 4, 6, … rows: pipeline.sizes),
        # though not always those of a prefix of the sheet.
        ends = list(itertools.accumulate(itertools.islice(pipeline.sizes(10, 1), 300)))
        for start, end in zip([0, *ends], [e for e in ends if e <= 300] + [300], strict=False):
            written = {f"学生{i}" for i in range(start, end)} & names
            assert len(written) in (0, end - start), f"rows {start}-{end - 1}: part of a chunk written"
        assert Guardian.objects.filter(student__name__startswith="学生").count() == imported
        recorded = AuditEvent.objects.filter(action="students.student.import_create")
        assert recorded.count() == imported
        assert sum(len(e.after["guardians"]) for e in recorded) == imported
    assert not (tmp_path / "k-report.xlsx").exists()


def test_backslashes_and_tabs_in_free_text_reach_the_register_as_typed(world, tenant_of, tmp_path):
    """Read beside the import, rows travel as COPY text: free text is escaped there, and arrives whole."""
    a = world.a
    rows = [pupil(a, 姓名="王\\小明", **{"村（社区）": "东\t村\\N", "账户持有人": "王\\.大"})]
    outcome = run_import(a.tenant, write_roster(tmp_path / "t.xlsx", rows))
    assert outcome.created == 1
    with tenant_of(a.tenant):
        stored = Student.objects.get(name="王\\小明")
    assert (stored.village, stored.card_holder) == ("东\t村\\N", "王\\.大")


def test_new_pupils_and_guardians_get_version_4_ids_and_their_chunks_time(world, tenant_of, tmp_path):
    """Prepared ahead, a new row's id is spelt straight from random bytes (apply.new._new_id_text) and its
    time is the chunk's: the ids must still be distinct version 4 UUIDs, and a chunk's rows share one
    time, as rows prepared in the importing process do."""
    a = world.a
    rows = [pupil(a, 姓名=f"编号{i}") for i in range(40)]
    assert run_import(a.tenant, write_roster(tmp_path / "ids.xlsx", rows)).created == 40
    with tenant_of(a.tenant):
        pupils = dict(Student.objects.filter(name__startswith="编号").values_list("pk", "created_at"))
        guardians = dict(Guardian.objects.filter(student_id__in=list(pupils)).values_list("pk", "created_at"))
    ids = [*pupils, *guardians]
    assert len(guardians) == 40
    assert len(set(ids)) == 80
    assert {(pk.version, pk.variant) for pk in ids} == {(4, uuid.RFC_4122)}
    assert len({*pupils.values(), *guardians.values()}) == 1  # one chunk


def test_readers_write_their_chunks_on_connections_of_their_own(world, tenant_of, tmp_path, reading, monkeypatch):
    """Read beside, each reader writes its chunks itself: the importing process writes none (its own
    writing is made to fail here), and every row is still registered, with its audit event."""
    from students.roster import services

    if reading != "beside":
        pytest.skip("about the readers")

    def refuse(*args, **kwargs):
        raise AssertionError("the importing process wrote a chunk")

    monkeypatch.setattr(services, "apply_chunk", refuse)
    a = world.a
    rows = [pupil(a, 姓名=f"读者{i}") for i in range(30)]
    outcome = run_import(a.tenant, write_roster(tmp_path / "r.xlsx", rows), chunk_size=10)
    assert outcome.created == 30
    with tenant_of(a.tenant):
        created = AuditEvent.objects.filter(action="students.student.import_create")
        assert {e.after["name"] for e in created} >= {f"读者{i}" for i in range(30)}
