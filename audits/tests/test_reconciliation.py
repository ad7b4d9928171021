"""The reconciliation run: every reason code found once and nothing else; reproducible; and its lists
acted on through the ordinary disbursement rules (no double payment)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audits.models import Finding, FindingKind, FindingStatus, ReasonCode, ReconciliationRun
from audits.reconciliation.selectors import evidence_summary
from audits.reconciliation.services import errors_to_corrections, omissions_to_awards, reconciliation_run
from disbursements.models import (
    BatchKind,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    LineStatus,
    PaymentLine,
    Recovery,
)
from disbursements.services import batches, corrections
from funding.models import Award, AwardList, AwardListStatus, AwardStatus, Program
from funding.services import awards, budgets
from schools.permissions import Role
from students.models import EnrollmentStatus, Student, Tier
from tests.factories import user_with_role

from . import scenario

D = Decimal


def test_a_tenant_with_nothing_wrong_has_empty_lists(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        run, created = reconciliation_run(actor=w.users[Role.DISTRICT_STAFF], semester=w.semester)
        assert created
        assert run.findings.count() == 0  # the fixture's paid award of c1[0] is correct


def test_every_reason_code_is_found_once_and_nothing_else(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        run, created = reconciliation_run(actor=sc.district, semester=w.semester)
        assert created
        assert scenario.found(run) == sc.expected()
        assert run.findings.count() == len(sc.expected())  # no duplicates hidden by the set
        # Every reason of one district's own data (FUNDED_ELSEWHERE needs a second district and the
        # platform's matching: audits/tests/test_crossdistrict.py).
        assert {f.reason for f in run.findings.all()} == set(ReasonCode.values) - {ReasonCode.FUNDED_ELSEWHERE}
        assert run.counts["OMISSION"] == 2
        assert run.counts["TIER"] == 1
        assert run.counts["STOP"] == 5
        assert run.counts["RECOVER"] == 3

        by = {(f.reason, f.student_id): f for f in run.findings.all()}
        p, a = sc.pupils, sc.awards
        omitted = by[(ReasonCode.NOT_IDENTIFIED, p["not_identified"].pk)]
        assert omitted.category == "DIBAO"
        assert [(r["row"], r["named"], r["category"]) for r in omitted.evidence["registry"]] == [(2, "child", "DIBAO")]
        assert omitted.evidence["suggested_tier"] == "SPECIAL"
        assert omitted.award_id is None
        assert omitted.program_id is not None

        not_awarded = by[(ReasonCode.NOT_AWARDED, p["not_awarded"].pk)]
        assert not_awarded.program.code == "LIVING_SUBSIDY"
        assert not_awarded.amount == D("250.00")
        assert [(r["row"], r["named"], r["category"]) for r in not_awarded.evidence["registry"]] == [
            (3, "parent", "DIBAO_EDGE")
        ]

        tier = by[(ReasonCode.TIER_TOO_LOW, p["tier"].pk)]
        assert (tier.evidence["tier"], tier.evidence["demanded"], tier.category) == ("DIFFICULT", "SPECIAL", "ORPHAN")
        assert tier.evidence["registry"][0]["row"] == 4
        # The pages and the export name the tiers and the enrollment, never their stored codes.
        summary = evidence_summary(tier, {})
        assert str(Tier.DIFFICULT.label) in summary
        assert str(Tier.SPECIAL.label) in summary
        assert "SPECIAL" not in summary
        left_summary = evidence_summary(by[(ReasonCode.LEFT_SCHOOL, p["left"].pk)], {})
        assert str(EnrollmentStatus.TRANSFERRED_OUT.label) in left_summary
        assert "TRANSFERRED_OUT" not in left_summary

        dropped = by[(ReasonCode.REGISTRY_DROPPED, p["dropped"].pk)]
        assert dropped.award_id == a["dropped"].pk
        assert dropped.evidence["award"] == str(a["dropped"].pk)
        assert dropped.evidence["claimed"] == ["DIBAO"]
        assert dropped.evidence["listed"] == []
        assert dropped.amount == D("250.00")  # what was paid, to recover
        assert [line["status"] for line in dropped.evidence["lines"]] == [LineStatus.PAID]

        assert by[(ReasonCode.LEFT_SCHOOL, p["left"].pk)].evidence["enrollment"] == "TRANSFERRED_OUT"
        assert by[(ReasonCode.LEFT_SCHOOL, p["left"].pk)].award_id == a["left"].pk
        assert by[(ReasonCode.NOT_REGISTERED, p["unregistered"].pk)].award_id == a["unregistered"].pk

        # Funded but dropped out: by a confirmed dropout case (the enrollment not yet changed), or by the
        # enrollment; a pupil whose confirmed case ended with the return is on no list.
        case_dropout = by[(ReasonCode.FUNDED_DROPPED_OUT, p["case_dropout"].pk)]
        assert case_dropout.award_id == a["case_dropout"].pk
        assert case_dropout.evidence["dropout_case"]["confirmed_on"] == "2026-10-12"
        assert case_dropout.evidence["enrollment"] == EnrollmentStatus.ATTENDING
        assert "2026-10-12" in evidence_summary(case_dropout, {})
        status_dropout = by[(ReasonCode.FUNDED_DROPPED_OUT, p["status_dropout"].pk)]
        assert "dropout_case" not in status_dropout.evidence
        assert str(EnrollmentStatus.DROPPED_OUT.label) in evidence_summary(status_dropout, {})
        assert not run.findings.filter(student=p["came_back"]).exists()

        double = by[(ReasonCode.DOUBLE_FUNDED, p["double"].pk)]
        assert double.award_id == a["double"].pk  # the county's second award, not the living subsidy
        assert double.evidence["kept"] == str(a["double_kept"].pk)
        assert double.program_id == sc.county.pk

        shared = run.findings.filter(reason=ReasonCode.SHARED_CARD)
        assert {f.award_id for f in shared} == {a["card1"].pk, a["card2"].pk}
        for f in shared:
            other = p["card2"] if f.student_id == p["card1"].pk else p["card1"]
            assert f.evidence["shared_with"] == [str(other.pk)]
        # The fixture's correct, paid award is on no list.
        assert not run.findings.filter(student=w.students["c1"][0]).exists()


def test_siblings_sharing_a_parents_card_are_not_a_shared_card(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        # card2 turns out to be card1's sibling: the same mother.
        mother = sc.pupils["card1"].guardians.get()
        g = sc.pupils["card2"].guardians.get()
        g.id_number = mother.id_number.reveal()
        g.save()
        run, _ = reconciliation_run(actor=sc.district, semester=w.semester)
        assert not run.findings.filter(reason=ReasonCode.SHARED_CARD).exists()
        assert scenario.found(run) == {e for e in sc.expected() if e[1] != ReasonCode.SHARED_CARD}


def test_a_run_is_reproducible_and_a_changed_input_makes_a_new_run(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        run, created = reconciliation_run(actor=sc.district, semester=w.semester)
        assert created
        findings = Finding.objects.count()
        again, created = reconciliation_run(actor=sc.district, semester=w.semester)
        assert (again.pk, created) == (run.pk, False)
        assert Finding.objects.count() == findings
        assert ReconciliationRun.objects.count() == 1
        assert again.inputs["snapshots"]["CIVIL"]["fingerprint"] == run.inputs["snapshots"]["CIVIL"]["fingerprint"]

        # The pupil without a registration number gets one: a new run, the same lists minus that line.
        pupil = Student.objects.get(pk=sc.pupils["unregistered"].pk)
        pupil.student_no = "G410622000000000001"
        pupil.save(update_fields=["student_no", "student_no_hash", "updated_at"])
        newer, created = reconciliation_run(actor=sc.district, semester=w.semester)
        assert created
        assert newer.pk != run.pk
        assert newer.inputs_fingerprint != run.inputs_fingerprint
        assert scenario.found(newer) == sc.expected() - {
            (FindingKind.STOP, ReasonCode.NOT_REGISTERED, sc.pupils["unregistered"].pk)
        }
        assert scenario.found(run) == sc.expected()  # the old run's lists are kept as they were


def test_only_district_staff_run_and_act(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        run, _ = reconciliation_run(actor=w.users[Role.DISTRICT_STAFF], semester=w.semester)
        for role in (Role.SCHOOL_OFFICER, Role.DISTRICT_AUDITOR, Role.PRINCIPAL):
            with pytest.raises(PermissionDenied):
                reconciliation_run(actor=w.users[role], semester=w.semester)
            with pytest.raises(PermissionDenied):
                omissions_to_awards(actor=w.users[role], run=run)
            with pytest.raises(PermissionDenied):
                errors_to_corrections(actor=w.users[role], run=run)
        assert ReconciliationRun.objects.count() == 1


def test_omissions_become_the_reissue_batch_through_approval_and_are_paid_once(world, tenant_of):
    w = world.a
    officer = w.users[Role.SCHOOL_OFFICER]
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        district = sc.district
        living = Program.objects.get(code="LIVING_SUBSIDY")
        run, _ = reconciliation_run(actor=district, semester=w.semester)

        result = omissions_to_awards(actor=district, run=run)
        # The pupil not identified yet is left to the school's nomination; the identified one is proposed.
        assert result.acted == 1
        assert len(result.skipped) == 1
        new = Award.objects.get(student=sc.pupils["not_awarded"], program=living, semester=w.semester)
        assert (new.status, new.added_late, new.amount) == (AwardStatus.PROPOSED, True, D("250.00"))
        assert new.award_list_id == w.award_list.pk
        assert AwardList.objects.get(pk=w.award_list.pk).status == AwardListStatus.DRAFT  # reopened for it
        assert not Award.objects.filter(student=sc.pupils["not_identified"]).exists()
        finding = run.findings.get(reason=ReasonCode.NOT_AWARDED)
        assert (finding.status, finding.acted_ref) == (FindingStatus.ACTED, str(new.pk))

        # A second click adds nothing; nor does the service asked directly.
        awards_before = Award.objects.count()
        assert omissions_to_awards(actor=district, run=run).acted == 0
        assert (
            awards.award_omissions_add(
                actor=district, program=living, semester=w.semester, school=w.schools["s1"],
                student_ids=[sc.pupils["not_awarded"].pk],
            )
            == [new]
        )  # fmt: skip
        assert Award.objects.count() == awards_before

        # Published by the school, approved by the district after the period (within the budget).
        al = awards.award_list_publish(actor=officer, award_list=w.award_list, starts_on=dt.date(2026, 11, 2))
        with pytest.raises(ValidationError):
            awards.award_list_approve(actor=district, award_list=al, today=al.ends_on)  # still in publicity
        budgets.budget_adjust(actor=district, budget=w.budgets["s1"], adjustment=D("2000"), note="补发")
        awards.award_list_approve(actor=district, award_list=al, today=al.ends_on + dt.timedelta(days=1))
        new.refresh_from_db()
        assert new.status == AwardStatus.APPROVED

        # The reissue batch pays it, once.
        built = batches.batch_build(actor=district, semester=w.semester, kind=BatchKind.REISSUE)
        assert PaymentLine.objects.filter(award=new).count() == 1
        assert built.batch.lines.filter(award=new).get().amount == D("250.00")
        with pytest.raises(ValidationError):  # a second build while this one is open
            batches.batch_build(actor=district, semester=w.semester, kind=BatchKind.REISSUE)
        for school in {line.school for line in built.batch.lines.select_related("school")}:
            batches.batch_confirm_school(actor=_officer_of(w, school), batch=built.batch, school=school)
        batches.batch_release(actor=district, batch=built.batch)
        again = batches.batch_build(actor=district, semester=w.semester, kind=BatchKind.REISSUE)
        assert again.batch is None  # nothing left to pay: the released lines are live
        assert PaymentLine.objects.filter(award=new).count() == 1
        # The database's unique index on live lines is the last word.
        line = PaymentLine.objects.get(award=new)
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentLine.objects.create(
                batch=w.batch, award=new, program=living, semester=w.semester, student=line.student,
                school_id=line.school_id, grade_id=line.grade_id, klass_id=line.klass_id, amount=line.amount,
                source=line.source, bank=line.bank, account=line.account.reveal(), holder=line.holder,
            )  # fmt: skip

        # A new run sees the omission fixed; the old run can no longer be acted on.
        newer, created = reconciliation_run(actor=district, semester=w.semester)
        assert created
        assert (FindingKind.OMISSION, ReasonCode.NOT_AWARDED, sc.pupils["not_awarded"].pk) not in scenario.found(newer)
        with pytest.raises(ValidationError):
            omissions_to_awards(actor=district, run=run)
        with pytest.raises(ValidationError):
            errors_to_corrections(actor=district, run=run)
        assert omissions_to_awards(actor=district, run=newer).acted == 0
        assert Award.objects.filter(student=sc.pupils["not_awarded"]).count() == 1


def _officer_of(w, school):
    if school.pk == w.schools["s1"].pk:
        return w.users[Role.SCHOOL_OFFICER]
    return user_with_role(w.tenant, Role.SCHOOL_OFFICER, school)


def test_errors_become_stops_and_recoveries_approved_by_a_second_person(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        district = sc.district
        second = user_with_role(w.tenant, Role.DISTRICT_STAFF)
        a = sc.awards
        # A reissue batch is being assembled: the unpaid wrong awards have pending lines in it.
        built = batches.batch_build(actor=district, semester=w.semester, kind=BatchKind.REISSUE)
        pending = {line.award_id: line for line in built.batch.lines.all()}
        assert set(pending) == {a["unregistered"].pk, a["double_kept"].pk, a["double"].pk, a["card2"].pk}
        # Transferred out or dropped out: not paid.
        assert {award for award, _why in built.skipped} == {a["left"].pk, a["status_dropout"].pk}

        run, _ = reconciliation_run(actor=district, semester=w.semester)
        assert scenario.found(run) == sc.expected()
        before = Correction.objects.count()
        result = errors_to_corrections(actor=district, run=run)
        assert (result.acted, result.skipped) == (8, [])
        made = Correction.objects.exclude(pk=w.correction.pk).order_by("created_at")
        assert made.count() == before - 1 + 8
        kinds = {c.award_id: c for c in made}
        stops = {a[k].pk for k in ("left", "unregistered", "double", "card2", "status_dropout")}
        recoveries = {a[k].pk for k in ("dropped", "card1", "case_dropout")}
        assert set(kinds) == stops | recoveries
        for award_id, c in kinds.items():
            assert c.status == CorrectionStatus.PROPOSED
            assert c.proposed_by_id == district.pk
            assert c.kind == (CorrectionKind.STOP if award_id in stops else CorrectionKind.RECOVER)
            assert str(award_id) in c.evidence  # the finding's evidence travels with the proposal
        assert kinds[a["unregistered"].pk].line_id == pending[a["unregistered"].pk].pk
        assert kinds[a["dropped"].pk].amount == D("250.00")
        for f in run.findings.exclude(kind__in=[FindingKind.OMISSION, FindingKind.TIER]):
            assert (f.status, f.acted_ref) == (FindingStatus.ACTED, str(kinds[f.award_id].pk))

        # A second click does nothing.
        assert errors_to_corrections(actor=district, run=run).acted == 0
        assert Correction.objects.count() == before - 1 + 8 + 1

        # Four eyes: the proposer cannot approve; a second person does, and it takes effect.
        with pytest.raises(ValidationError):
            corrections.correction_decide(actor=district, correction=kinds[a["card2"].pk], approve=True)
        for c in kinds.values():
            corrections.correction_decide(actor=second, correction=c, approve=True)
        for key in ("left", "unregistered", "double", "card2"):
            assert Award.objects.get(pk=a[key].pk).status == AwardStatus.STOPPED
        for key in ("unregistered", "double", "card2"):
            assert PaymentLine.objects.get(pk=pending[a[key].pk].pk).status == LineStatus.REMOVED
        assert PaymentLine.objects.get(pk=pending[a["double_kept"].pk].pk).status == LineStatus.PENDING
        cases = Recovery.objects.exclude(pk=w.recovery.pk)
        assert {(r.correction.award_id, r.amount) for r in cases} == {
            (a["dropped"].pk, D("250.00")),
            (a["card1"].pk, D("250.00")),
            (a["case_dropout"].pk, D("250.00")),
        }

        # The batch pays only what stands: c4[0]'s living subsidy, not the county's second one.
        batches.batch_confirm_school(actor=_officer_of(w, w.schools["s2"]), batch=built.batch, school=w.schools["s2"])
        released = batches.batch_release(actor=district, batch=built.batch)
        assert list(released.lines.filter(status=LineStatus.EXPORTED).values_list("award_id", flat=True)) == [
            a["double_kept"].pk
        ]
        # Stopped awards are never built into a later batch.
        assert batches.batch_build(actor=district, semester=w.semester, kind=BatchKind.REISSUE).batch is None
