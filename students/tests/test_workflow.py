"""The review chain: nomination rules, every transition allowed and refused per role, bulk decisions,
and two reviewers clicking at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from students.identification import workflow
from students.identification.workflow import Nomination, WorkflowError
from students.models import (
    ApplicationDecision,
    ApplicationStatus,
    AttachmentKind,
    EnrollmentStatus,
    HardshipApplication,
    Student,
    Tier,
)
from tests.factories import make_application, make_student, user_with_role

S = ApplicationStatus

#: Who reviews at each step (DOMAIN.md: class → grade → school → district).
REVIEWER = {
    S.CLASS_EVALUATION: Role.CLASS_TEACHER,
    S.GRADE_REVIEW: Role.GRADE_LEADER,
    S.SCHOOL_REVIEW: Role.SCHOOL_OFFICER,
    S.DISTRICT_REVIEW: Role.DISTRICT_STAFF,
}
#: Where each decision leads from each step.
TARGET = {
    (S.CLASS_EVALUATION, "approve"): S.GRADE_REVIEW,
    (S.CLASS_EVALUATION, "reject"): S.REJECTED,
    (S.CLASS_EVALUATION, "withdraw"): S.WITHDRAWN,
    (S.GRADE_REVIEW, "approve"): S.SCHOOL_REVIEW,
    (S.GRADE_REVIEW, "return"): S.CLASS_EVALUATION,
    (S.GRADE_REVIEW, "reject"): S.REJECTED,
    (S.SCHOOL_REVIEW, "approve"): S.SCHOOL_APPROVED,
    (S.SCHOOL_REVIEW, "return"): S.GRADE_REVIEW,
    (S.SCHOOL_REVIEW, "reject"): S.REJECTED,
    (S.DISTRICT_REVIEW, "approve"): S.IDENTIFIED,
    (S.DISTRICT_REVIEW, "return"): S.SCHOOL_REVIEW,
    (S.DISTRICT_REVIEW, "reject"): S.REJECTED,
}
DECISIONS = ("approve", "return", "reject", "withdraw")


def _ready(student, status, by):
    """An application in `status` with everything its step needs (evaluation, proof, confirmation)."""
    return make_application(
        student,
        by=by,
        status=status,
        class_evaluation="班委会一致同意",
        materials_complete=True,
        village_confirmed_by="东村村委会",
        village_confirmed_on=dt.date(2026, 9, 20),
    )


def _nomination(**extra) -> Nomination:
    return Nomination(proposed_tier=Tier.DIFFICULT, family_situation="母亲长期患病，家庭无稳定收入", **extra)


# --- Nomination ------------------------------------------------------------------------------------------


def test_the_teacher_nominates_a_pupil_of_their_class_and_the_special_category_suggests_the_highest_tier(
    world, tenant_of
):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        app = workflow.application_nominate(
            actor=teacher, student=pupil, academic_year=2026, data=_nomination(categories=["DIBAO"])
        )
        assert app.status == S.CLASS_EVALUATION
        assert app.suggested_tier == Tier.SPECIAL
        assert "低保" in app.suggestion_reason
        assert app.materials_complete  # a special category needs no proof documents
        assert ApplicationDecision.objects.filter(application=app).count() == 1
        assert AuditEvent.objects.filter(object_id=str(app.pk), action="application.nominate").count() == 1


def test_a_category_without_special_status_suggests_nothing_and_needs_the_main_proof(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        app = workflow.application_nominate(
            actor=teacher,
            student=world.a.students["c1"][0],
            academic_year=2026,
            data=_nomination(categories=["LEFT_BEHIND"]),
        )
        assert app.suggested_tier == ""
        assert not app.materials_complete
        workflow.application_record_details(actor=teacher, application=app, class_evaluation="评议通过")
        with pytest.raises(WorkflowError, match=r"main proof|主要证明"):
            workflow.application_decide(actor=teacher, application_id=app.pk, decision="approve")
        workflow.attachment_add(
            actor=teacher,
            application=app,
            kind=AttachmentKind.MAIN_PROOF,
            upload=SimpleUploadedFile("诊断证明.pdf", b"%PDF-1.4 proof", content_type="application/pdf"),
        )
        workflow.application_decide(actor=teacher, application_id=app.pk, decision="approve")
        app.refresh_from_db()
        assert app.status == S.GRADE_REVIEW


def test_the_tenant_configures_the_tier_special_categories_suggest(world, tenant_of):
    tenant = world.a.tenant
    tenant.special_category_tier = Tier.DIFFICULT
    tenant.save(update_fields=["special_category_tier"])
    with tenant_of(tenant):
        app = workflow.application_nominate(
            actor=world.a.users[Role.CLASS_TEACHER],
            student=world.a.students["c1"][0],
            academic_year=2026,
            data=_nomination(categories=["ORPHAN"]),
        )
    assert app.suggested_tier == Tier.DIFFICULT


def test_one_live_application_per_student_and_year(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    with tenant_of(world.a.tenant):
        first = workflow.application_nominate(actor=teacher, student=pupil, academic_year=2026, data=_nomination())
        with pytest.raises(WorkflowError):
            workflow.application_nominate(actor=teacher, student=pupil, academic_year=2026, data=_nomination())
        workflow.application_decide(actor=teacher, application_id=first.pk, decision="withdraw")
        again = workflow.application_nominate(actor=teacher, student=pupil, academic_year=2026, data=_nomination())
        assert again.pk != first.pk
        workflow.application_nominate(actor=teacher, student=pupil, academic_year=2027, data=_nomination())


def test_only_the_class_teacher_of_an_attending_pupil_nominates(world, tenant_of):
    with tenant_of(world.a.tenant):
        other_class = world.a.students["c2"][0]
        with pytest.raises(PermissionDenied) as refused:
            workflow.application_nominate(
                actor=world.a.users[Role.CLASS_TEACHER], student=other_class, academic_year=2026, data=_nomination()
            )
        assert refused.type.__name__ == "PermissionDenied"
        for role in (Role.GRADE_LEADER, Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF):
            with pytest.raises(PermissionDenied):
                workflow.application_nominate(
                    actor=world.a.users[role], student=world.a.students["c1"][0], academic_year=2026, data=_nomination()
                )
        pupil = world.a.students["c1"][0]
        Student.objects.filter(pk=pupil.pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
        pupil.refresh_from_db()
        with pytest.raises(WorkflowError):
            workflow.application_nominate(
                actor=world.a.users[Role.CLASS_TEACHER], student=pupil, academic_year=2026, data=_nomination()
            )


# --- Every transition, every role ---------------------------------------------------------------------


@pytest.mark.parametrize("status", list(REVIEWER))
def test_each_step_is_decided_by_its_reviewer_only(world, tenant_of, status):
    """For one step: every decision tried by every role. Allowed exactly when the role is the step's
    reviewer and the decision exists at that step; the application then lands where TARGET says."""
    pupil = world.a.students["c1"][0]
    teacher = world.a.users[Role.CLASS_TEACHER]
    for decision in DECISIONS:
        for role in Role:
            with tenant_of(world.a.tenant):
                app = _ready(pupil, status, teacher)
                expected = TARGET.get((status, decision)) if role == REVIEWER[status] else None
                try:
                    workflow.application_decide(
                        actor=world.a.users[role], application_id=app.pk, decision=decision, reason="理由"
                    )
                    moved = True
                except WorkflowError:
                    moved = False
                app.refresh_from_db()
                if expected is None:
                    assert not moved, (status, decision, role)
                    assert app.status == status
                else:
                    assert moved, (status, decision, role)
                    assert app.status == expected, (status, decision, role)
                # Make room for the next one (one live application per student and year).
                HardshipApplication.objects.filter(pk=app.pk).delete()


@pytest.mark.parametrize("status", [S.SCHOOL_APPROVED, S.PUBLICITY, S.IDENTIFIED, S.REJECTED, S.WITHDRAWN])
def test_no_person_moves_an_application_out_of_order(world, tenant_of, status):
    """Outside the review steps (waiting for, or in, publicity; finished) no decision of anybody's
    moves an application: only publication, objections and the end of the period do."""
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], status, world.a.users[Role.CLASS_TEACHER])
        for role in Role:
            for decision in DECISIONS:
                with pytest.raises(WorkflowError):
                    workflow.application_decide(
                        actor=world.a.users[role], application_id=app.pk, decision=decision, reason="x"
                    )
        app.refresh_from_db()
        assert app.status == status


def test_the_status_cannot_be_assigned_around_the_state_machine(world, tenant_of):
    with tenant_of(world.a.tenant):
        app = world.a.applications["c1"]
        with pytest.raises(AttributeError):
            app.status = S.IDENTIFIED


def test_return_and_reject_need_a_reason(world, tenant_of):
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], S.GRADE_REVIEW, world.a.users[Role.CLASS_TEACHER])
        for decision in ("return", "reject"):
            with pytest.raises(WorkflowError, match=r"reason|理由"):
                workflow.application_decide(
                    actor=world.a.users[Role.GRADE_LEADER], application_id=app.pk, decision=decision, reason="  "
                )


def test_the_school_needs_the_village_committees_confirmation(world, tenant_of):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        app = make_application(world.a.students["c1"][0], by=world.a.users[Role.CLASS_TEACHER], status=S.SCHOOL_REVIEW)
        with pytest.raises(WorkflowError):
            workflow.application_decide(actor=officer, application_id=app.pk, decision="approve")
        workflow.village_confirm(
            actor=officer, application=app, confirmed_by="东村村委会", confirmed_on=dt.date(2026, 9, 20)
        )
        workflow.application_decide(actor=officer, application_id=app.pk, decision="approve")
        app.refresh_from_db()
        assert app.status == S.SCHOOL_APPROVED
        assert app.tier == Tier.DIFFICULT  # the proposed tier, as no special category suggested another


def test_bulk_approval_keeps_the_proposed_tier_of_a_special_category_pupil(world, tenant_of):
    """Issue 19, item 3: a disabled pupil proposed as 困难 stayed 困难 only until the bulk approvals,
    which silently took the category's suggestion (特别困难) and would have overpaid."""
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], S.SCHOOL_REVIEW, teacher)
        HardshipApplication.objects.filter(pk=app.pk).update(
            categories=["DISABLED_STUDENT"], suggested_tier=Tier.SPECIAL, suggestion_reason="special category: 残疾学生"
        )
        outcome = workflow.applications_decide(
            actor=world.a.users[Role.SCHOOL_OFFICER], application_ids=[app.pk], decision="approve"
        )
        assert outcome.moved == [app.pk]
        app.refresh_from_db()
        assert app.tier == Tier.DIFFICULT
        HardshipApplication.objects.filter(pk=app.pk).update(status=S.DISTRICT_REVIEW)
        workflow.applications_decide(
            actor=world.a.users[Role.DISTRICT_STAFF], application_ids=[app.pk], decision="approve"
        )
        app.refresh_from_db()
        assert (app.status, app.tier) == (S.IDENTIFIED, Tier.DIFFICULT)
        assert set(app.decisions.exclude(tier="").values_list("tier", flat=True)) == {Tier.DIFFICULT}


def test_a_reviewer_raising_a_proposed_tier_to_the_suggestion_gives_a_reason(world, tenant_of):
    """The suggestion is shown to the reviewer; taking it over the teacher's proposal is an overrule."""
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], S.DISTRICT_REVIEW, world.a.users[Role.CLASS_TEACHER])
        special = {"categories": ["DISABLED_STUDENT"], "suggested_tier": Tier.SPECIAL}
        HardshipApplication.objects.filter(pk=app.pk).update(**special)
        with pytest.raises(WorkflowError):
            workflow.application_decide(actor=district, application_id=app.pk, decision="approve", tier=Tier.SPECIAL)
        workflow.application_decide(
            actor=district,
            application_id=app.pk,
            decision="approve",
            tier=Tier.SPECIAL,
            reason="残疾证一级，按特殊类别认定",
        )
        app.refresh_from_db()
        assert app.tier == Tier.SPECIAL


def test_nomination_without_a_tier_takes_the_special_categorys_suggestion_visibly(world, tenant_of):
    """At nomination, where the policy applies it: no tier chosen + a special category = its tier,
    written on the nomination's decision row."""
    with tenant_of(world.a.tenant):
        app = workflow.application_nominate(
            actor=world.a.users[Role.CLASS_TEACHER],
            student=world.a.students["c1"][0],
            academic_year=2026,
            data=Nomination(proposed_tier="", family_situation="低保户", categories=["DIBAO"]),
        )
        assert app.proposed_tier == Tier.SPECIAL
        assert app.decisions.get().tier == Tier.SPECIAL
        with pytest.raises(WorkflowError):
            workflow.application_nominate(
                actor=world.a.users[Role.CLASS_TEACHER],
                student=world.a.students["c1"][1],
                academic_year=2026,
                data=Nomination(proposed_tier="", family_situation="务农", categories=[]),
            )


def test_the_district_overrules_the_tier_only_with_a_reason(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], S.DISTRICT_REVIEW, world.a.users[Role.CLASS_TEACHER])
        with pytest.raises(WorkflowError):
            workflow.application_decide(actor=district, application_id=app.pk, decision="approve", tier=Tier.GENERAL)
        workflow.application_decide(
            actor=district, application_id=app.pk, decision="approve", tier=Tier.GENERAL, reason="家庭收入已改善"
        )
        app.refresh_from_db()
        assert (app.status, app.tier) == (S.IDENTIFIED, Tier.GENERAL)
        decision = app.decisions.order_by("-created_at").first()
        assert (decision.tier, decision.reason) == (Tier.GENERAL, "家庭收入已改善")


def test_a_reviewer_is_told_when_the_application_moved_meanwhile(world, tenant_of):
    leader = world.a.users[Role.GRADE_LEADER]
    with tenant_of(world.a.tenant):
        app = _ready(world.a.students["c1"][0], S.GRADE_REVIEW, world.a.users[Role.CLASS_TEACHER])
        workflow.application_decide(
            actor=leader, application_id=app.pk, decision="approve", expected_status=S.GRADE_REVIEW
        )
        with pytest.raises(WorkflowError, match=r"already|已"):
            workflow.application_decide(
                actor=leader, application_id=app.pk, decision="approve", expected_status=S.GRADE_REVIEW
            )


# --- Many at once, and two at once ---------------------------------------------------------------------


def test_an_officer_approves_300_at_once_in_a_few_queries(world, tenant_of, django_assert_max_num_queries):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        pupils = [make_student(world.a.classes["c1"], name=f"批量{i}", region="410622") for i in range(300)]
        apps = [_ready(p, S.SCHOOL_REVIEW, teacher) for p in pupils]
        done_elsewhere = apps[0]
        HardshipApplication.objects.filter(pk=done_elsewhere.pk).update(status=S.SCHOOL_APPROVED)
        ids = [a.pk for a in apps] + [world.b.applications["c1"].pk]  # and one of another tenant
        with django_assert_max_num_queries(60):  # batched statements, not one per application (300)
            outcome = workflow.applications_decide(actor=officer, application_ids=ids, decision="approve")
        assert len(outcome.moved) == 299
        assert {pk for pk, _ in outcome.skipped} == {done_elsewhere.pk, world.b.applications["c1"].pk}
        assert HardshipApplication.objects.filter(pk__in=outcome.moved, status=S.SCHOOL_APPROVED).count() == 299
        assert ApplicationDecision.objects.filter(application_id__in=outcome.moved).count() == 299


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_leave_one_transition_and_one_audit_row():
    from tests.factories import build_world

    world = build_world()
    leader = world.a.users[Role.GRADE_LEADER]
    with tenant_transaction(world.a.tenant.pk):
        app = _ready(world.a.students["c1"][0], S.GRADE_REVIEW, world.a.users[Role.CLASS_TEACHER])
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve():
        try:
            barrier.wait()
            with tenant_transaction(world.a.tenant.pk):
                workflow.application_decide(
                    actor=leader, application_id=app.pk, decision="approve", expected_status=S.GRADE_REVIEW
                )
            results.append("moved")
        except WorkflowError:
            results.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["moved", "refused"]
    with tenant_transaction(world.a.tenant.pk):
        app.refresh_from_db()
        assert app.status == S.SCHOOL_REVIEW
        assert ApplicationDecision.objects.filter(application=app, decision="APPROVE").count() == 1
        assert AuditEvent.objects.filter(object_id=str(app.pk), action="application.grade_approve").count() == 1


def test_a_second_reviewer_of_the_same_step_is_told_who_decided_first(world, tenant_of):
    """Two grade leaders of one grade: the second, deciding without having seen the state (the API,
    a bulk decision), is told who decided it and when, not that the step is not theirs."""
    first = world.a.users[Role.GRADE_LEADER]
    with tenant_of(world.a.tenant):
        second = user_with_role(world.a.tenant, Role.GRADE_LEADER, world.a.grades["g1"], username="a.grade2")
        app = _ready(world.a.students["c1"][0], S.GRADE_REVIEW, world.a.users[Role.CLASS_TEACHER])
        workflow.application_decide(actor=first, application_id=app.pk, decision="approve")
        with pytest.raises(WorkflowError) as refused:
            workflow.application_decide(actor=second, application_id=app.pk, decision="approve")
        message = refused.value.messages[0]
        assert str(first) in message
        assert str(workflow.MSG_NOT_YOURS) not in message
        outcome = workflow.applications_decide(actor=second, application_ids=[app.pk], decision="approve")
        assert outcome.skipped == [(app.pk, message)]
        # Someone whose step it never was still hears that it is not theirs.
        with pytest.raises(WorkflowError, match=str(workflow.MSG_NOT_YOURS)):
            workflow.application_decide(
                actor=world.a.users[Role.CLASS_TEACHER], application_id=app.pk, decision="approve"
            )


# --- Any school year -------------------------------------------------------------------------------------


def test_the_teacher_nominates_for_an_earlier_school_year_chosen_on_the_page(world, tenant_of):
    """Issue 19, item 1: the page always used the current school year, so an earlier year's list could
    only be recorded by moving the server's clock."""
    from django.test import Client
    from django.urls import reverse

    from core import clock

    teacher = world.a.users[Role.CLASS_TEACHER]
    pupil = world.a.students["c1"][0]
    earlier = clock.current_school_year() - 1
    client = Client()
    client.force_login(teacher)
    url = reverse("students:application_new", kwargs={"student_pk": pupil.pk})
    page = client.get(url)
    assert f'<option value="{earlier}"' in page.content.decode()
    response = client.post(
        url, {"academic_year": earlier, "proposed_tier": Tier.GENERAL, "family_situation": "务农，收入低"}
    )
    assert response.status_code == 302
    with tenant_of(world.a.tenant):
        app = HardshipApplication.objects.get(student=pupil)
    assert (app.academic_year, app.proposed_tier) == (earlier, Tier.GENERAL)
