"""The periodic reports (月调度、季汇总、半年通报): a snapshot keeps the figures it was made with while the
data changes afterwards, the auditor sees it beside the live figures, nobody can change it (the model
nor the database), the beat task makes each due report once, and the page's button is a job."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from disbursements.models import Recovery
from disbursements.services.corrections import recovery_record
from oversight.models import ReportKind, ReportSnapshot, SnapshotImmutable
from oversight.services import (
    REPORT_JOB_KIND,
    Period,
    fingerprint,
    period_containing,
    period_last_complete,
    report_generate,
    reports_due,
)
from oversight.tasks import report_generate_task
from schools.models import Job, JobStatus
from schools.permissions import Role
from schools.services import tenant_system_user
from tests.factories import PASSWORD

MARCH = Period("2027-03", dt.date(2027, 3, 1), dt.date(2027, 3, 31))


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _approved(figures) -> str:
    chart = next(c for c in figures["charts"] if c["key"] == "money_totals")
    return chart["rows"][0][1]  # approved, paid, failed, recovered


def _recovered(figures) -> str:
    chart = next(c for c in figures["charts"] if c["key"] == "money_totals")
    return chart["rows"][3][1]


def test_a_snapshot_does_not_change_when_the_data_does_and_the_auditor_sees_both(world, tenant_of, money_semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        snapshot = report_generate(actor=district, kind=ReportKind.MONTHLY, period=MARCH)
        assert snapshot.semester == money_semester
        assert _recovered(snapshot.figures) == "100.25"
        # Later, more money comes back (recorded as the school records it, so the live figures move).
        recovery = Recovery.objects.get(line__semester=money_semester)
        recovery_record(actor=world.a.users[Role.SCHOOL_OFFICER], recovery=recovery, amount=Decimal("149.75"))
        stored = ReportSnapshot.objects.get(pk=snapshot.pk)
        assert _recovered(stored.figures) == "100.25"
        assert stored.fingerprint == fingerprint(stored.figures) == snapshot.fingerprint
    page = _client(world.a.users[Role.DISTRICT_AUDITOR]).get(f"/oversight/reports/{snapshot.pk}/").content.decode()
    assert 'data-testid="differs-money_totals"' in page  # the live figures differ, and the page says so
    assert "100.25" in page
    assert "250.00" in page
    assert 'data-testid="sealed"' in page
    assert "text-bg-success" in page


def test_nobody_changes_a_snapshot_not_even_on_the_database(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        snapshot = report_generate(actor=world.a.users[Role.DISTRICT_STAFF], kind=ReportKind.QUARTERLY, period=MARCH)
        snapshot.period = "2027-Q9"
        with pytest.raises(SnapshotImmutable):
            snapshot.save()
        with pytest.raises(SnapshotImmutable):
            snapshot.delete()
        for statement in (
            "UPDATE oversight_reportsnapshot SET period = 'x'",
            "DELETE FROM oversight_reportsnapshot",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        assert ReportSnapshot.objects.get(pk=snapshot.pk).period == "2027-03"


def test_periods_of_the_three_reports():
    day = dt.date(2027, 1, 4)
    assert period_last_complete(ReportKind.MONTHLY, day) == Period(
        "2026-12", dt.date(2026, 12, 1), dt.date(2026, 12, 31)
    )
    assert period_last_complete(ReportKind.QUARTERLY, day) == Period(
        "2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    )
    assert period_last_complete(ReportKind.HALF_YEAR, day) == Period(
        "2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31)
    )
    assert period_containing(ReportKind.MONTHLY, dt.date(2027, 2, 14)).end == dt.date(2027, 2, 28)


def test_the_beat_task_makes_each_due_report_once_as_the_district(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        system = tenant_system_user(world.a.tenant)
        assert reports_due(actor=system, today=dt.date(2027, 4, 3)) == []  # a Saturday: not a working day
        made = reports_due(actor=system, today=dt.date(2027, 4, 5))  # the Monday after
        assert {(s.kind, s.period) for s in made} == {
            (ReportKind.MONTHLY, "2027-03"), (ReportKind.QUARTERLY, "2027-Q1"), (ReportKind.HALF_YEAR, "2026-H2"),
        }  # fmt: skip
        assert all(s.scheduled and s.generated_by == system for s in made)
        monthly = next(s for s in made if s.kind == ReportKind.MONTHLY)
        assert _approved(monthly.figures) == "500.00"  # the whole district's money, read by the system account
        assert reports_due(actor=system, today=dt.date(2027, 4, 7)) == []  # once per period
        assert ReportSnapshot.objects.filter(scheduled=True).count() == 3


def test_the_button_starts_a_job_whose_snapshot_opens_and_downloads(world, tenant_of, money_semester):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    started = client.post("/oversight/reports/generate/", {"kind": ReportKind.MONTHLY})
    again = client.post("/oversight/reports/generate/", {"kind": ReportKind.MONTHLY})
    assert started.status_code == again.status_code == 302
    assert started["Location"] == again["Location"]
    with tenant_of(world.a.tenant):
        job = Job.objects.get(kind=REPORT_JOB_KIND)
        report_generate_task.apply(
            kwargs={"tenant_id": str(job.tenant_id), "actor_id": str(job.actor_id), "job_id": str(job.pk)}
        )
        job = Job.objects.get(pk=job.pk)
        assert job.status == JobStatus.SUCCEEDED, job.message
        snapshot = ReportSnapshot.objects.get(pk=job.result["snapshot"])
        assert not snapshot.scheduled
    done = client.get(started["Location"]).content.decode()
    assert f"/oversight/reports/{snapshot.pk}/" in done
    book = client.get(f"/oversight/reports/{snapshot.pk}/", {"format": "xlsx"})
    sheets = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content)), read_only=True)
    assert len(sheets.sheetnames) == len(snapshot.figures["charts"])
    printable = client.get(f"/oversight/reports/{snapshot.pk}/").content.decode()
    assert "css/oversight.css" in printable  # the print stylesheet (A4)
    assert "onclick" not in printable


def test_who_reads_and_makes_reports(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        snapshot = report_generate(actor=world.a.users[Role.DISTRICT_STAFF], kind=ReportKind.MONTHLY, period=MARCH)
    for role in Role:
        client = _client(world.a.users[role])
        reads = role in (Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR)
        assert client.get("/oversight/reports/").status_code == (200 if reads else 403), role
        assert client.get(f"/oversight/reports/{snapshot.pk}/").status_code == (200 if reads else 404), role
        makes = client.post("/oversight/reports/generate/", {"kind": ReportKind.MONTHLY}).status_code
        assert makes == (302 if role == Role.DISTRICT_STAFF else 403), role
