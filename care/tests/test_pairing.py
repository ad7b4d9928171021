"""1+1 pairing (结对帮扶): coverage, bulk pairing (set-based, refused for a teacher of another school),
the paired teacher's visits (never in the future, only by the paired teacher), overdue visits on the
teacher's worklist, the nomination's home visit as one of these records, the watch list, the pupil's
file, the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care.models import CareRules, Pairing, RiskFlag, RiskKind
from care.pairing import selectors, services
from care.worklist import pairing_items
from core import clock
from core.audit.models import AuditEvent
from schools import permissions
from schools.permissions import Role
from students.identification import workflow
from students.models import HomeVisit, Tier, VisitPurpose
from students.services import MSG_VISIT_FUTURE, home_visits_sync_from_applications
from tests.factories import make_application, user_with_role

TODAY = dt.date(2026, 12, 7)


def _identify(w, pupil, **extra):
    """An identification of this school year that makes the pupil need a teacher (特别困难 by default)."""
    values = {"status": "IDENTIFIED", "tier": Tier.SPECIAL, "proposed_tier": Tier.SPECIAL, **extra}
    return make_application(pupil, by=w.users[Role.CLASS_TEACHER], **values)


@pytest.fixture
def needing(world, tenant_of):
    """Tenant A: the first pupil of each class identified (c1 especially difficult, c2 registered poor
    (脱贫户) at the general tier, c3 and c4 especially difficult): four pupils who need a teacher."""
    w = world.a
    with tenant_of(w.tenant):
        pupils = [w.students[k][0] for k in ("c1", "c2", "c3", "c4")]
        _identify(w, pupils[0])
        _identify(w, pupils[1], tier=Tier.GENERAL, proposed_tier=Tier.GENERAL, categories=["LIFTED"])
        _identify(w, pupils[2])
        _identify(w, pupils[3])
    return pupils


def test_coverage_counts_pupils_without_a_teacher_and_overloaded_teachers(world, tenant_of, needing):
    w = world.a
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        CareRules.objects.update(pairing_max_pupils=3)
        found = selectors.coverage(user=w.users[Role.DISTRICT_STAFF])
        assert (found.needing, found.uncovered_total) == (4, 4)
        assert {p.pk for p in found.uncovered} == {p.pk for p in needing}
        # The factory paired the class teacher with the second pupil of every class: four, over three.
        assert [(t.pk, n) for t, n in found.overloaded] == [(w.users[Role.CLASS_TEACHER].pk, 4)]
        school = selectors.coverage(user=w.users[Role.SCHOOL_OFFICER])
        assert school.needing == 3  # the officer's school s1 only
        assert selectors.uncovered_count(user=w.users[Role.SCHOOL_OFFICER]) == 3


def test_the_district_pairs_many_pupils_in_one_call_with_a_fixed_number_of_statements(world, tenant_of, needing):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        teacher = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c2"])
        other = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c3"])
        permissions.assignments(district)  # the actor's roles, read once per request: not what is measured
        with CaptureQueriesContext(connection) as one:
            services.pairing_assign(actor=district, teacher=other, student_ids=[needing[0].pk])
        with CaptureQueriesContext(connection) as two:
            services.pairing_assign(actor=district, teacher=teacher, student_ids=[needing[1].pk, needing[2].pk])
        assert len(two) == len(one)  # set-based: the statements do not grow with the pupils
        # needing[0] changes teacher: the pairing with `other` ends, the history stays.
        result = services.pairing_assign(actor=district, teacher=teacher, student_ids=[p.pk for p in needing[:3]])
        assert (result.paired, result.ended, result.unchanged, result.teacher_total) == (1, 1, 2, 3)
        assert selectors.uncovered_count(user=district) == 1
        history = Pairing.objects.filter(student=needing[0]).order_by("created_at")
        assert [(p.teacher_id, p.ended_on) for p in history] == [(other.pk, TODAY), (teacher.pk, None)]
        assert AuditEvent.objects.filter(action="care.pairing_assign").count() == 4
        assert AuditEvent.objects.filter(action="care.pairing_end").count() == 1


def test_a_teacher_of_another_school_is_refused_and_nothing_changes(world, tenant_of, needing):
    w = world.a
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        stranger = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c4"])  # school s2
        before = Pairing.objects.count()
        with pytest.raises(services.PairingError) as refused:
            services.pairing_assign(
                actor=w.users[Role.DISTRICT_STAFF], teacher=stranger, student_ids=[needing[0].pk, needing[3].pk]
            )
        assert refused.value.messages == [
            str(services.MSG_OTHER_SCHOOL) % {"teacher": stranger.username, "n": 1, "names": needing[0].name}
        ]
        assert Pairing.objects.count() == before
        # A school officer cannot pair pupils of another school either (they are not theirs to pair).
        with pytest.raises(services.PairingError):
            services.pairing_assign(actor=w.users[Role.SCHOOL_OFFICER], teacher=stranger, student_ids=[needing[3].pk])
        # A class teacher cannot pair at all.
        with pytest.raises(services.PairingError):
            services.pairing_assign(actor=w.users[Role.CLASS_TEACHER], teacher=stranger, student_ids=[needing[0].pk])
        assert Pairing.objects.count() == before


def test_the_paired_teacher_records_visits_and_overdue_ones_wait_on_the_home_page(world, tenant_of):
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        # Paired on 1 September, visited every 90 days: due 30 November; c1's pupil was visited in
        # October with the next visit due in January.
        overdue = [row for row in selectors.my_pairings(user=teacher) if row.overdue]
        assert {r.pairing.student_id for r in overdue} == {w.students[k][1].pk for k in ("c2", "c3", "c4")}
        # A nomination's home visit is not the pairing's: it leaves the pairing visit overdue.
        app = w.applications["c2"]
        app.visit_on, app.visit_by = TODAY - dt.timedelta(days=3), "王老师"
        home_visits_sync_from_applications(actor=teacher, applications=[app])
        assert HomeVisit.objects.filter(student=app.student, purpose=VisitPurpose.IDENTIFICATION).exists()
        [item] = pairing_items(teacher)
        assert (item.count, item.url) == (3, reverse("care:my_pupils"))
        visit = services.pairing_visit_record(
            actor=teacher,
            student=w.students["c2"][1],
            visited_on=TODAY - dt.timedelta(days=1),
            met="祖母",
            situation="父母在外务工，祖母照看",
            needs="冬衣",
            follow_ups="联系学校送冬衣",
        )
        assert visit.purpose == VisitPurpose.PAIRING
        assert visit.next_due_on == TODAY + dt.timedelta(days=89)
        assert AuditEvent.objects.filter(action="visit.record_pairing", object_id=str(visit.pk)).exists()
        [item] = pairing_items(teacher)
        assert item.count == 2


def test_bad_visits_change_nothing_and_say_why(world, tenant_of):
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        before = HomeVisit.objects.count()
        with pytest.raises(services.ValidationError) as refused:
            services.pairing_visit_record(
                actor=teacher, student=w.students["c2"][1], visited_on=TODAY + dt.timedelta(days=1)
            )
        assert refused.value.messages == [str(MSG_VISIT_FUTURE)]
        other = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c2"])
        with pytest.raises(services.PairingError) as refused:
            services.pairing_visit_record(actor=other, student=w.students["c2"][1], visited_on=TODAY)
        assert refused.value.messages == [str(services.MSG_NOT_PAIRED)]
        assert HomeVisit.objects.count() == before


def test_the_nominations_home_visit_is_one_of_the_visit_records(world, tenant_of):
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    pupil = w.students["c1"][0]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        app = workflow.application_nominate(
            actor=teacher,
            student=pupil,
            academic_year=2027,
            data=workflow.Nomination(
                proposed_tier=Tier.DIFFICULT,
                family_situation="母亲患病",
                visit_on=dt.date(2026, 12, 1),
                visit_by="王老师",
                visit_findings="住房简陋",
            ),
        )
        visit = HomeVisit.objects.get(application=app)
        assert (visit.purpose, visit.visited_on, visit.visitor_name, visit.situation) == (
            VisitPurpose.IDENTIFICATION, dt.date(2026, 12, 1), "王老师", "住房简陋",
        )  # fmt: skip
        workflow.application_record_details(actor=teacher, application=app, visit_on=dt.date(2026, 12, 2))
        assert HomeVisit.objects.get(application=app).visited_on == dt.date(2026, 12, 2)
        assert HomeVisit.objects.filter(student=pupil).count() == 1  # the same record, not a second one


def test_the_watch_list_is_one_query_of_recorded_and_identified_risks(world, tenant_of, django_assert_num_queries):
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        disabled = w.students["c1"][1]
        app = w.applications["c1"]  # c1's second pupil, nominated: not yet identified, so no risk yet
        assert app.student_id == disabled.pk
        permissions.assignments(teacher)  # the user's roles, read once per request: not what is measured
        with django_assert_num_queries(1):
            pupils = selectors.watch_list(user=teacher)
        # The factory's distance flags: c1's first pupil (the teacher's class) only.
        assert [(p.pk, p.risks) for p in pupils] == [(w.students["c1"][0].pk, [RiskKind.DISTANCE.label])]
        _identify(w, w.students["c2"][0], categories=["DISABLED_STUDENT"])
        services.risk_flag_set(actor=teacher, student=w.students["c1"][0], kind=RiskKind.LEARNING, note="数学")
        by_pk = {p.pk: p.risks for p in selectors.watch_list(user=teacher)}
        # c2's pupil is not the teacher's class, but the school sees them: poverty (特别困难) and disability.
        assert by_pk == {w.students["c1"][0].pk: [RiskKind.DISTANCE.label, RiskKind.LEARNING.label]}
        school = {p.pk: p.risks for p in selectors.watch_list(user=w.users[Role.SCHOOL_OFFICER])}
        assert school[w.students["c2"][0].pk] == [
            RiskKind.POVERTY.label,
            RiskKind.DISABILITY.label,
            RiskKind.DISTANCE.label,
        ]
        flag = RiskFlag.objects.get(student=w.students["c1"][0], kind=RiskKind.LEARNING)
        services.risk_flag_clear(actor=teacher, flag=flag)
        assert not RiskFlag.objects.filter(pk=flag.pk).exists()


def _watch_rows(body: str) -> list[str]:
    return re.findall(r'data-testid="watch-row">\s*<div[^>]*>\s*<a class="fw-semibold" href="([^"]+)"', body)


def test_the_watch_page_pages_and_filters_by_search_school_and_risk(world, tenant_of):
    """The watch list as the other lists: 50 a page with the total, the search box, the school and a
    risk; a teacher's paired pupil of another school is on the teacher's list, not on that school's."""
    w = world.a
    first = {key: w.students[key][0] for key in ("c1", "c2", "c3", "c4")}  # the factory's distance flags
    link = {key: reverse("students:detail", kwargs={"pk": p.pk}) for key, p in first.items()}
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        _identify(w, first["c4"], categories=["DISABLED_STUDENT"])
    district = Client()
    district.force_login(w.users[Role.DISTRICT_STAFF])
    with clock.frozen_at(TODAY):
        body = district.get(reverse("care:watch")).content.decode()
        assert sorted(_watch_rows(body)) == sorted(link.values())
        assert re.search(r'data-testid="list-total">[^<]*\b4\b', body)
        by_school = district.get(reverse("care:watch"), {"school": w.schools["s2"].pk}).content.decode()
        assert _watch_rows(by_school) == [link["c4"]]
        by_risk = district.get(reverse("care:watch"), {"risk": RiskKind.DISABILITY}).content.decode()
        assert _watch_rows(by_risk) == [link["c4"]]
        assert by_risk.count('data-testid="risk"') == 3  # poverty (特别困难), disability, distance
        by_name = district.get(reverse("care:watch"), {"q": first["c2"].name}).content.decode()
        assert _watch_rows(by_name) == [link["c2"]]
        # A total kept from an earlier view never cuts a page short.
        with tenant_of(w.tenant):
            late = w.students["c2"][1]
            RiskFlag.objects.create(
                student=late, school_id=late.school_id, grade_id=late.grade_id, klass_id=late.klass_id,
                kind=RiskKind.LEARNING, set_by=w.users[Role.CLASS_TEACHER],
            )  # fmt: skip
        again = district.get(reverse("care:watch")).content.decode()
        assert reverse("students:detail", kwargs={"pk": late.pk}) in _watch_rows(again)
    # c4's second pupil (school s2) is paired with c1's teacher: on the teacher's list once flagged.
    paired = w.pairings["c4"].student
    with tenant_of(w.tenant):
        RiskFlag.objects.create(
            student=paired, school_id=paired.school_id, grade_id=paired.grade_id, klass_id=paired.klass_id,
            kind=RiskKind.LEARNING, set_by=w.users[Role.CLASS_TEACHER],
        )  # fmt: skip
    paired_link = reverse("students:detail", kwargs={"pk": paired.pk})
    teacher, officer = Client(), Client()
    teacher.force_login(w.users[Role.CLASS_TEACHER])
    officer.force_login(w.users[Role.SCHOOL_OFFICER])  # school s1
    with clock.frozen_at(TODAY):
        assert paired_link in _watch_rows(teacher.get(reverse("care:watch")).content.decode())
        assert link["c1"] in _watch_rows(teacher.get(reverse("care:watch")).content.decode())
        assert paired_link not in _watch_rows(officer.get(reverse("care:watch")).content.decode())


def test_the_pupils_file_shows_cases_visits_and_pairing(world):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.CLASS_TEACHER])
    pupil = w.pairings["c1"].student
    with clock.frozen_at(TODAY):
        page = client.get(reverse("students:detail", kwargs={"pk": pupil.pk}))
    body = page.content.decode()
    assert 'data-testid="care-file"' in body
    assert f"{w.marker}母亲" in body  # the pairing visit: who was met
    first = w.students["c1"][0]
    with clock.frozen_at(TODAY):
        body = client.get(reverse("students:detail", kwargs={"pk": first.pk})).content.decode()
    assert reverse("care:case", kwargs={"pk": w.cases["c1"].pk}) in body
    assert f"{w.marker}路远" in body  # the risk flag
    # The grade leader sees the file but not care's rows.
    client.force_login(w.users[Role.GRADE_LEADER])
    body = client.get(reverse("students:detail", kwargs={"pk": first.pk})).content.decode()
    assert 'data-testid="care-file"' not in body


def test_pages_coverage_bulk_form_my_pupils_visit_and_watch_list(world, tenant_of, needing):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    with clock.frozen_at(TODAY):
        page = client.get(reverse("care:pairing"))
        assert page.status_code == 200
        assert page.content.decode().count('data-testid="uncovered-row"') == 4
        posted = client.post(
            reverse("care:pairing_assign"),
            {"teacher": str(w.users[Role.CLASS_TEACHER].pk), "students": [str(needing[0].pk), str(needing[1].pk)]},
            follow=True,
        )
        assert posted.content.decode().count('data-testid="uncovered-row"') == 2
    with tenant_of(w.tenant):
        stranger = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c4"])  # school s2
        pairings = Pairing.objects.count()
    with clock.frozen_at(TODAY):
        refused = client.post(
            reverse("care:pairing_assign"),
            {"teacher": str(stranger.pk), "students": [str(needing[2].pk)]},
            follow=True,
        )
    body = refused.content.decode()
    assert "不在同一所学校任教" in body  # said why
    assert body.count('data-testid="uncovered-row"') == 2
    with tenant_of(w.tenant):
        assert Pairing.objects.count() == pairings  # changed nothing
    teacher = Client()
    teacher.force_login(w.users[Role.CLASS_TEACHER])
    with clock.frozen_at(TODAY):
        page = teacher.get(reverse("care:my_pupils"))
        assert page.content.decode().count('data-testid="paired-row"') == 6
        url = reverse("care:visit_new", kwargs={"student_pk": needing[0].pk})
        refused = teacher.post(url, {"visited_on": "2026-12-08", "met": "父亲"})
        assert refused.status_code == 400
        assert "不能是将来的日期" in refused.content.decode()
        done = teacher.post(url, {"visited_on": "2026-12-06", "met": "父亲", "situation": "务农"})
        assert done.status_code == 302
        assert teacher.get(reverse("care:watch")).status_code == 200
    with tenant_of(w.tenant):
        assert HomeVisit.objects.filter(student=needing[0], met="父亲").count() == 1
    # Another teacher's pupil is "not found".
    other = Client()
    with tenant_of(w.tenant):
        stranger = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c2"])
    other.force_login(stranger)
    assert other.get(url).status_code == 404


def test_the_api_pairs_and_records_visits_with_the_same_refusals(world, tenant_of, needing):
    w = world.a
    district = Client()
    district.force_login(w.users[Role.DISTRICT_STAFF])
    with clock.frozen_at(TODAY):
        answer = district.post(
            "/api/v1/care/pairings/",
            {"teacher": str(w.users[Role.CLASS_TEACHER].pk), "students": [str(needing[0].pk)]},
            content_type="application/json",
        )
        assert answer.status_code == 201
        assert answer.json()["paired"] == 1
        with tenant_of(w.tenant):
            stranger = user_with_role(w.tenant, Role.CLASS_TEACHER, w.classes["c4"])
        answer = district.post(
            "/api/v1/care/pairings/",
            {"teacher": str(stranger.pk), "students": [str(needing[1].pk)]},
            content_type="application/json",
        )
        assert answer.status_code == 400
        assert needing[1].name in answer.json()["detail"][0]
        teacher = Client()
        teacher.force_login(w.users[Role.CLASS_TEACHER])
        body = {"student": str(needing[0].pk), "visited_on": "2026-12-31", "met": "母亲"}
        answer = teacher.post("/api/v1/care/visits/", body, content_type="application/json")
        assert answer.status_code == 400
        answer = teacher.post(
            "/api/v1/care/visits/", {**body, "visited_on": "2026-12-07"}, content_type="application/json"
        )
        assert answer.status_code == 201
        assert answer.json()["purpose"] == "PAIRING"
        listed = teacher.get("/api/v1/care/visits/").json()
        assert answer.json()["id"] in {row["id"] for row in listed["results"]}
        assert district.get("/api/v1/care/pairings/").status_code == 200
        answer = teacher.post(
            "/api/v1/care/risk-flags/",
            {"student": str(w.students["c1"][0].pk), "kind": "LEFT_BEHIND"},
            content_type="application/json",
        )
        assert answer.status_code == 201


def test_coverage_and_a_teachers_pupils_take_a_fixed_number_of_queries(
    world, tenant_of, needing, django_assert_max_num_queries
):
    w = world.a
    district, teacher = w.users[Role.DISTRICT_STAFF], w.users[Role.CLASS_TEACHER]
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        permissions.assignments(district)
        permissions.assignments(teacher)
        # the rules, the counts, the pupils without a teacher, the teachers' loads, the teachers, the schools
        with django_assert_max_num_queries(6):
            found = selectors.coverage(user=district)
            assert [p.school.name for p in found.uncovered]  # schools and classes came with the pupils
            assert [str(p.klass) for p in found.uncovered]
        with django_assert_max_num_queries(2):  # the rules, the pairings with their visits
            rows = selectors.my_pairings(user=teacher)
            assert [(r.pairing.student.name, str(r.pairing.klass), r.overdue) for r in rows]
