"""The identified summary (students.identification.summary) equals the count over the applications, group
by group, after each service that makes an application identified or changes an identified one's tier:
the district's approval (one, then in bulk), a mid-year tier adjustment, a migrated list. Each step also
shows the summary moved with it (a service that forgot to refresh fails here). The safety net rebuilds
the same rows; a school's officer reads their school's rows only (the dashboard reading it:
oversight/tests/test_dashboard.py)."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.db.models import Count

from schools.permissions import Action, Role
from students.identification import workflow
from students.identification.adjustments import tier_adjust_decide, tier_adjust_propose
from students.identification.migration.services import identification_migration_import
from students.identification.summary import identified_counts, identified_live, identified_summary_rebuild
from students.models import ApplicationStatus, HardshipApplication, IdentifiedSummary, Tier
from students.tests.test_identification_migration import row_for, write_list
from students.tests.test_workflow import _ready
from tests.factories import user_with_role

S = ApplicationStatus
YEAR = 2026


def _waiting(w, pupils) -> list[HardshipApplication]:
    """The pupils' applications waiting for the district's re-check (straight into the table: not
    identified, nothing to sum); the world's own application of a pupil is moved there."""
    out = []
    for pupil in pupils:
        existing = HardshipApplication.objects.filter(student=pupil).first()
        if existing is None:
            out.append(_ready(pupil, S.DISTRICT_REVIEW, w.users[Role.CLASS_TEACHER]))
            continue
        HardshipApplication.objects.filter(pk=existing.pk).update(
            status=S.DISTRICT_REVIEW, class_evaluation="班委会一致同意", materials_complete=True
        )
        out.append(HardshipApplication.objects.get(pk=existing.pk))
    return out


def _summary() -> dict[tuple, int]:
    return {
        (r.academic_year, r.school_id, r.grade_id, r.tier, json.dumps(r.categories)): r.pupils
        for r in IdentifiedSummary.objects.all()
    }


def _live() -> dict[tuple, int]:
    rows = (
        HardshipApplication.objects.filter(status=S.IDENTIFIED)
        .order_by()
        .values("academic_year", "school_id", "grade_id", "tier", "categories")
        .annotate(n=Count("pk"))
    )
    out: dict[tuple, int] = {}
    for r in rows:
        raw = r["categories"]
        codes = json.loads(raw) if isinstance(raw, str) else raw
        key = (r["academic_year"], r["school_id"], r["grade_id"], r["tier"], json.dumps(codes))
        out[key] = out.get(key, 0) + r["n"]
    return out


def _agrees(district) -> dict[str, dict]:
    assert _summary() == _live()
    counts = identified_counts(user=district, academic_year=YEAR, action=Action.DASHBOARD_VIEW)
    assert counts == identified_live(user=district, academic_year=YEAR, action=Action.DASHBOARD_VIEW)
    return counts


def test_the_summary_moves_with_every_identification_service_and_equals_the_live_count(world, tenant_of, tmp_path):
    w = world.a
    officer, district = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        waiting = _waiting(w, w.students["c1"] + w.students["c4"])
        HardshipApplication.objects.filter(pk=waiting[0].pk).update(categories=["DIBAO"])
        assert _agrees(district)["tier"] == {}

        # One approved by the district: identified, with its category.
        workflow.application_decide(actor=district, application_id=waiting[0].pk, decision="approve")
        counts = _agrees(district)
        assert (sum(counts["tier"].values()), counts["category"]) == (1, {"DIBAO": 1})

        # The others in bulk: s1's and s2's (s2 is rural).
        workflow.applications_decide(actor=district, application_ids=[a.pk for a in waiting[1:]], decision="approve")
        counts = _agrees(district)
        assert sum(counts["tier"].values()) == len(waiting) == 4
        assert counts["tier"] == {Tier.DIFFICULT: 4}
        assert counts["category"] == {"DIBAO": 1, "": 3}
        assert counts["area"]["RURAL"] == len(w.students["c4"])

        # A mid-year tier adjustment (the school proposes, the district approves): the pupil moves tier.
        adjustment = tier_adjust_propose(actor=officer, application=waiting[1], to_tier=Tier.SPECIAL, reason="父亲病故")
        assert _agrees(district)["tier"] == {Tier.DIFFICULT: 4}  # proposed only
        tier_adjust_decide(actor=district, adjustment=adjustment, approve=True)
        assert _agrees(district)["tier"] == {Tier.DIFFICULT: 3, Tier.SPECIAL: 1}

        # A migrated list (认定名单迁移): pupils identified by an earlier system join the figures.
        path = write_list(tmp_path / "list.xlsx", [row_for(w, w.students["c2"][0], klass="c2")])
        outcome = identification_migration_import(path=path, file_name="list.xlsx", academic_year=YEAR, actor=district)
        assert outcome.applied
        counts = _agrees(district)
        assert sum(counts["tier"].values()) == 5
        assert counts["category"]["DIBAO"] == 2

        # The safety net rebuilds exactly the rows the services kept (ids aside), alone and with the money.
        kept = _summary()
        identified_summary_rebuild()
        assert _summary() == kept
        call_command("money_summary_rebuild", tenant=w.tenant.slug, stdout=None)
        assert _summary() == kept


def test_written_behind_the_services_the_summary_waits_for_the_rebuild(world, tenant_of):
    """The limit, shown: an application identified with a bare UPDATE is not counted until the rebuild."""
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        (app,) = _waiting(w, w.students["c1"][:1])
        HardshipApplication.objects.filter(pk=app.pk).update(status=S.IDENTIFIED, tier=Tier.GENERAL)
        assert _summary() == {} != _live()
        identified_summary_rebuild()
        assert _agrees(district)["tier"] == {Tier.GENERAL: 1}


def test_a_school_reads_its_own_schools_rows_only(world, tenant_of):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        waiting = _waiting(w, w.students["c1"][:1] + w.students["c4"])
        workflow.applications_decide(actor=district, application_ids=[a.pk for a in waiting], decision="approve")
        officer2 = user_with_role(w.tenant, Role.SCHOOL_OFFICER, w.schools["s2"])
        counts = {}
        for user in (district, w.users[Role.SCHOOL_OFFICER], officer2):
            counts[user] = identified_counts(user=user, academic_year=YEAR, action=Action.DASHBOARD_VIEW)
            assert counts[user] == identified_live(user=user, academic_year=YEAR, action=Action.DASHBOARD_VIEW)
    assert [sum(c["tier"].values()) for c in counts.values()] == [3, 1, 2]
