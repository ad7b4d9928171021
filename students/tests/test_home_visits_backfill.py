"""The nominations' home visits recorded before visits were records of their own get their record,
audited, once (issue 16, item 6)."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from core.audit.models import AuditEvent
from students.models import HardshipApplication, HomeVisit, VisitPurpose


def test_backfill_makes_each_nominations_visit_record_once(world, tenant_of):
    w = world.a
    app = w.applications["c1"]
    with tenant_of(w.tenant):
        # Written as the identification wrote it before: on the nomination only.
        HardshipApplication.objects.filter(pk=app.pk).update(
            visit_on=dt.date(2026, 9, 15), visit_by="王老师", visit_findings="住房简陋"
        )
        assert not HomeVisit.objects.filter(application=app).exists()
    out = io.StringIO()
    call_command("home_visits_backfill", tenant=w.tenant.slug, stdout=out)
    assert f"{w.tenant.slug}: 1 home visit record(s) made" in out.getvalue()
    with tenant_of(w.tenant):
        visit = HomeVisit.objects.get(application=app)
        assert (visit.purpose, visit.visited_on, visit.visitor_name, visit.situation) == (
            VisitPurpose.IDENTIFICATION, dt.date(2026, 9, 15), "王老师", "住房简陋",
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="visit.record_identification", object_id=str(visit.pk)).exists()
    call_command("home_visits_backfill", stdout=io.StringIO())
    with tenant_of(w.tenant):
        assert HomeVisit.objects.filter(application=app).count() == 1
    with tenant_of(world.b.tenant):
        assert not HomeVisit.objects.filter(purpose=VisitPurpose.IDENTIFICATION).exists()
