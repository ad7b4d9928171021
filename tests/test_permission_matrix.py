"""The permission matrix: role × action × own unit / other unit / other tenant.

The expected table is written out here by hand, from what each role does (DOMAIN.md, "Who uses it"),
not derived from schools.permissions.POLICY: a change to the policy must change this table too.
"""

from __future__ import annotations

import pytest

from audits.models import AuditEvent
from schools import permissions
from schools.models import CalendarDay, Job, RoleAssignment
from schools.permissions import Action, Level, Role

A = Action
PLATFORM = "PLATFORM_OPERATOR"
REGION = "REGION_ACCOUNT"  # 市/省: a city's or province's oversight account (no tenant, no role)

#: What each role may do inside its own unit. Everything else is refused.
EXPECTED = {
    Role.CLASS_TEACHER: {
        A.SCHOOL_VIEW, A.STUDENT_VIEW, A.JOB_VIEW,
        A.APPLICATION_VIEW, A.APPLICATION_NOMINATE, A.APPLICATION_CLASS_REVIEW,
        A.CARE_VIEW, A.ATTENDANCE_RECORD, A.CASE_STEP, A.VISIT_RECORD, A.RISK_FLAG_SET,
    },
    Role.GRADE_LEADER: {A.SCHOOL_VIEW, A.STUDENT_VIEW, A.JOB_VIEW, A.APPLICATION_VIEW, A.APPLICATION_GRADE_REVIEW},
    Role.SCHOOL_OFFICER: {
        A.SCHOOL_VIEW, A.STUDENT_VIEW, A.STUDENT_EDIT, A.STUDENT_VIEW_PII, A.ROSTER_IMPORT, A.JOB_VIEW,
        A.APPLICATION_VIEW, A.APPLICATION_SCHOOL_REVIEW, A.PUBLICITY_MANAGE, A.TIER_ADJUST_PROPOSE,
        A.FUNDING_VIEW, A.AWARD_PREPARE, A.ENROLLMENT_CONFIRM, A.CORRECTION_PROPOSE,
        A.CARE_VIEW, A.CASE_STEP, A.CASE_DECIDE, A.PAIRING_MANAGE, A.RISK_FLAG_SET, A.WEEKLY_RETURN_VIEW,
        A.WEEKLY_RETURN_SUBMIT, A.DASHBOARD_VIEW, A.SPOT_CHECK_RECORD, A.OUTREACH_VIEW, A.OUTREACH_RECORD,
    },
    Role.PRINCIPAL: {
        A.SCHOOL_VIEW, A.STUDENT_VIEW, A.JOB_VIEW, A.APPLICATION_VIEW, A.PUBLICITY_SIGN, A.FUNDING_VIEW,
        A.CARE_VIEW, A.CASE_STEP, A.CASE_DECIDE, A.PAIRING_MANAGE, A.WEEKLY_RETURN_VIEW, A.DASHBOARD_VIEW,
        A.OUTREACH_VIEW,
    },
    Role.DISTRICT_STAFF: {
        A.SCHOOL_VIEW, A.STUDENT_VIEW, A.STUDENT_EDIT, A.STUDENT_VIEW_PII, A.ROSTER_IMPORT, A.AUDIT_VIEW, A.JOB_VIEW,
        A.APPLICATION_VIEW, A.APPLICATION_DISTRICT_REVIEW, A.IDENTIFICATION_MIGRATE, A.TIER_ADJUST_DECIDE,
        A.FUNDING_VIEW, A.FUNDING_MANAGE, A.AWARD_APPROVE, A.BATCH_MANAGE, A.CORRECTION_PROPOSE,
        A.CORRECTION_APPROVE, A.SEMESTER_REOPEN, A.BUDGET_WAIVE, A.ADMIN_ACCESS,
        A.REGISTRY_VIEW, A.REGISTRY_IMPORT, A.RECONCILIATION_VIEW, A.RECONCILIATION_RUN, A.RECONCILIATION_ACT,
        A.CARE_VIEW, A.CASE_STEP, A.CASE_DECIDE, A.PAIRING_MANAGE, A.RISK_FLAG_SET, A.WEEKLY_RETURN_VIEW,
        A.DASHBOARD_VIEW, A.REPORT_VIEW, A.REPORT_GENERATE, A.SPOT_CHECK_DRAW, A.SPOT_CHECK_RESOLVE,
        A.OUTREACH_VIEW,
    },
    Role.DISTRICT_AUDITOR: {
        A.SCHOOL_VIEW, A.STUDENT_VIEW, A.STUDENT_VIEW_PII, A.AUDIT_VIEW, A.JOB_VIEW, A.APPLICATION_VIEW,
        A.FUNDING_VIEW, A.REGISTRY_VIEW, A.RECONCILIATION_VIEW, A.CARE_VIEW, A.WEEKLY_RETURN_VIEW,
        A.DASHBOARD_VIEW, A.REPORT_VIEW, A.OUTREACH_VIEW,
    },
    Role.TENANT_ADMIN: {
        A.ADMIN_ACCESS, A.SCHOOL_VIEW, A.SCHOOL_MANAGE, A.USER_MANAGE, A.ACCOUNT_UNLOCK, A.JOB_VIEW, A.TENANT_SETTINGS,
    },
    PLATFORM: {A.TENANT_MANAGE, A.ADMIN_ACCESS, A.CALENDAR_MANAGE, A.ACCOUNT_UNLOCK},
    REGION: {A.REGION_VIEW},
}  # fmt: skip


def _target(w, action, role=Role.DISTRICT_STAFF):
    """The object an action is tried on, in tenant world `w`, and a sibling in another unit for each
    level of role (None where the action's rows are tenant-wide)."""
    student = w.students["c1"][0]
    klass = w.classes["c1"]
    if action in (A.STUDENT_VIEW, A.STUDENT_EDIT, A.STUDENT_VIEW_PII, A.ROSTER_IMPORT):
        return student, {
            Level.CLASS: w.students["c2"][0],
            Level.GRADE: w.students["c3"][0],
            Level.SCHOOL: w.students["c4"][0],
        }
    if action.value.startswith(("application.", "tier.")):
        return w.applications["c1"], {
            Level.CLASS: w.applications["c2"],
            Level.GRADE: w.applications["c3"],
            Level.SCHOOL: w.applications["c4"],
        }
    if action is A.ATTENDANCE_RECORD:
        return klass, {
            Level.CLASS: w.classes["c2"],
            Level.GRADE: w.classes["c3"],
            Level.SCHOOL: w.classes["c4"],
        }
    if action in (A.PAIRING_MANAGE, A.VISIT_RECORD):
        return w.pairings["c1"], {
            Level.CLASS: w.pairings["c2"],
            Level.GRADE: w.pairings["c3"],
            Level.SCHOOL: w.pairings["c4"],
        }
    if action is A.RISK_FLAG_SET:
        return w.flags["c1"], {
            Level.CLASS: w.flags["c2"],
            Level.GRADE: w.flags["c3"],
            Level.SCHOOL: w.flags["c4"],
        }
    if action in (A.WEEKLY_RETURN_VIEW, A.WEEKLY_RETURN_SUBMIT):
        # A school's weekly return: the sibling is the other school's, whatever the role's level.
        other = w.weekly_returns["s2"]
        return w.weekly_returns["s1"], {Level.CLASS: other, Level.GRADE: other, Level.SCHOOL: other}
    if action.value.startswith("spotcheck."):
        # A sampled line of s1; the sibling is a line of s2's pupil in a second batch's sample.
        other = _other_check_line(w)
        return w.check_line, {Level.CLASS: other, Level.GRADE: other, Level.SCHOOL: other}
    if action.value.startswith("outreach."):
        other = w.outreach["s2"]
        return w.outreach["s1"], {Level.CLASS: other, Level.GRADE: other, Level.SCHOOL: other}
    if action.value.startswith("care."):
        return w.cases["c1"], {
            Level.CLASS: w.cases["c2"],
            Level.GRADE: w.cases["c3"],
            Level.SCHOOL: w.cases["c4"],
        }
    if action.value.startswith("publicity."):
        return w.publicity, {
            Level.CLASS: w.other_publicity,
            Level.GRADE: w.other_publicity,
            Level.SCHOOL: w.other_publicity,
        }
    if action is A.SCHOOL_VIEW:
        return klass, {
            Level.CLASS: w.classes["c2"],
            Level.GRADE: w.classes["c3"],
            Level.SCHOOL: w.classes["c4"],
        }
    if action is A.SCHOOL_MANAGE:
        return w.schools["s1"], {
            Level.SCHOOL: w.schools["s2"],
            Level.GRADE: w.schools["s2"],
            Level.CLASS: w.schools["s2"],
        }
    if action in (A.FUNDING_MANAGE, A.BATCH_MANAGE, A.SEMESTER_REOPEN, A.BUDGET_WAIVE) or action.value.startswith(
        ("registry.", "reconciliation.", "report.")
    ):
        return w.semester, {}
    if action.value.startswith(("funding.", "award.", "batch.", "correction.", "dashboard.")):
        other = w.budgets["s2"]
        return w.budgets["s1"], {Level.CLASS: other, Level.GRADE: other, Level.SCHOOL: other}
    if action is A.TENANT_SETTINGS:
        return CalendarDay.objects.first(), {}
    if action is A.USER_MANAGE:
        return RoleAssignment.objects.filter(user=w.users[Role.CLASS_TEACHER]).first(), {}
    if action is A.AUDIT_VIEW:
        return AuditEvent.objects.order_by("seq").first(), {}
    if action is A.JOB_VIEW:
        # A job is its starter's: the "own" one is started by the role's user, the sibling by another.
        mine = Job.objects.create(kind="test", actor=w.users[role])
        other = w.users[Role.PRINCIPAL if role != Role.PRINCIPAL else Role.CLASS_TEACHER]
        theirs = Job.objects.create(kind="test", actor=other)
        return mine, {Level.CLASS: theirs, Level.GRADE: theirs, Level.SCHOOL: theirs}
    if action in (A.ADMIN_ACCESS, A.TENANT_MANAGE, A.CALENDAR_MANAGE, A.ACCOUNT_UNLOCK, A.REGION_VIEW):
        return None, {}
    raise AssertionError(f"no target for {action}: add it to the matrix test")


def _other_check_line(w):
    """A sampled line at school s2 (c4's first pupil), in a sample of a second batch; made once per world."""
    import datetime as dt

    from disbursements.models import Batch, BatchKind, BatchStatus
    from oversight.models import SpotCheck, SpotCheckLine

    if getattr(w, "other_check_line", None) is None:
        district = w.users[Role.DISTRICT_STAFF]
        batch = Batch.objects.create(
            semester=w.semester, number=2, kind=BatchKind.REISSUE, status=BatchStatus.RELEASED, created_by=district
        )
        sample = SpotCheck.objects.create(
            batch=batch, semester=w.semester, seed=8, size=1, population=1, drawn_by=district
        )
        pupil = w.students["c4"][0]
        w.other_check_line = SpotCheckLine.objects.create(
            sample=sample, line=w.line, student=pupil, school_id=pupil.school_id, grade_id=pupil.grade_id,
            klass_id=pupil.klass_id, rank=1, checked_on=dt.date(2026, 10, 1),
        )  # fmt: skip
    return w.other_check_line


def test_the_matrix_covers_every_role_and_every_action_has_a_rule():
    # Every action is tried by the parametrized test below (and _target refuses unknown ones).
    assert set(Role) | {PLATFORM, REGION} == set(EXPECTED)
    ruled = {*permissions.POLICY, *permissions.PLATFORM_ACTIONS, *permissions.REGION_ACTIONS}
    for action in Action:
        assert action in ruled, action


@pytest.mark.parametrize("role", list(Role))
def test_role_action_own_unit_other_unit_other_tenant(world, tenant_of, role):
    """For one role, every action: allowed in its own unit as the table says, refused in a sibling unit
    (roles below the district), refused on another tenant's row; `can` and `visible_to` agree."""
    user = world.a.users[role]
    for action in Action:
        allowed = action in EXPECTED[role]
        with tenant_of(world.a.tenant):
            own, siblings = _target(world.a, action, role)
            assert permissions.can(user, action, own) is allowed, f"{role} {action} own unit"
            if own is not None:
                visible = type(own).objects.visible_to(user, action).filter(pk=own.pk).exists()
                assert visible is allowed, f"{role} {action} own unit (queryset)"
            other = siblings.get(permissions.ROLE_LEVEL[role])
            if other is not None:
                assert permissions.can(user, action, other) is False, f"{role} {action} other unit"
                assert not type(other).objects.visible_to(user, action).filter(pk=other.pk).exists()
        with tenant_of(world.b.tenant):
            theirs, _ = _target(world.b, action)
            if theirs is not None:
                assert permissions.can(user, action, theirs) is False, f"{role} {action} other tenant"
                assert not type(theirs).objects.visible_to(user, action).filter(pk=theirs.pk).exists()


def test_district_roles_reach_every_unit(world, tenant_of):
    with tenant_of(world.a.tenant):
        for role in (Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR):
            user = world.a.users[role]
            for student in world.a.all_students:
                assert permissions.can(user, A.STUDENT_VIEW, student)


def test_platform_operator_creates_tenants_and_reads_no_tenant_data(world, tenant_of):
    from schools import services

    operator = services.user_create(tenant=None, username="operator", password="x", validate=False)
    for action in Action:
        assert permissions.can(operator, action) is (action in EXPECTED[PLATFORM]), action
        with tenant_of(world.a.tenant):
            own, _ = _target(world.a, action)
            if own is not None:
                assert permissions.can(operator, action, own) is False, action
                assert not type(own).objects.visible_to(operator, action).exists(), action


def test_a_region_account_reads_its_region_and_nothing_of_a_tenant(world, tenant_of):
    from schools import services

    city = services.region_create(code="410600", name="甲市")
    services.tenant_region_set(tenant=world.a.tenant, region=city)
    account = services.region_account_create(region=city, username="city", password="x", validate=False)
    for action in Action:
        assert permissions.can(account, action) is (action in EXPECTED[REGION]), action
        for w in (world.a, world.b):  # its own city's district, and another
            with tenant_of(w.tenant):
                own, _ = _target(w, action)
                if own is not None:
                    assert permissions.can(account, action, own) is False, action
                    assert not type(own).objects.visible_to(account, action).exists(), action
    assert permissions.two_factor_required(account)  # asked a second factor, as the operator is


def test_the_auditor_is_read_only():
    allowed = EXPECTED[Role.DISTRICT_AUDITOR]
    assert all(a.value.endswith((".view", ".view_pii")) for a in allowed)
    assert all(
        Role.DISTRICT_AUDITOR not in roles
        for action, roles in permissions.POLICY.items()
        if not action.value.endswith((".view", ".view_pii"))
    )


def test_jobs_are_seen_by_whoever_started_them_and_by_the_audit_readers(world, tenant_of):
    with tenant_of(world.a.tenant):
        job = Job.objects.create(kind="test", actor=world.a.users[Role.CLASS_TEACHER])
        for role in Role:
            sees = role in (Role.CLASS_TEACHER, Role.DISTRICT_AUDITOR, Role.DISTRICT_STAFF)
            assert permissions.can(world.a.users[role], A.JOB_VIEW, job) is sees, role
            assert Job.objects.visible_to(world.a.users[role]).filter(pk=job.pk).exists() is sees, role


def test_inactive_users_can_do_nothing(world, tenant_of):
    user = world.a.users[Role.DISTRICT_STAFF]
    user.is_active = False
    with tenant_of(world.a.tenant):
        assert not any(permissions.can(user, action) for action in Action)


def test_a_user_outside_their_tenant_context_has_no_roles(world, tenant_of):
    with tenant_of(world.b.tenant):
        assert permissions.roles_of(world.a.users[Role.DISTRICT_STAFF]) == set()


def test_the_system_account_runs_the_automation_of_its_own_tenant_only(world, tenant_of):
    from schools.services import tenant_system_user

    automation = {
        A.BATCH_MANAGE, A.REGISTRY_VIEW, A.REGISTRY_IMPORT, A.RECONCILIATION_VIEW, A.RECONCILIATION_RUN,
        A.REPORT_GENERATE,
    }  # fmt: skip
    with tenant_of(world.a.tenant):
        system = tenant_system_user(world.a.tenant)
        for action in Action:
            assert permissions.can(system, action) is (action in automation), action
        assert permissions.can(system, A.RECONCILIATION_RUN, world.a.semester)
    with tenant_of(world.b.tenant):
        assert not any(permissions.can(system, action) for action in Action)
        assert not permissions.can(system, A.RECONCILIATION_RUN, world.b.semester)


#: The list pages with filters that name rows of s2 / c4, outside every school, grade and class role's
#: unit (s1, g1, c1): a filter never widens what a role sees.
LIST_PAGES = {
    "students:list": lambda w: {"school": w.schools["s2"].pk, "klass": w.classes["c4"].pk},
    "students:applications": lambda w: {"school": w.schools["s2"].pk, "status": ""},
    # The home page's parameters (status groups, returned, line filters): never wider than the role's unit.
    "students:applications#review": lambda w: {"school": w.schools["s2"].pk, "status": "review", "returned": "1"},
    "students:publicities": lambda w: {"school": w.schools["s2"].pk},
    "funding:award_lists": lambda w: {"school": w.schools["s2"].pk},
    "disbursements:corrections": lambda w: {"school": w.schools["s2"].pk},
    "disbursements:corrections#recovery": lambda w: {"recovery": "OPEN", "others": "1", "semester": w.semester.pk},
    "care:cases": lambda w: {"school": w.schools["s2"].pk, "klass": w.classes["c4"].pk},
    "care:cases#open": lambda w: {"school": w.schools["s2"].pk, "status": "open"},
    "schools:list": lambda w: {"q": "junior"},
}
#: The action each list page needs.
LIST_ACTION = {
    "students:list": A.STUDENT_VIEW, "students:applications": A.APPLICATION_VIEW,
    "students:publicities": A.APPLICATION_VIEW, "funding:award_lists": A.FUNDING_VIEW,
    "disbursements:corrections": A.FUNDING_VIEW, "care:cases": A.CARE_VIEW, "schools:list": A.SCHOOL_VIEW,
}  # fmt: skip
LIST_ACTION |= {f"{page}#{variant}": LIST_ACTION[page] for page, variant in (
    ("students:applications", "review"), ("care:cases", "open"), ("disbursements:corrections", "recovery"),
)}  # fmt: skip


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR)])
def test_list_filters_never_reach_past_the_roles_unit(world, role):
    from django.test import Client
    from django.urls import reverse

    w = world.a
    client = Client()
    client.force_login(w.users[role])
    outside = [s.name for s in w.students["c4"]] + [str(w.applications["c4"].pk), str(w.cases["c4"].pk)]
    for page, params in LIST_PAGES.items():
        for extra in ({}, {"export": "xlsx"}):
            response = client.get(reverse(page.split("#")[0]), {**params(w), **extra})
            allowed = LIST_ACTION[page] in EXPECTED[role]
            if not allowed:
                assert response.status_code in (302, 403), (role, page, response.status_code)
                continue
            assert response.status_code == 200, (role, page)
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            if raw[:2] == b"PK":
                import io
                import zipfile

                with zipfile.ZipFile(io.BytesIO(raw)) as book:
                    raw = book.read("xl/worksheets/sheet1.xml")
            body = raw.decode()
            assert not [m for m in outside if m in body], (role, page, extra)


def test_the_system_account_reads_its_whole_tenant_only_for_its_automation(world, tenant_of):
    """The scheduled reports read the district's figures as the system account: for an automation action
    it sees its own tenant's rows, all of them; for any other action nothing, and never another tenant's."""
    from funding.models import Award
    from schools.services import tenant_system_user

    with tenant_of(world.a.tenant):
        system = tenant_system_user(world.a.tenant)
        assert Award.objects.visible_to(system, A.REPORT_GENERATE).filter(pk=world.a.award.pk).exists()
        assert not Award.objects.visible_to(system, A.FUNDING_VIEW).exists()
        assert not Award.objects.visible_to(system).exists()
    with tenant_of(world.b.tenant):
        assert not Award.objects.visible_to(system, A.REPORT_GENERATE).exists()
