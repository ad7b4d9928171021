"""回访: post-payment checks — the draw is reproducible from its seed, a school sees and records only its
own sampled lines, a discrepancy opens a follow-up that can become a correction, a double click draws
one sample, and the dashboard shows progress and results."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from audits.models import AuditEvent
from core import clock
from disbursements.models import Batch, BatchKind, BatchStatus, Correction, CorrectionKind, LineStatus, PaymentLine
from funding.models import Award, AwardList, AwardListStatus, AwardStatus, Program
from oversight.checks import selectors, services
from oversight.checks.models import (
    CheckFollowUp,
    CheckLineStatus,
    CheckResult,
    FollowUpStatus,
    SpotCheck,
    SpotCheckLine,
)
from oversight.checks.worklist import check_items
from oversight.selectors import dashboard
from schools.permissions import Role
from tests.factories import make_semester

TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def paid_batch(world, tenant_of):
    """Tenant A's spring 2026: every one of its 8 pupils (both schools) awarded the living subsidy and
    paid in one released batch."""
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        program = Program.objects.get(code="LIVING_SUBSIDY")
        batch = Batch.objects.create(
            semester=semester, number=1, kind=BatchKind.FIRST, status=BatchStatus.RELEASED, created_by=district
        )
        lists = {
            key: AwardList.objects.create(
                program=program, semester=semester, school=school, status=AwardListStatus.APPROVED
            )
            for key, school in w.schools.items()
        }
        for pupil in w.all_students:
            key = "s1" if pupil.school_id == w.schools["s1"].pk else "s2"
            award = Award.objects.create(
                award_list=lists[key], program=program, semester=semester, student=pupil, school_id=pupil.school_id,
                grade_id=pupil.grade_id, klass_id=pupil.klass_id, amount=Decimal("250.00"),
                status=AwardStatus.APPROVED, reason="test",
            )  # fmt: skip
            PaymentLine.objects.create(
                batch=batch, award=award, program=program, semester=semester, student=pupil,
                school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id, amount=award.amount,
                source=program.source, bank="农村信用社", account=pupil.card_account.reveal(),
                holder=pupil.card_holder, status=LineStatus.PAID,
            )  # fmt: skip
    return batch


def _expected_order(batch, seed):
    """The draw as an auditor recomputes it outside the database: MD5 of "<seed>:<line id as the
    database writes it>", ascending, the id breaking a tie."""
    lines = PaymentLine.objects.filter(batch=batch, status=LineStatus.PAID).values_list("pk", flat=True)
    text = str if connection.vendor == "postgresql" else (lambda u: u.hex)  # SQLite keeps UUIDs as hex

    def key(pk):
        return (hashlib.md5(f"{seed}:{text(pk)}".encode()).hexdigest(), str(pk))  # noqa: S324 (an ordering)

    return sorted(lines, key=key)


def test_the_sample_is_reproducible_from_its_seed(world, tenant_of, paid_batch):
    w = world.a
    with tenant_of(w.tenant):
        sample, created = services.spot_check_draw(
            actor=w.users[Role.DISTRICT_STAFF], batch=paid_batch, size=4, seed=20261207
        )
        assert created
        assert sample.seed == 20261207
        assert sample.size == 4
        assert sample.population == 8
        drawn = list(SpotCheckLine.objects.filter(sample=sample).order_by("rank").values_list("line_id", flat=True))
        # The same seed on the same batch draws the same lines, in the same order, however often asked,
        # and the order is the documented one (an auditor can recompute it).
        assert [r["pk"] for r in services.sample_lines(batch=paid_batch, seed=20261207, size=4)] == drawn
        assert _expected_order(paid_batch, 20261207)[:4] == drawn
        # Another seed orders the lines otherwise.
        other = [r["pk"] for r in services.sample_lines(batch=paid_batch, seed=1, size=8)]
        assert other != _expected_order(paid_batch, 20261207)
        assert sorted(other, key=str) == sorted(_expected_order(paid_batch, 1), key=str)
        assert other == _expected_order(paid_batch, 1)
        # The draw is audited with its seed.
        assert AuditEvent.objects.filter(action="spotcheck.draw", reason__contains="20261207").exists()


def test_a_share_is_rounded_up_and_a_seed_is_chosen_and_recorded(world, tenant_of, paid_batch):
    with tenant_of(world.a.tenant):
        sample, _created = services.spot_check_draw(
            actor=world.a.users[Role.DISTRICT_STAFF], batch=paid_batch, percent=Decimal("30")
        )
        assert sample.size == 3  # 30% of 8 = 2.4 → 3
        assert sample.percent == Decimal("30")
        assert sample.seed is not None
        drawn = list(SpotCheckLine.objects.filter(sample=sample).order_by("rank").values_list("line_id", flat=True))
        assert _expected_order(paid_batch, sample.seed)[:3] == drawn


def test_a_double_click_draws_one_sample(world, tenant_of, paid_batch):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    url = reverse("oversight:check_draw")
    first = client.post(url, {"batch": paid_batch.pk, "size": "3", "seed": "5"})
    second = client.post(url, {"batch": paid_batch.pk, "size": "6"})
    assert first.status_code == second.status_code == 302
    assert first.url == second.url  # both land on the one sample
    with tenant_of(w.tenant):
        assert SpotCheck.objects.filter(batch=paid_batch).count() == 1
        sample = SpotCheck.objects.get(batch=paid_batch)
        assert (sample.size, sample.seed) == (3, 5)
        assert SpotCheckLine.objects.filter(sample=sample).count() == 3


def test_bad_draws_are_refused_with_a_message(world, tenant_of, paid_batch):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        for kwargs in ({}, {"size": 2, "percent": Decimal(10)}, {"size": 0}, {"percent": Decimal(101)}):
            with pytest.raises(ValidationError):
                services.spot_check_draw(actor=district, batch=paid_batch, **kwargs)
        frozen = Batch.objects.create(
            semester=paid_batch.semester, number=2, kind=BatchKind.REISSUE, status=BatchStatus.FROZEN,
            created_by=district,
        )  # fmt: skip
        with pytest.raises(ValidationError):
            services.spot_check_draw(actor=district, batch=frozen, size=1)
        with pytest.raises(PermissionDenied):
            services.spot_check_draw(actor=w.users[Role.SCHOOL_OFFICER], batch=paid_batch, size=1)
        assert not SpotCheck.objects.filter(batch__in=[paid_batch, frozen]).exists()
    client = Client()
    client.force_login(district)
    response = client.post(reverse("oversight:check_draw"), {"batch": paid_batch.pk, "size": "abc"}, follow=True)
    assert response.status_code == 200
    assert response.context["messages"]


def _draw_all(w, tenant_of, batch):
    with tenant_of(w.tenant):
        sample, _created = services.spot_check_draw(actor=w.users[Role.DISTRICT_STAFF], batch=batch, size=8, seed=3)
    return sample


def test_a_school_sees_and_records_only_its_own_sampled_lines(world, tenant_of, paid_batch):
    w = world.a
    sample = _draw_all(w, tenant_of, paid_batch)
    officer = w.users[Role.SCHOOL_OFFICER]  # of s1
    client = Client()
    client.force_login(officer)
    page = client.get(reverse("oversight:check", kwargs={"pk": sample.pk})).content.decode()
    s1 = [p for p in w.all_students if p.school_id == w.schools["s1"].pk]
    s2 = [p for p in w.all_students if p.school_id == w.schools["s2"].pk]
    assert all(p.name in page for p in s1)
    assert not any(p.name in page for p in s2)
    assert page.count('data-testid="record-form"') == len(s1)
    with tenant_of(w.tenant):
        theirs = SpotCheckLine.objects.get(sample=sample, student=s2[0])
        mine = SpotCheckLine.objects.get(sample=sample, student=s1[0])
        assert set(selectors.sample_lines(user=officer, sample=sample)) == set(
            SpotCheckLine.objects.filter(sample=sample, school=w.schools["s1"])
        )
        items = check_items(officer)  # with the world's own sample of its first batch (one line of s1)
        assert [i.count for i in items] == [len(s1) + 1]
    form = {"result": "IN_FULL", "method": "PHONE", "checked_on": "2026-12-01", "contact": "母亲 / 王老师"}
    assert client.post(reverse("oversight:check_record", kwargs={"pk": theirs.pk}), form).status_code == 404
    # The principal sees the school's lines but does not record them.
    principal = Client()
    principal.force_login(w.users[Role.PRINCIPAL])
    assert principal.post(reverse("oversight:check_record", kwargs={"pk": mine.pk}), form).status_code == 403
    with clock.frozen_at(TODAY):
        assert client.post(reverse("oversight:check_record", kwargs={"pk": mine.pk}), form).status_code == 302
    with tenant_of(w.tenant):
        mine.refresh_from_db()
        theirs.refresh_from_db()
        assert (mine.status, mine.result, mine.recorded_by_id) == (CheckLineStatus.CHECKED, "IN_FULL", officer.pk)
        assert mine.received_amount == Decimal("250.00")
        assert theirs.status == CheckLineStatus.PENDING
        assert not CheckFollowUp.objects.exists() or not CheckFollowUp.objects.filter(check_line=mine).exists()


def test_a_discrepancy_opens_a_follow_up_that_can_become_a_correction(world, tenant_of, paid_batch):
    w = world.a
    sample = _draw_all(w, tenant_of, paid_batch)
    officer, district = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        line = SpotCheckLine.objects.filter(sample=sample, school=w.schools["s1"]).order_by("rank").first()
        services.spot_check_record(
            actor=officer, check_line=line, result=CheckResult.NOT_ARRIVED, method="VISIT",
            checked_on=dt.date(2026, 12, 2), contact="父亲 / 李老师", note="卡上没有到账",
        )  # fmt: skip
        follow_up = CheckFollowUp.objects.get(check_line=line)
        assert follow_up.status == FollowUpStatus.OPEN
        assert follow_up.school_id == line.school_id
        assert [i.count for i in check_items(district)] == [2]  # with the world's own follow-up
        with pytest.raises(PermissionDenied):
            services.follow_up_correct(actor=officer, follow_up=follow_up, reason="x")
        services.follow_up_correct(actor=district, follow_up=follow_up, reason="回访未到账，追回后重新发放")
        follow_up.refresh_from_db()
        correction = Correction.objects.get(pk=follow_up.correction_id)
        assert follow_up.status == FollowUpStatus.CORRECTED
        assert correction.kind == CorrectionKind.RECOVER
        assert correction.award_id == line.line.award_id
        assert correction.evidence == services.evidence_of(follow_up)
        assert AuditEvent.objects.filter(action="spotcheck.correct").exists()
        with pytest.raises(ValidationError):  # settled once
            services.follow_up_resolve(actor=district, follow_up=follow_up, resolution="again")


def test_a_follow_up_can_be_settled_without_a_correction_from_the_page(world, tenant_of, paid_batch):
    w = world.a
    sample = _draw_all(w, tenant_of, paid_batch)
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        line = SpotCheckLine.objects.filter(sample=sample, school=w.schools["s1"]).order_by("rank").first()
        services.spot_check_record(
            actor=w.users[Role.SCHOOL_OFFICER], check_line=line, result=CheckResult.LATE, method="PHONE",
            checked_on=TODAY, contact="母亲",
        )  # fmt: skip
        follow_up = CheckFollowUp.objects.get(check_line=line)
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    url = reverse("oversight:follow_up_decide", kwargs={"pk": follow_up.pk})
    assert client.post(url, {"decision": "resolve", "text": ""}).status_code == 302  # refused: say how
    with tenant_of(w.tenant):
        follow_up.refresh_from_db()
        assert follow_up.status == FollowUpStatus.OPEN
    client.post(url, {"decision": "resolve", "text": "银行系统延迟，已到账"})
    with tenant_of(w.tenant):
        follow_up.refresh_from_db()
        assert follow_up.status == FollowUpStatus.RESOLVED
        assert follow_up.correction_id is None


def test_records_are_checked_and_the_sample_completes_with_its_last_line(world, tenant_of, paid_batch):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        sample, _created = services.spot_check_draw(actor=district, batch=paid_batch, size=2, seed=9)
        lines = list(SpotCheckLine.objects.filter(sample=sample).select_related("school").order_by("rank"))
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        for line in lines:
            officer = w.users[Role.SCHOOL_OFFICER]
            if line.school_id != w.schools["s1"].pk:  # an officer of s2 records s2's lines
                from tests.factories import user_with_role

                officer = user_with_role(w.tenant, Role.SCHOOL_OFFICER, line.school)
            base = {"actor": officer, "check_line": line, "method": "PHONE", "contact": "家长"}
            with pytest.raises(ValidationError):  # not in the future
                services.spot_check_record(**base, result="IN_FULL", checked_on=TODAY + dt.timedelta(days=1))
            with pytest.raises(ValidationError):  # short: how much arrived
                services.spot_check_record(**base, result="SHORT", checked_on=TODAY)
            services.spot_check_record(**base, result="SHORT", checked_on=TODAY, received_amount=Decimal("200"))
            with pytest.raises(ValidationError):  # once
                services.spot_check_record(**base, result="IN_FULL", checked_on=TODAY)
        sample.refresh_from_db()
        assert sample.status == "DONE"
        assert CheckFollowUp.objects.filter(check_line__sample=sample).count() == 2


def test_the_dashboard_shows_progress_per_school_and_results(world, tenant_of, paid_batch):
    w = world.a
    sample = _draw_all(w, tenant_of, paid_batch)
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        line = SpotCheckLine.objects.filter(sample=sample, school=w.schools["s1"]).order_by("rank").first()
        services.spot_check_record(
            actor=w.users[Role.SCHOOL_OFFICER], check_line=line, result="IN_FULL", method="PHONE",
            checked_on=TODAY, contact="家长",
        )  # fmt: skip
        board = dashboard(user=w.users[Role.DISTRICT_STAFF], semester=paid_batch.semester)
        progress = board.chart("checks_progress").rows
        assert sorted(progress) == sorted([[w.schools["s1"].name, 1, 6], [w.schools["s2"].name, 0, 2]])
        results = dict((r[0], r[1]) for r in board.chart("checks_results").rows)
        assert results[str(CheckResult.IN_FULL.label)] == 1
        assert sum(results.values()) == 8
        school_board = dashboard(user=w.users[Role.SCHOOL_OFFICER], semester=paid_batch.semester)
        assert school_board.chart("checks_progress").rows == [[w.schools["s1"].name, 1, 6]]
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    page = client.get(reverse("oversight:checks"), {"semester": paid_batch.semester.pk}).content.decode()
    assert "1/6" in page
    assert "0/2" in page
