# ruff: noqa: E501  (the table of cases reads best one case a line)
"""Lists people can work with (issue 25, items 3 and 6), swept over every list page: the search box
and each filter narrow the rows as expected, the status tabs are counted, the export holds what is
shown, and the page's query count does not grow with its rows."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import RegistrySnapshot
from core.tenancy.context import tenant_transaction
from disbursements.summary import money_summary_rebuild
from schools.permissions import Role
from tests.factories import TenantWorld, make_application, make_case, make_student


def _row(name: str, pk: Any) -> str:
    return reverse(name, kwargs={"pk": pk})


def _pupil(w: TenantWorld, key: str, i: int = 0):
    return w.students[key][i]


def _run(w: TenantWorld):
    if getattr(w, "run", None) is None:
        from audits.reconciliation.services import reconciliation_run

        with tenant_transaction(w.tenant.pk):
            w.run, _created = reconciliation_run(actor=w.users[Role.DISTRICT_STAFF], semester=w.semester)
    return w.run


def _snapshots(w: TenantWorld) -> list[RegistrySnapshot]:
    if getattr(w, "snapshots", None) is None:
        with tenant_transaction(w.tenant.pk):
            by = w.users[Role.DISTRICT_STAFF]
            w.snapshots = [
                RegistrySnapshot.objects.create(
                    source=source,
                    file_name=name,
                    fingerprint=str(i) * 64,
                    taken_on=dt.date(2026, 11, 1),
                    imported_by=by,
                )
                for i, (source, name) in enumerate((("CIVIL", "民政低保名单.csv"), ("RURAL", "乡村振兴监测户.xlsx")))
            ]
    return w.snapshots


@dataclass
class Case:
    """One filter of one list: with `params`, the table `table` shows `shown` and not `hidden`."""

    page: str
    table: str
    params: Any  # w → dict
    shown: Any  # w → str or None (None: the table is empty)
    hidden: Any  # w → str
    role: str = Role.DISTRICT_STAFF
    kwargs: Any = None  # w → the page's URL arguments

    def url(self, w: TenantWorld) -> str:
        return reverse(self.page, kwargs=self.kwargs(w) if self.kwargs else None)

    def __str__(self) -> str:  # the test id
        return f"{self.page}"


S = "students:list"
A = "students:applications"
ALL = {"status": ""}  # the review queue opens on "waiting for me"

CASES = [
    # 学籍名册: name, ID number and registration number through the blind index, school, class, status, gender
    Case(S, "students", lambda w: {"q": _pupil(w, "c1").name}, lambda w: _row("students:detail", _pupil(w, "c1").pk),
         lambda w: _row("students:detail", _pupil(w, "c2").pk)),
    Case(S, "students", lambda w: {"q": _pupil(w, "c1").id_number.reveal()},
         lambda w: _row("students:detail", _pupil(w, "c1").pk), lambda w: _row("students:detail", _pupil(w, "c1", 1).pk)),
    Case(S, "students", lambda w: {"q": _pupil(w, "c3").student_no.reveal()},
         lambda w: _row("students:detail", _pupil(w, "c3").pk), lambda w: _row("students:detail", _pupil(w, "c1").pk)),
    Case(S, "students", lambda w: {"school": w.schools["s2"].pk}, lambda w: _row("students:detail", _pupil(w, "c4").pk),
         lambda w: _row("students:detail", _pupil(w, "c1").pk)),
    Case(S, "students", lambda w: {"klass": w.classes["c2"].pk}, lambda w: _row("students:detail", _pupil(w, "c2").pk),
         lambda w: _row("students:detail", _pupil(w, "c1").pk)),
    Case(S, "students", lambda w: {"status": "DROPPED_OUT"}, lambda w: None,
         lambda w: _row("students:detail", _pupil(w, "c1").pk)),
    Case(S, "students", lambda w: {"gender": _pupil(w, "c1").gender},
         lambda w: _row("students:detail", _pupil(w, "c1").pk), lambda w: _row("students:detail", _pupil(w, "c1", 1).pk)),
    # 认定申请: the pupil, school, year, tier, step, "waiting for me"
    Case(A, "applications", lambda w: ALL | {"q": _pupil(w, "c1", 1).name},
         lambda w: _row("students:application", w.applications["c1"].pk),
         lambda w: _row("students:application", w.applications["c2"].pk)),
    Case(A, "applications", lambda w: ALL | {"school": w.schools["s2"].pk},
         lambda w: _row("students:application", w.applications["c4"].pk),
         lambda w: _row("students:application", w.applications["c1"].pk)),
    Case(A, "applications", lambda w: ALL | {"academic_year": 2025}, lambda w: None,
         lambda w: _row("students:application", w.applications["c1"].pk)),
    Case(A, "applications", lambda w: ALL | {"proposed_tier": "SPECIAL"}, lambda w: None,
         lambda w: _row("students:application", w.applications["c1"].pk)),
    Case(A, "applications", lambda w: {"status": "GRADE_REVIEW"}, lambda w: None,
         lambda w: _row("students:application", w.applications["c1"].pk)),
    Case(A, "applications", lambda w: {"status": "mine"}, lambda w: _row("students:application", w.applications["c1"].pk),
         lambda w: "never-there", role=Role.CLASS_TEACHER),
    Case(A, "applications", lambda w: {}, lambda w: None,  # the district re-checks none of them yet
         lambda w: _row("students:application", w.applications["c1"].pk)),
    # the home page's parameters (issue 25: every count leads to exactly its rows)
    Case(A, "applications", lambda w: {"status": "review"}, lambda w: _row("students:application", w.applications["c1"].pk),
         lambda w: "never-there"),
    Case(A, "applications", lambda w: ALL | {"returned": "1"}, lambda w: None,  # nominated, never sent back
         lambda w: _row("students:application", w.applications["c1"].pk)),
    # 公示
    Case("students:publicities", "publicities", lambda w: {"q": "other"}, lambda w: _row("students:publicity", w.other_publicity.pk),
         lambda w: _row("students:publicity", w.publicity.pk)),
    Case("students:publicities", "publicities", lambda w: {"school": w.schools["s1"].pk},
         lambda w: _row("students:publicity", w.publicity.pk), lambda w: _row("students:publicity", w.other_publicity.pk)),
    Case("students:publicities", "publicities", lambda w: {"status": "PUBLIC"}, lambda w: None,
         lambda w: _row("students:publicity", w.publicity.pk)),
    # 资助名单
    Case("funding:award_lists", "award-lists", lambda w: {"school": w.schools["s2"].pk}, lambda w: None,
         lambda w: _row("funding:award_list", w.award_list.pk)),
    Case("funding:award_lists", "award-lists", lambda w: {"program": w.award.program.pk},
         lambda w: _row("funding:award_list", w.award_list.pk), lambda w: "never-there"),
    Case("funding:award_lists", "award-lists", lambda w: {"status": "DRAFT"}, lambda w: None,
         lambda w: _row("funding:award_list", w.award_list.pk)),
    Case("funding:award_lists", "award-lists", lambda w: {"ended": "1"}, lambda w: None,
         lambda w: _row("funding:award_list", w.award_list.pk)),
    # 发放批次
    Case("disbursements:batches", "batches", lambda w: {"line_status": "FAILED"}, lambda w: None,
         lambda w: _row("disbursements:batch", w.batch.pk)),
    Case("disbursements:batches", "batches", lambda w: {"line_status": "PAID", "program": w.award.program.pk},
         lambda w: _row("disbursements:batch", w.batch.pk), lambda w: "never-there"),
    Case("disbursements:batches", "batches", lambda w: {"kind": "REISSUE"}, lambda w: None,
         lambda w: _row("disbursements:batch", w.batch.pk)),
    Case("disbursements:batches", "batches", lambda w: {"status": "RELEASED"}, lambda w: _row("disbursements:batch", w.batch.pk),
         lambda w: "never-there"),
    # 停发与追回
    Case("disbursements:corrections", "corrections", lambda w: {"q": _pupil(w, "c2").name}, lambda w: None,
         lambda w: _pupil(w, "c1").name),
    Case("disbursements:corrections", "corrections", lambda w: {"status": "PROPOSED"}, lambda w: None,
         lambda w: _pupil(w, "c1").name),
    Case("disbursements:corrections", "corrections", lambda w: {"kind": "RECOVER"}, lambda w: _pupil(w, "c1").name,
         lambda w: "never-there"),
    Case("disbursements:corrections", "recoveries", lambda w: {"school": w.schools["s2"].pk}, lambda w: None,
         lambda w: _pupil(w, "c1").name),
    Case("disbursements:corrections", "recoveries", lambda w: {"recovery": "RECOVERED"}, lambda w: None,
         lambda w: _pupil(w, "c1").name),
    Case("disbursements:corrections", "recoveries", lambda w: {"recovery": "OPEN", "program": w.award.program.pk,
         "semester": w.semester.pk}, lambda w: _pupil(w, "c1").name, lambda w: "never-there"),
    Case("disbursements:corrections", "corrections", lambda w: {"others": "1"}, lambda w: None,  # the district's own
         lambda w: _pupil(w, "c1").name),
    # 学校
    Case("schools:list", "schools", lambda w: {"q": "primary"}, lambda w: _row("schools:detail", w.schools["s1"].pk),
         lambda w: _row("schools:detail", w.schools["s2"].pk)),
    Case("schools:list", "schools", lambda w: {"area": "RURAL"}, lambda w: _row("schools:detail", w.schools["s2"].pk),
         lambda w: _row("schools:detail", w.schools["s1"].pk)),
    Case("schools:list", "schools", lambda w: {"township": "T1"}, lambda w: _row("schools:detail", w.schools["s1"].pk),
         lambda w: _row("schools:detail", w.schools["s2"].pk)),
    # 控辍保学
    Case("care:cases", "cases", lambda w: {"q": _pupil(w, "c1").name}, lambda w: _row("care:case", w.cases["c1"].pk),
         lambda w: _row("care:case", w.cases["c2"].pk)),
    Case("care:cases", "cases", lambda w: {"school": w.schools["s2"].pk}, lambda w: _row("care:case", w.cases["c4"].pk),
         lambda w: _row("care:case", w.cases["c1"].pk)),
    Case("care:cases", "cases", lambda w: {"klass": w.classes["c3"].pk}, lambda w: _row("care:case", w.cases["c3"].pk),
         lambda w: _row("care:case", w.cases["c1"].pk)),
    Case("care:cases", "cases", lambda w: {"visit": "due"}, lambda w: _row("care:case", w.cases["c2"].pk),
         lambda w: _row("care:case", w.cases["c1"].pk)),  # c1's home visit is recorded
    Case("care:cases", "cases", lambda w: {"status": "RETURNED"}, lambda w: None,
         lambda w: _row("care:case", w.cases["c1"].pk)),
    Case("care:cases", "cases", lambda w: {"status": "open", "school": w.schools["s1"].pk},
         lambda w: _row("care:case", w.cases["c1"].pk), lambda w: _row("care:case", w.cases["c4"].pk)),
    # 发放明细 (a batch's payment lines)
    Case("disbursements:batch", "lines", lambda w: {"status": "FAILED"}, lambda w: None,
         lambda w: _row("students:detail", _pupil(w, "c1").pk), kwargs=lambda w: {"pk": w.batch.pk}),
    Case("disbursements:batch", "lines", lambda w: {"q": _pupil(w, "c1").name}, lambda w: _row("students:detail", _pupil(w, "c1").pk),
         lambda w: "never-there", kwargs=lambda w: {"pk": w.batch.pk}),
    Case("disbursements:batch", "lines", lambda w: {"school": w.schools["s2"].pk}, lambda w: None,
         lambda w: _row("students:detail", _pupil(w, "c1").pk), kwargs=lambda w: {"pk": w.batch.pk}),
    # 部门名单
    Case("registry:index", "snapshots", lambda w: {"q": "民政"}, lambda w: _snapshots(w)[0].file_name,
         lambda w: _snapshots(w)[1].file_name),
    Case("registry:index", "snapshots", lambda w: {"status": "RURAL"}, lambda w: _snapshots(w)[1].file_name,
         lambda w: _snapshots(w)[0].file_name),
    # 比对
    Case("reconciliation:runs", "runs", lambda w: {"status": "FAILED"}, lambda w: None,
         lambda w: _row("reconciliation:run", _run(w).pk)),
    Case("reconciliation:runs", "runs", lambda w: {"semester": w.semester.pk}, lambda w: _row("reconciliation:run", _run(w).pk),
         lambda w: "never-there"),
]  # fmt: skip


def _table(body: str, testid: str) -> str:
    """The HTML of the table marked `data-testid=testid`, or "" when the page shows none."""
    match = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', body, re.S)
    return match.group(0) if match else ""


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("case", CASES, ids=[f"{c.page}-{i}" for i, c in enumerate(CASES)])
def test_search_and_each_filter_narrow_the_rows(world, case: Case):
    w = world.a
    _snapshots(w), _run(w)  # rows of the lists that the world does not hold
    client = _client(w.users[case.role])
    everything = _table(client.get(case.url(w), ALL if case.page == A else None).content.decode(), case.table)
    hidden = case.hidden(w)
    if hidden != "never-there":
        assert hidden in everything, "the row to filter out is listed without the filter"
    response = client.get(case.url(w), case.params(w))
    assert response.status_code == 200
    table = _table(response.content.decode(), case.table)
    shown = case.shown(w)
    if shown is None:
        assert hidden not in table
    else:
        assert shown in table
        assert hidden not in table


def test_another_tenants_school_is_an_invalid_filter_and_shows_no_rows(world):
    """A filter naming someone else's row is refused (the choices are the user's), never ignored."""
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    body = client.get(reverse(S), {"school": world.b.schools["s1"].pk}).content.decode()
    assert _table(body, "students") == ""
    assert world.b.schools["s1"].name not in body


def test_a_school_officer_is_offered_only_their_school(world):
    body = _client(world.a.users[Role.SCHOOL_OFFICER]).get(reverse(S)).content.decode()
    assert world.a.schools["s1"].name in body
    assert f'value="{world.a.schools["s2"].pk}"' not in body


def test_status_tabs_count_rows_under_the_other_filters_in_one_query(world, django_assert_max_num_queries):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    body = client.get(reverse("care:cases"), {"school": world.a.schools["s1"].pk}).content.decode()
    tabs = re.search(r'data-testid="list-tabs".*?</ul>', body, re.S).group(0)
    counts = dict(
        re.findall(r'status=(\w*)[^"]*">[^<]*<span class="badge[^"]*">(\d+)</span>', tabs.replace("&amp;", "&"))
    )
    assert counts.get("SUSPECTED") == "3"  # three of s1's classes, not s2's
    assert counts.get("RETURNED") == "0"


def test_sorting_is_whitelisted_and_reorders(world):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    up = _table(client.get(reverse("schools:list"), {"sort": "name"}).content.decode(), "schools")
    down = _table(client.get(reverse("schools:list"), {"sort": "-name"}).content.decode(), "schools")
    s1, s2 = (_row("schools:detail", world.a.schools[k].pk) for k in ("s1", "s2"))
    assert (up.index(s1) < up.index(s2)) != (down.index(s1) < down.index(s2))
    # A column that is not offered is not a sort: an invalid filter, no rows.
    assert _table(client.get(reverse("schools:list"), {"sort": "tenant__name"}).content.decode(), "schools") == ""


def _sheet_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return book.read("xl/worksheets/sheet1.xml").decode()


def test_the_export_holds_the_filtered_rows_with_masked_numbers(world):
    w = world.a
    client = _client(w.users[Role.DISTRICT_STAFF])
    response = client.get(reverse(S), {"school": w.schools["s2"].pk, "export": "xlsx"})
    assert response.status_code == 200
    sheet = _sheet_text(b"".join(response.streaming_content))
    assert _pupil(w, "c4").name in sheet
    assert _pupil(w, "c1").name not in sheet
    assert _pupil(w, "c4").id_number.reveal() not in sheet  # masked, as on the page
    assert _pupil(w, "c4").id_number.masked in sheet


EXPORTS = [
    "students:list", "students:applications", "students:publicities", "funding:award_lists", "disbursements:batches",
    "disbursements:corrections", "schools:list", "care:cases", "registry:index", "reconciliation:runs",
]  # fmt: skip


@pytest.mark.parametrize("page", EXPORTS)
def test_every_list_exports_what_it_shows(world, page):
    _snapshots(world.a), _run(world.a)
    response = _client(world.a.users[Role.DISTRICT_STAFF]).get(reverse(page), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "<row" in _sheet_text(b"".join(response.streaming_content))


EMPTY = [
    ("students:list", Role.DISTRICT_STAFF, {"q": "无此人"}, "清除筛选"),
    ("care:cases", Role.CLASS_TEACHER, {"status": "RETURNED"}, "可在此登记本班今日缺勤"),
    ("students:applications", Role.DISTRICT_STAFF, {}, "暂无待您审核的申请"),
]


@pytest.mark.parametrize(("page", "role", "params", "says"), EMPTY)
def test_an_empty_list_says_what_to_do_next(world, page, role, params, says):
    """Emptied by a filter: the way back; an empty tab: the page's next step, in the offices' words."""
    body = _client(world.a.users[role]).get(reverse(page), params).content.decode()
    assert 'data-testid="empty-state"' in body
    assert says in body


def _new_pupil(w: TenantWorld, i: int, keys: tuple[str, ...] = ("c1", "c2", "c3", "c4"), **extra):
    return make_student(w.classes[keys[i % len(keys)]], name=f"{w.marker}grow{i}", region="410622", **extra)


def _new_school(w: TenantWorld, i: int):
    """A primary school of its own (T3) with one grade and one class: a row of the lists kept by school."""
    from schools import services
    from schools.models import Area, Stage

    school = services.school_create(
        code=f"4106229{i:03d}",
        name=f"{w.marker}grow school {i}",
        stages=[Stage.PRIMARY],
        area=Area.RURAL,
        township="T3",
    )
    grade = services.grade_create(school=school, stage=Stage.PRIMARY, entry_year=2025)
    return school, services.class_create(grade=grade, number=1)


def _paid(w: TenantWorld, i: int, batch=None, **pupil):
    """A pupil of school s1 with an approved award on the world's award list and a paid line in `batch`."""
    from disbursements.models import LineStatus, PaymentLine
    from funding.models import Award, AwardStatus

    student = _new_pupil(w, i, ("c1", "c2", "c3"), **pupil)
    program = w.award.program
    award = Award.objects.create(
        award_list=w.award_list, program=program, semester=w.semester, student=student, school_id=student.school_id,
        grade_id=student.grade_id, klass_id=student.klass_id, amount=250, status=AwardStatus.APPROVED, reason="grow",
    )  # fmt: skip
    line = PaymentLine.objects.create(
        batch=batch or w.batch, award=award, program=program, semester=w.semester, student=student,
        school_id=student.school_id, grade_id=student.grade_id, klass_id=student.klass_id, amount=250,
        source=program.source, bank="农村信用社", account=student.card_account.reveal(), holder=student.card_holder,
        status=LineStatus.PAID,
    )  # fmt: skip
    return award, line


def _grow_students(w: TenantWorld, n: int) -> None:
    for i in range(n):
        _new_pupil(w, i)


def _grow_applications(w: TenantWorld, n: int) -> None:
    for i in range(n):
        make_application(_new_pupil(w, i), by=w.users[Role.CLASS_TEACHER])


def _grow_cases(w: TenantWorld, n: int) -> None:
    for i in range(n):
        make_case(_new_pupil(w, i), by=w.users[Role.CLASS_TEACHER], status="SUSPECTED", absent_days=5)


def _grow_publicities(w: TenantWorld, n: int) -> None:
    from students.models import Publicity, PublicityEntry

    for i in range(n):
        pupil = _new_pupil(w, i)
        publicity = Publicity.objects.create(
            school_id=pupil.school_id, academic_year=2026, title=f"grow {i}", created_by=w.users[Role.SCHOOL_OFFICER]
        )
        application = make_application(pupil, by=w.users[Role.CLASS_TEACHER])
        PublicityEntry.objects.create(publicity=publicity, application=application)


def _grow_award_lists(w: TenantWorld, n: int) -> None:
    from funding.models import Award, AwardList, AwardListStatus, AwardStatus

    program = w.award.program
    for i in range(n):
        school, klass = _new_school(w, i)
        award_list = AwardList.objects.create(
            program=program, semester=w.semester, school=school, status=AwardListStatus.APPROVED
        )
        pupil = make_student(klass, name=f"{w.marker}grow{i}", region="410622")
        Award.objects.create(
            award_list=award_list, program=program, semester=w.semester, student=pupil, school=school,
            grade_id=pupil.grade_id, klass=klass, amount=250, status=AwardStatus.APPROVED, reason="grow",
        )  # fmt: skip


def _grow_batches(w: TenantWorld, n: int) -> None:
    from disbursements.models import Batch, BatchKind, BatchStatus, EnrollmentConfirmation

    for i in range(n):
        batch = Batch.objects.create(
            semester=w.semester, number=2 + i, kind=BatchKind.REISSUE, status=BatchStatus.RELEASED,
            created_by=w.users[Role.DISTRICT_STAFF],
        )  # fmt: skip
        EnrollmentConfirmation.objects.create(
            batch=batch, school=w.schools["s1"], confirmed_by=w.users[Role.SCHOOL_OFFICER]
        )
        _paid(w, i, batch)


def _grow_lines(w: TenantWorld, n: int) -> None:
    for i in range(n):
        _paid(w, i)


def _grow_ledger(w: TenantWorld, n: int) -> None:
    for i in range(n):
        _paid(w, i, village=f"{w.marker}村{i}")  # a row of the ledger per village


def _grow_corrections(w: TenantWorld, n: int) -> None:
    from disbursements.models import Correction, CorrectionKind, CorrectionStatus, Recovery

    for i in range(n):
        award, line = _paid(w, i)
        correction = Correction.objects.create(
            kind=CorrectionKind.RECOVER, award=award, line=line, school_id=award.school_id, amount=250, reason="grow",
            proposed_by=w.users[Role.DISTRICT_STAFF], status=CorrectionStatus.APPROVED,
        )  # fmt: skip
        Recovery.objects.create(correction=correction, line=line, school_id=award.school_id, amount=250)


def _grow_checks(w: TenantWorld, n: int) -> None:
    from disbursements.models import Batch, BatchKind, BatchStatus
    from oversight.models import CheckFollowUp, SpotCheck, SpotCheckLine

    district = w.users[Role.DISTRICT_STAFF]
    for i in range(n):
        batch = Batch.objects.create(
            semester=w.semester, number=2 + i, kind=BatchKind.REISSUE, status=BatchStatus.RELEASED, created_by=district
        )
        _award, line = _paid(w, i, batch)
        check = SpotCheck.objects.create(
            batch=batch, semester=w.semester, seed=i, size=1, population=1, drawn_by=district
        )
        check_line = SpotCheckLine.objects.create(
            sample=check, line=line, student_id=line.student_id, school_id=line.school_id, grade_id=line.grade_id,
            klass_id=line.klass_id, rank=1,
        )  # fmt: skip
        CheckFollowUp.objects.create(check_line=check_line, school_id=line.school_id)


def _grow_audit(w: TenantWorld, n: int) -> None:
    _grow_students(w, n)  # every pupil and guardian written is an event of the trail


def _grow_schools(w: TenantWorld, n: int) -> None:
    for i in range(n):
        _new_school(w, i)


def _grow_weekly(w: TenantWorld, n: int) -> None:
    from care.models import WeeklyReturn

    for i in range(n):
        school, _klass = _new_school(w, i)
        WeeklyReturn.objects.create(
            school=school, week_start=dt.date(2026, 10, 5), due_on=dt.date(2026, 10, 10), status="SUBMITTED",
            submitted_by=w.users[Role.DISTRICT_STAFF], submitted_at=dt.datetime(2026, 10, 9, tzinfo=dt.UTC),
        )  # fmt: skip


def _grow_budgets(w: TenantWorld, n: int) -> None:
    from funding.models import Budget

    for i in range(n):
        school, _klass = _new_school(w, i)
        Budget.objects.create(
            program=w.award.program, semester=w.semester, school=school, planned_students=1, planned_amount=250
        )


def _grow_classes(w: TenantWorld, n: int) -> None:
    from schools import services

    for i in range(n):
        klass = services.class_create(grade=w.grades[("g1", "g2", "g3")[i % 3]], number=10 + i)
        make_student(klass, name=f"{w.marker}grow{i}", region="410622")


def _grow_snapshots(w: TenantWorld, n: int) -> None:
    for i in range(n):
        RegistrySnapshot.objects.create(
            source="CIVIL", file_name=f"grow{i}.csv", fingerprint=f"{100 + i:064d}", taken_on=dt.date(2026, 11, 2),
            imported_by=w.users[Role.DISTRICT_STAFF],
        )  # fmt: skip


def _grow_runs(w: TenantWorld, n: int) -> None:
    from audits.models import ReconciliationRun

    for i in range(n):
        ReconciliationRun.objects.create(
            semester=w.semester, status="FAILED", started_by=w.users[Role.DISTRICT_STAFF], inputs_fingerprint=str(i)
        )


def _grow_roster_jobs(w: TenantWorld, n: int) -> None:
    from schools.models import Job
    from students.roster.services import JOB_KIND

    for _i in range(n):
        Job.objects.create(kind=JOB_KIND, actor=w.users[Role.DISTRICT_STAFF])


def _grow_outreach(w: TenantWorld, n: int) -> None:
    from oversight.models import OutreachRecord

    for i in range(n):
        OutreachRecord.objects.create(
            school=w.schools[("s1", "s2")[i % 2]], semester=w.semester, kind="LETTER", held_on=dt.date(2026, 10, 9),
            audience=30, note=f"grow {i}", recorded_by=w.users[Role.SCHOOL_OFFICER],
        )  # fmt: skip


def _grow_reports(w: TenantWorld, n: int) -> None:
    from oversight.models import ReportSnapshot

    for i in range(n):
        ReportSnapshot.objects.create(
            kind="MONTHLY", period=f"2025-{1 + i % 12:02d}", period_start=dt.date(2025, 1 + i % 12, 1),
            period_end=dt.date(2025, 1 + i % 12, 28), semester=w.semester, figures={}, fingerprint=f"{i:064d}",
            generated_by=w.users[Role.DISTRICT_STAFF],
        )  # fmt: skip


def _grow_pairings(w: TenantWorld, n: int) -> None:
    from students.models import HomeVisit, VisitPurpose
    from tests.factories import make_pairing

    teacher = w.users[Role.CLASS_TEACHER]
    for i in range(n):
        pupil = _new_pupil(w, i, ("c1",))
        make_pairing(pupil, teacher=teacher, by=w.users[Role.SCHOOL_OFFICER])
        HomeVisit.objects.create(
            student=pupil, school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id,
            purpose=VisitPurpose.PAIRING, visited_on=dt.date(2026, 10, 9), visitor=teacher, visitor_name="t",
            met="母亲", situation="ok", next_due_on=dt.date(2027, 1, 9), recorded_by=teacher,
        )  # fmt: skip


def _grow_needing_a_teacher(w: TenantWorld, n: int) -> None:
    """Pupils identified as especially difficult this school year (they need a paired teacher), none paired."""
    from core import clock
    from students.models import Tier

    for i in range(n):
        make_application(
            _new_pupil(w, i), by=w.users[Role.CLASS_TEACHER], status="IDENTIFIED", tier=Tier.SPECIAL,
            academic_year=clock.current_school_year(),
        )  # fmt: skip


def _grow_watch(w: TenantWorld, n: int) -> None:
    from care.models import RiskFlag, RiskKind

    for i in range(n):
        pupil = _new_pupil(w, i)
        RiskFlag.objects.create(
            student=pupil, school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id,
            kind=RiskKind.DISTANCE, note="路远", set_by=w.users[Role.CLASS_TEACHER],
        )  # fmt: skip


def _grow_emergency(w: TenantWorld, n: int) -> None:
    from funding.models import Award, AwardList, AwardListStatus, AwardStatus, Program

    program = Program.objects.filter(is_emergency=True).order_by("code").first()
    school = w.schools["s1"]
    award_list, _created = AwardList.objects.get_or_create(
        program=program, semester=w.semester, school=school, defaults={"status": AwardListStatus.APPROVED}
    )
    for i in range(n):
        pupil = _new_pupil(w, i, ("c1", "c2", "c3"))
        Award.objects.create(
            award_list=award_list, program=program, semester=w.semester, student=pupil, school=school,
            grade_id=pupil.grade_id, klass_id=pupil.klass_id, amount=500, status=AwardStatus.APPROVED, reason="grow",
        )  # fmt: skip


def _grow_accounts(w: TenantWorld, n: int) -> None:
    from tests.factories import user_with_role

    for i in range(n):
        user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c2"], username=f"grow-teacher-{i}")


def _grow_entries(w: TenantWorld, n: int) -> None:
    from students.models import PublicityEntry

    for i in range(n):
        application = make_application(_new_pupil(w, i, ("c1", "c2", "c3")), by=w.users[Role.CLASS_TEACHER])
        PublicityEntry.objects.create(publicity=w.publicity, application=application)


def _grow_sample(w: TenantWorld, n: int) -> None:
    from oversight.models import CheckFollowUp, SpotCheckLine

    for i in range(n):
        _award, line = _paid(w, i)
        check_line = SpotCheckLine.objects.create(
            sample=w.spot_check, line=line, student_id=line.student_id, school_id=line.school_id,
            grade_id=line.grade_id, klass_id=line.klass_id, rank=2 + i,
        )  # fmt: skip
        CheckFollowUp.objects.create(check_line=check_line, school_id=line.school_id)


def _grow_school_classes(w: TenantWorld, n: int) -> None:
    from schools import services

    for i in range(n):
        klass = services.class_create(grade=w.grades[("g1", "g2")[i % 2]], number=10 + i)
        make_student(klass, name=f"{w.marker}grow{i}", region="410622")


def _grow_week_cases(w: TenantWorld, n: int) -> None:
    """Cases of school s1 opened in the week of 5 October (the world's weekly returns' week)."""
    for i in range(n):
        make_case(
            _new_pupil(w, i, ("c1", "c2", "c3")), by=w.users[Role.CLASS_TEACHER], status="SUSPECTED", absent_days=5,
            opened_on=dt.date(2026, 10, 6),
        )  # fmt: skip


def _grow_findings(w: TenantWorld, n: int) -> None:
    from audits.models import Finding

    for i in range(n):
        pupil = _new_pupil(w, i)
        Finding.objects.create(
            run=_run(w), kind="OMISSION", reason="NOT_IDENTIFIED", student=pupil, school_id=pupil.school_id,
            grade_id=pupil.grade_id, klass_id=pupil.klass_id, category="DIBAO", evidence={"source": "CIVIL"},
        )  # fmt: skip


@dataclass
class Growing:
    """A list page whose rows `grow(w, n)` adds (through the factories: scoped and audited), seen by `role`."""

    page: str
    grow: Any
    role: str = Role.DISTRICT_STAFF
    params: Any = None  # w → the query string
    kwargs: Any = None  # w → the page's URL arguments
    first: int = 0  # rows grown before the first count, for a list the world leaves empty

    def __str__(self) -> str:  # the test id
        return self.page if self.role == Role.DISTRICT_STAFF else f"{self.page}-{self.role.lower()}"


GROWING = [
    Growing(S, _grow_students),
    Growing(A, _grow_applications, params=lambda w: ALL),
    Growing("care:cases", _grow_cases),
    Growing("students:publicities", _grow_publicities),
    Growing("funding:award_lists", _grow_award_lists),
    Growing("funding:budgets", _grow_budgets, params=lambda w: {"program": w.award.program.pk}),
    Growing("funding:emergency_index", _grow_emergency),
    Growing("disbursements:batches", _grow_batches),
    Growing("disbursements:batch", _grow_lines, kwargs=lambda w: {"pk": w.batch.pk}),
    Growing("disbursements:corrections", _grow_corrections),
    Growing("disbursements:ledger", _grow_ledger),
    Growing("disbursements:letters", _grow_classes),
    Growing("oversight:checks", _grow_checks),
    Growing("oversight:outreach", _grow_outreach),
    Growing("oversight:reports", _grow_reports),
    Growing("schools:list", _grow_schools),
    Growing("students:roster", _grow_roster_jobs),
    Growing("registry:index", _grow_snapshots),
    Growing("reconciliation:runs", _grow_runs),
    Growing("audits:list", _grow_audit),
    Growing("care:pairing", _grow_needing_a_teacher),
    Growing("care:my_pupils", _grow_pairings, role=Role.CLASS_TEACHER),
    Growing("care:watch", _grow_watch),
    Growing("care:weekly", _grow_weekly, params=lambda w: {"week": "2026-10-05"}),
    Growing("care:weekly_summary", _grow_weekly),
    Growing("care:attendance_class", _grow_students, role=Role.CLASS_TEACHER, kwargs=lambda w: {"class_pk": w.classes["c1"].pk}),
    Growing("door:accounts", _grow_accounts, role=Role.TENANT_ADMIN),
    # The same lists as the school and the class see them (other columns, other buttons).
    Growing(S, _grow_students, role=Role.CLASS_TEACHER),
    Growing(S, _grow_students, role=Role.SCHOOL_OFFICER),
    Growing(A, _grow_applications, role=Role.SCHOOL_OFFICER, params=lambda w: ALL),
    Growing("care:cases", _grow_cases, role=Role.SCHOOL_OFFICER),
    Growing("disbursements:batches", _grow_batches, role=Role.SCHOOL_OFFICER),
    Growing("disbursements:corrections", _grow_corrections, role=Role.SCHOOL_OFFICER),
    Growing("oversight:checks", _grow_checks, role=Role.SCHOOL_OFFICER),
    Growing("audits:list", _grow_audit, role=Role.DISTRICT_AUDITOR),
    Growing(A, _grow_applications, role=Role.CLASS_TEACHER, params=lambda w: ALL),
    Growing("care:cases", _grow_cases, role=Role.CLASS_TEACHER),
    Growing("care:watch", _grow_watch, role=Role.CLASS_TEACHER),
    Growing("students:publicities", _grow_publicities, role=Role.SCHOOL_OFFICER),
    Growing("oversight:outreach", _grow_outreach, role=Role.SCHOOL_OFFICER),
    Growing("funding:emergency_index", _grow_emergency, role=Role.SCHOOL_OFFICER),
    # Lists inside a page: an award list's awards, a publicity's entries, a sample's lines, a school's
    # classes, a school's week, a reconciliation run's findings.
    Growing("funding:award_list", _grow_lines, kwargs=lambda w: {"pk": w.award_list.pk}),
    Growing("students:publicity", _grow_entries, role=Role.SCHOOL_OFFICER, kwargs=lambda w: {"pk": w.publicity.pk}),
    Growing("oversight:check", _grow_sample, kwargs=lambda w: {"pk": w.spot_check.pk}),
    Growing("oversight:check", _grow_sample, role=Role.SCHOOL_OFFICER, kwargs=lambda w: {"pk": w.spot_check.pk}),
    Growing("schools:detail", _grow_school_classes, kwargs=lambda w: {"pk": w.schools["s1"].pk}),
    Growing("care:weekly_school", _grow_week_cases, params=lambda w: {"week": "2026-10-05"},
            kwargs=lambda w: {"school_pk": w.schools["s1"].pk}),
    Growing("reconciliation:run", _grow_findings, kwargs=lambda w: {"pk": _run(w).pk}, first=1),
]  # fmt: skip


def test_every_list_of_the_menu_is_grown_here():
    """A list added to the side menu is added here too (or named as no list)."""
    from config.menu import MENU

    # Not lists of the tenant's rows: charts (a district's, a region's figures of its districts), a
    # redirect to one's class (grown as care:attendance_class), Django's admin, the national calendar
    # (platform data, not a tenant's).
    not_lists = {"oversight:dashboard", "oversight:region", "care:attendance", "admin:index", "schools:calendar"}
    menu = {entry.url_name for group in MENU for entry in group.entries}
    assert menu - not_lists <= {g.page for g in GROWING}


@pytest.mark.parametrize("growing", GROWING, ids=str)
def test_the_query_count_does_not_grow_with_the_rows(world, growing: Growing, django_assert_max_num_queries):
    """A few rows and many rows cost the same number of queries (no query per row, no count per tab)."""
    w = world.a
    client = _client(w.users[growing.role])
    url = reverse(growing.page, kwargs=growing.kwargs(w) if growing.kwargs else None)
    params = growing.params(w) if growing.params else None
    _snapshots(w), _run(w)  # a row in the lists the world leaves empty: a list's first row may add a query
    if growing.first:
        with tenant_transaction(w.tenant.pk):
            growing.grow(w, growing.first)
    client.get(url, params)  # warm what every page keeps (session, menu, the register's tab counts)
    with CaptureQueriesContext(connection) as few:
        first = client.get(url, params)
    assert first.status_code == 200
    with tenant_transaction(w.tenant.pk):
        growing.grow(w, 12)
        money_summary_rebuild()  # rows of the money were written around the services
    with django_assert_max_num_queries(len(few.captured_queries)):
        second = client.get(url, params)
    assert second.status_code == 200
    assert len(second.content) > len(first.content) + 500, "the page does not show the rows added"


@pytest.mark.parametrize(
    "filterset_path",
    [
        "students.filters.StudentListFilter",
        "students.filters.ApplicationListFilter",
        "care.filters.CaseFilter",
        "disbursements.filters.CorrectionFilter",
    ],
)
def test_all_tabs_are_counted_in_one_query(world, filterset_path, django_assert_num_queries):
    from django.utils.module_loading import import_string

    from core.listing import status_tabs

    user = world.a.users[Role.DISTRICT_STAFF]
    cls = import_string(filterset_path)
    with tenant_transaction(world.a.tenant.pk):
        filterset = cls({"school": str(world.a.schools["s1"].pk)}, cls._meta.model.objects.visible_to(user), user=user)
        filterset.is_valid()  # the school choice is checked against the user's schools first
        with django_assert_num_queries(1):
            tabs = status_tabs(filterset)
    assert len(tabs) == len(cls.status_choices) + 1 + len(filterset.extra_tabs())
