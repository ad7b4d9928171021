"""Every permission decision of the product, in one place.

A user holds role assignments, each scoped to an org unit of their tenant: a class (班主任), a grade
(年级组长), a school (学校资助专干, 校长) or the whole district (区县资助中心, 审计, 管理员). An action is
allowed when one of the user's roles may perform it (POLICY) and that role's unit contains the target.
The platform operator (平台运维) creates tenants and loads the national calendar (法定节假日安排), and never
reads a tenant's data. A region's oversight account (市/省) has no tenant and no role: it may only read
the aggregates of its region's districts (REGION_ACTIONS), never a row of a tenant.

Two questions, answered from the same rules:
- `can(user, action, obj)`: may this user do this to this object (or anywhere, with obj=None)?
- `scope_q(user, action, model)`: which rows of `model` may they do it to, as a Q for querysets
  (used only by `TenantQuerySet.visible_to`, the one scoping helper).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLASS_TEACHER = "CLASS_TEACHER", _("Class teacher")  # 班主任
    GRADE_LEADER = "GRADE_LEADER", _("Grade leader")  # 年级组长
    SCHOOL_OFFICER = "SCHOOL_OFFICER", _("School funding officer")  # 学校资助专干
    PRINCIPAL = "PRINCIPAL", _("Principal")  # 校长 (第一责任人)
    DISTRICT_STAFF = "DISTRICT_STAFF", _("District funding center")  # 区县学生资助管理中心
    DISTRICT_AUDITOR = "DISTRICT_AUDITOR", _("District auditor")  # 财政 / 审计 / 纪检, read-only
    TENANT_ADMIN = "TENANT_ADMIN", _("Administrator")  # 管理员


class Level(IntEnum):
    """How far a role reaches, from one class up to the whole tenant."""

    CLASS = 1
    GRADE = 2
    SCHOOL = 3
    TENANT = 4


ROLE_LEVEL: dict[str, Level] = {
    Role.CLASS_TEACHER: Level.CLASS,
    Role.GRADE_LEADER: Level.GRADE,
    Role.SCHOOL_OFFICER: Level.SCHOOL,
    Role.PRINCIPAL: Level.SCHOOL,
    Role.DISTRICT_STAFF: Level.TENANT,
    Role.DISTRICT_AUDITOR: Level.TENANT,
    Role.TENANT_ADMIN: Level.TENANT,
}


class Action(StrEnum):
    """What someone may want to do. Values are stable: tests and the API schema name them."""

    # Platform
    TENANT_MANAGE = "tenant.manage"
    ADMIN_ACCESS = "admin.access"
    CALENDAR_MANAGE = "calendar.manage"  # the national calendar (法定节假日安排), a global table
    # Org structure and people
    SCHOOL_VIEW = "school.view"
    SCHOOL_MANAGE = "school.manage"
    TENANT_SETTINGS = "tenant.settings"  # the district's settings, calendar days and hardship categories
    USER_MANAGE = "user.manage"
    ACCOUNT_UNLOCK = "account.unlock"  # 账号解锁: unlock a locked account, reset its second factor (audited)
    # Students
    STUDENT_VIEW = "student.view"
    STUDENT_EDIT = "student.edit"
    STUDENT_VIEW_PII = "student.view_pii"  # the full ID or account number (audited)
    ROSTER_IMPORT = "student.roster_import"  # 学籍名册导入: for one's own school, or the district
    # Identification of hardship (认定): one action per step of the review chain
    APPLICATION_VIEW = "application.view"
    APPLICATION_NOMINATE = "application.nominate"  # 申请 / 推荐, by the class teacher
    APPLICATION_CLASS_REVIEW = "application.class_review"  # 班级评议, recorded by the class teacher
    APPLICATION_GRADE_REVIEW = "application.grade_review"  # 级部调查
    APPLICATION_SCHOOL_REVIEW = "application.school_review"  # 学校审核 (with the village committee)
    APPLICATION_DISTRICT_REVIEW = "application.district_review"  # 区县复查
    PUBLICITY_MANAGE = "publicity.manage"  # 公示: assemble, publish, record and answer objections
    PUBLICITY_SIGN = "publicity.sign"  # the principal signs the school's list before it is published
    # 认定名单迁移: bring in the pupils an earlier system (or paper) identified, as migrated identifications
    IDENTIFICATION_MIGRATE = "application.migrate"
    TIER_ADJUST_PROPOSE = "tier.adjust_propose"  # 动态调整, proposed by the school
    TIER_ADJUST_DECIDE = "tier.adjust_decide"  # … decided by the district
    # Funding programs, awards and money
    FUNDING_VIEW = "funding.view"  # programs, standards, budgets, award lists, batches, the ledger
    FUNDING_MANAGE = "funding.manage"  # semesters, programs, standards, budgets (the district)
    AWARD_PREPARE = "award.prepare"  # the school prepares and submits its award lists
    AWARD_APPROVE = "award.approve"  # the district approves them; grants emergency aid
    BATCH_MANAGE = "batch.manage"  # disbursement batches, payment rosters, bank returns
    ENROLLMENT_CONFIRM = "batch.confirm_enrollment"  # the school confirms its pupils still attend
    CORRECTION_PROPOSE = "correction.propose"  # 停发 / 追回, and their reversal
    CORRECTION_APPROVE = "correction.approve"  # … approved by a second person
    SEMESTER_REOPEN = "semester.reopen"  # a late entry after the deadline
    BUDGET_WAIVE = "budget.waive"  # 无预算审批: let a program's lists be approved where no budget is set
    # The departments' registries and the reconciliation (比对)
    REGISTRY_VIEW = "registry.view"  # snapshots and column mappings
    REGISTRY_IMPORT = "registry.import"  # import a department's list, set its column mapping
    RECONCILIATION_VIEW = "reconciliation.view"  # runs and their lists
    RECONCILIATION_RUN = "reconciliation.run"
    RECONCILIATION_ACT = "reconciliation.act"  # turn a list into awards, stops and recoveries (approved after)
    # The audit trail
    AUDIT_VIEW = "audit.view"
    # Background jobs (imports, reconciliations, exports): their progress and results
    JOB_VIEW = "job.view"
    # Dropout control (控辍保学): attendance, absence and dropout cases
    CARE_VIEW = "care.view"  # absences and cases of one's unit
    ATTENDANCE_RECORD = "care.attendance_record"  # 缺勤登记: the class teacher, for their class
    CASE_STEP = "care.case_step"  # record what was done on a case (家访, 村委会, 告知书)
    CASE_DECIDE = "care.case_decide"  # move a case (confirm, persuade, returned, placed, closed); name its chiefs
    # 1+1 结对帮扶: who looks after each registered-poor pupil, their visits (走访/家访), the watch list
    PAIRING_MANAGE = "care.pairing_manage"  # pair a teacher with pupils (one or many at once), end a pairing
    VISIT_RECORD = "care.visit_record"  # a paired teacher records a home visit (the service checks the pairing)
    RISK_FLAG_SET = "care.risk_flag_set"  # put a pupil on the watch list for a risk (留守, 路远, 学习困难 …)
    WEEKLY_RETURN_VIEW = "care.weekly.view"  # 每周按时填报: the returns and the summaries of one's schools
    WEEKLY_RETURN_SUBMIT = "care.weekly.submit"  # the school's weekly return of dropouts, submitted by the school
    # Oversight (统计报表): dashboards, and the periodic reports (月调度、季汇总、半年通报)
    DASHBOARD_VIEW = "dashboard.view"  # the district's dashboard, or one's school's
    REPORT_VIEW = "report.view"  # the district's report snapshots (district-wide figures)
    REPORT_GENERATE = "report.generate"  # make a snapshot now (the beat task makes them on schedule)
    # 回访: after a batch is paid, a sample of its lines is checked with the families
    SPOT_CHECK_DRAW = "spotcheck.draw"  # the district draws the sample (size or share, and a seed)
    SPOT_CHECK_RECORD = "spotcheck.record"  # the school records what the family said (phone or visit)
    SPOT_CHECK_RESOLVE = "spotcheck.resolve"  # the district settles a discrepancy (or proposes a correction)
    # 宣传: the policy outreach of each school and semester (letters, meetings, 32211-style work)
    OUTREACH_VIEW = "outreach.view"  # the records and the coverage of one's schools
    OUTREACH_RECORD = "outreach.record"  # the school records what it did
    # 市/省: a region's oversight account reads its districts' aggregates (oversight.region), nothing else
    REGION_VIEW = "region.view"


_ALL_TENANT_ROLES = frozenset(Role)
_SCHOOL_AND_UP = frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR})

#: Which tenant roles may perform each action (inside their unit). Actions missing here are platform
#: actions, allowed to the platform operator only.
POLICY: dict[Action, frozenset[Role]] = {
    # The district center keeps its reference data (programs, standards, budgets, bank layouts) there.
    Action.ADMIN_ACCESS: frozenset({Role.TENANT_ADMIN, Role.DISTRICT_STAFF}),
    Action.SCHOOL_VIEW: _ALL_TENANT_ROLES,
    Action.SCHOOL_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Action.TENANT_SETTINGS: frozenset({Role.TENANT_ADMIN}),
    Action.USER_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Action.ACCOUNT_UNLOCK: frozenset({Role.TENANT_ADMIN}),  # the platform operator: tenant administrators
    # The tenant administrator runs accounts and structure, not students: no student data.
    Action.STUDENT_VIEW: frozenset(
        {Role.CLASS_TEACHER, Role.GRADE_LEADER, *_SCHOOL_AND_UP},
    ),
    Action.STUDENT_EDIT: frozenset({Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF}),
    Action.ROSTER_IMPORT: frozenset({Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF}),
    Action.APPLICATION_VIEW: frozenset({Role.CLASS_TEACHER, Role.GRADE_LEADER, *_SCHOOL_AND_UP}),
    Action.APPLICATION_NOMINATE: frozenset({Role.CLASS_TEACHER}),
    Action.APPLICATION_CLASS_REVIEW: frozenset({Role.CLASS_TEACHER}),
    Action.APPLICATION_GRADE_REVIEW: frozenset({Role.GRADE_LEADER}),
    Action.APPLICATION_SCHOOL_REVIEW: frozenset({Role.SCHOOL_OFFICER}),
    Action.APPLICATION_DISTRICT_REVIEW: frozenset({Role.DISTRICT_STAFF}),
    Action.PUBLICITY_MANAGE: frozenset({Role.SCHOOL_OFFICER}),
    Action.PUBLICITY_SIGN: frozenset({Role.PRINCIPAL}),
    # The district center, which identifies (区县复查), vouches for an earlier year's list; not the tenant
    # administrator, who sees no student data.
    Action.IDENTIFICATION_MIGRATE: frozenset({Role.DISTRICT_STAFF}),
    Action.TIER_ADJUST_PROPOSE: frozenset({Role.SCHOOL_OFFICER}),
    Action.TIER_ADJUST_DECIDE: frozenset({Role.DISTRICT_STAFF}),
    Action.FUNDING_VIEW: frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.FUNDING_MANAGE: frozenset({Role.DISTRICT_STAFF}),
    Action.AWARD_PREPARE: frozenset({Role.SCHOOL_OFFICER}),
    Action.AWARD_APPROVE: frozenset({Role.DISTRICT_STAFF}),
    Action.BATCH_MANAGE: frozenset({Role.DISTRICT_STAFF}),
    Action.ENROLLMENT_CONFIRM: frozenset({Role.SCHOOL_OFFICER}),
    Action.CORRECTION_PROPOSE: frozenset({Role.DISTRICT_STAFF, Role.SCHOOL_OFFICER}),
    # Approval by the district; the service also refuses the person who proposed (four eyes).
    Action.CORRECTION_APPROVE: frozenset({Role.DISTRICT_STAFF}),
    Action.SEMESTER_REOPEN: frozenset({Role.DISTRICT_STAFF}),
    # Approving without a budget lifts the district's own spending check: the district center alone.
    Action.BUDGET_WAIVE: frozenset({Role.DISTRICT_STAFF}),
    # Full ID and account numbers: those who correct registrations, pay banks or audit. Teachers,
    # grade leaders and principals work with the masked form.
    Action.STUDENT_VIEW_PII: frozenset({Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.AUDIT_VIEW: frozenset({Role.DISTRICT_AUDITOR, Role.DISTRICT_STAFF}),
    # The registries hold the families' categories: the district center works with them, the auditor reads.
    Action.REGISTRY_VIEW: frozenset({Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.REGISTRY_IMPORT: frozenset({Role.DISTRICT_STAFF}),
    Action.RECONCILIATION_VIEW: frozenset({Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.RECONCILIATION_RUN: frozenset({Role.DISTRICT_STAFF}),
    Action.RECONCILIATION_ACT: frozenset({Role.DISTRICT_STAFF}),
    # Everyone follows the jobs they started (which ones: JobQuerySet.visible_to).
    Action.JOB_VIEW: _ALL_TENANT_ROLES,
    # Dropout control: the teacher keeps the class register and visits; the school and the district
    # decide on cases; the auditor reads.
    Action.CARE_VIEW: frozenset(
        {Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}
    ),
    Action.ATTENDANCE_RECORD: frozenset({Role.CLASS_TEACHER}),
    Action.CASE_STEP: frozenset({Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF}),
    Action.CASE_DECIDE: frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF}),
    Action.PAIRING_MANAGE: frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF}),
    Action.VISIT_RECORD: frozenset({Role.CLASS_TEACHER}),
    Action.RISK_FLAG_SET: frozenset({Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF}),
    # The weekly return (每周按时填报) is the school's report to the district: the school's officer files
    # it; the principal, the district and the auditor read returns and summaries (teachers do not).
    Action.WEEKLY_RETURN_VIEW: frozenset(
        {Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}
    ),
    Action.WEEKLY_RETURN_SUBMIT: frozenset({Role.SCHOOL_OFFICER}),
    # Oversight: those who see the money see its dashboard, in their unit (a school's officer and
    # principal their school's). The reports hold the whole district's figures: the district only.
    Action.DASHBOARD_VIEW: frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.REPORT_VIEW: frozenset({Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.REPORT_GENERATE: frozenset({Role.DISTRICT_STAFF}),
    # Post-payment checks: the district draws and settles, the school's officer asks the families; the
    # sample itself is read with FUNDING_VIEW (officer and principal: their school's lines).
    Action.SPOT_CHECK_DRAW: frozenset({Role.DISTRICT_STAFF}),
    Action.SPOT_CHECK_RECORD: frozenset({Role.SCHOOL_OFFICER}),
    Action.SPOT_CHECK_RESOLVE: frozenset({Role.DISTRICT_STAFF}),
    Action.OUTREACH_VIEW: frozenset({Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR}),
    Action.OUTREACH_RECORD: frozenset({Role.SCHOOL_OFFICER}),
}

PLATFORM_ACTIONS: frozenset[Action] = frozenset(
    {Action.TENANT_MANAGE, Action.ADMIN_ACCESS, Action.CALENDAR_MANAGE, Action.ACCOUNT_UNLOCK}
)

#: What a region's oversight account (User.region) may do: read the aggregate table of its districts.
#: No tenant role holds these, and a region account holds nothing else.
REGION_ACTIONS: frozenset[Action] = frozenset({Action.REGION_VIEW})

#: What a tenant's system account (the command line and scheduled jobs act as it; it cannot sign in
#: and holds no role) may do inside its own tenant: the automation the issues name, nothing more.
SYSTEM_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.BATCH_MANAGE,
        Action.REGISTRY_VIEW,
        Action.REGISTRY_IMPORT,
        Action.RECONCILIATION_VIEW,
        Action.RECONCILIATION_RUN,
        Action.REPORT_GENERATE,  # the scheduled 月调度、季汇总、半年通报
    }
)


@dataclass(frozen=True)
class Scope:
    """Where a model's rows sit in the org structure: the field path (e.g. "school", "student__klass",
    or "id" for the unit itself) that holds the row's school, grade and class. A model with none of
    them is tenant-wide reference data."""

    school: str | None = None
    grade: str | None = None
    klass: str | None = None

    def paths(self) -> dict[Level, str]:
        found = {Level.SCHOOL: self.school, Level.GRADE: self.grade, Level.CLASS: self.klass}
        return {level: path for level, path in found.items() if path}


class Assignment(NamedTuple):
    role: str
    school_id: Any
    grade_id: Any
    klass_id: Any

    @property
    def level(self) -> Level:
        return ROLE_LEVEL[self.role]

    def unit_id(self, level: Level) -> Any:
        return {Level.SCHOOL: self.school_id, Level.GRADE: self.grade_id, Level.CLASS: self.klass_id}[level]


def assignments(user: Any) -> tuple[Assignment, ...]:
    """The user's role assignments, read once per user object (i.e. once per request or task)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.tenant_id is None:
        return ()
    cached = getattr(user, "_assignments_cache", None)
    if cached is None:
        from core.tenancy.context import current_tenant_id_or_none

        if current_tenant_id_or_none() != user.tenant_id:
            return ()  # a user acts only inside their own tenant's context
        role_assignment = apps.get_model("schools", "RoleAssignment")
        rows = role_assignment.objects.filter(user_id=user.pk).values_list("role", "school_id", "grade_id", "klass_id")
        cached = tuple(Assignment(*row) for row in rows)
        user._assignments_cache = cached
    return cached


def roles_of(user: Any) -> set[str]:
    return {a.role for a in assignments(user)}


def _granting(user: Any, action: Action) -> Iterable[Assignment]:
    allowed = POLICY.get(action, frozenset())
    return (a for a in assignments(user) if a.role in allowed)


def _unit_id(obj: Any, path: str) -> Any:
    """The id at the end of a scope path: `school` → obj.school_id; `student__klass` → the student's
    klass_id (following the cached relation, or loading it once)."""
    if path == "id":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
    return getattr(obj, obj._meta.get_field(last).attname)


def _object_units(obj: Any) -> dict[Level, Any]:
    scope = getattr(type(obj), "scope", None)  # None: tenant-wide reference data (TenantModel's default)
    return {level: _unit_id(obj, path) for level, path in scope.paths().items()} if scope else {}


def _reaches(assignment: Assignment, units: dict[Level, Any]) -> bool:
    """Does the assignment's unit contain a row placed at `units`? A row is judged at the most precise
    level the model records, starting from the assignment's own level and widening."""
    if assignment.level is Level.TENANT or not units:
        return True
    for level in Level:
        if level >= assignment.level and level in units:
            return units[level] == assignment.unit_id(level)
    return False


def is_platform_operator(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_platform_operator)


def is_region_account(user: Any) -> bool:
    """A city's or province's oversight account (市/省): no tenant, reads its districts' aggregates only."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "region_id", None) is not None
        and user.tenant_id is None
    )


#: 等保 level 3 asks two factors of administrators: the roles that hold the district's money, its audit
#: and its accounts (with the platform operator). Others may enrol; once they have, they are asked too.
TWO_FACTOR_ROLES = frozenset({Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR, Role.TENANT_ADMIN})


def two_factor_required(user: Any) -> bool:
    """Must `user` pass a second factor (TOTP or a recovery code) before any page or API token?"""
    if is_platform_operator(user) or is_region_account(user):
        return True
    return bool(roles_of(user) & TWO_FACTOR_ROLES)


def tenant_admin_ids(tenant_id: Any) -> set[Any]:
    """The accounts holding the administrator role in a tenant (read inside that tenant's context,
    as the platform operator works in none)."""
    from core.tenancy.context import tenant_transaction

    role_assignment = apps.get_model("schools", "RoleAssignment")
    with tenant_transaction(tenant_id):
        return set(role_assignment.objects.filter(role=Role.TENANT_ADMIN).values_list("user_id", flat=True))


def may_unlock(actor: Any, account: Any) -> bool:
    """The tenant administrator unlocks and resets the accounts of their district; the platform
    operator those of tenant administrators (who may have locked themselves out)."""
    if is_platform_operator(actor):
        return account.tenant_id is not None and account.pk in tenant_admin_ids(account.tenant_id)
    return account.tenant_id == getattr(actor, "tenant_id", None) and can(actor, Action.ACCOUNT_UNLOCK)


#: Rows with an owner (a model's `owner_field`, e.g. the person who started a job) are seen by their
#: owner, and by those who may read the audit trail.
SEES_ALL_OWNERS = Action.AUDIT_VIEW


def _owner_allows(user: Any, obj: Any) -> bool:
    field = getattr(type(obj), "owner_field", None)
    if field is None or getattr(obj, f"{field}_id") == user.pk:
        return True
    return any(True for _ in _granting(user, SEES_ALL_OWNERS))


def can(user: Any, action: Action, obj: Any = None) -> bool:
    """May `user` perform `action`, on `obj` if given (else: anywhere in their scope)?"""
    if obj is not None:
        return _can(user, action, obj)
    # Without an object the answer depends only on the user's role assignments, which are read once per
    # user object: remember it beside them. A page asks this a hundred times or more (the menu, the
    # layout, the page's actions) and at 20 µs each that was a fifth of a signed-in page's own time.
    # Keyed to the very tuple of assignments read, so that whoever drops `_assignments_cache` (a test
    # that changed the roles) drops these answers with it; the system account's answer also depends on
    # the tenant context of the moment, so it is never remembered.
    held = getattr(user, "_assignments_cache", None)
    if held is None or getattr(user, "is_system", False):
        return _can(user, action, None)
    memo = getattr(user, "_can_memo", None)
    if memo is None or memo[0] is not held:
        memo = user._can_memo = (held, {})
    answers = memo[1]
    answer = answers.get(action)
    if answer is None:
        answer = answers[action] = _can(user, action, None)
    return answer


def _can(user: Any, action: Action, obj: Any) -> bool:
    if action in PLATFORM_ACTIONS and is_platform_operator(user):
        return True
    if action in REGION_ACTIONS:
        # Only a region account, and never on a tenant's row (it reads aggregates, not objects).
        return obj is None and is_region_account(user)
    if obj is not None and getattr(obj, "tenant_id", None) != getattr(user, "tenant_id", None):
        return False
    if obj is not None and not _owner_allows(user, obj):
        return False
    if getattr(user, "is_system", False) and user.is_active and action in SYSTEM_ACTIONS:
        from core.tenancy.context import current_tenant_id_or_none

        return user.tenant_id is not None and current_tenant_id_or_none() == user.tenant_id
    units = _object_units(obj) if obj is not None else {}
    return any(obj is None or _reaches(a, units) for a in _granting(user, action))


def require(user: Any, action: Action, obj: Any = None) -> None:
    """Raise PermissionDenied unless `can(user, action, obj)`."""
    if not can(user, action, obj):
        raise PermissionDenied


def scope_q(user: Any, action: Action, model: type[models.Model]) -> Q:
    """The rows of `model` that `user` may perform `action` on, as a filter."""
    nothing = Q(pk__in=[])
    if getattr(user, "is_system", False):
        # The system account acts for the whole district in the automation it may run (as `can` says),
        # e.g. the scheduled reports read the district's figures; nothing else.
        return Q(tenant_id=user.tenant_id) if can(user, action) else nothing
    granting = list(_granting(user, action))
    if not granting:
        return nothing
    paths = model.scope.paths() if model.scope else {}
    clauses: list[Q] = []
    for a in granting:
        if a.level is Level.TENANT or not paths:
            clauses = [Q()]
            break
        for level in Level:
            if level >= a.level and level in paths:
                path = paths[level]
                clauses.append(Q(**{"pk" if path == "id" else f"{path}_id": a.unit_id(level)}))
                break
    if not clauses:
        return nothing
    combined = Q()
    for clause in clauses:
        combined |= clause
    owner = getattr(model, "owner_field", None)
    if owner and not any(True for _ in _granting(user, SEES_ALL_OWNERS)):
        combined &= Q(**{f"{owner}_id": user.pk})
    return Q(tenant_id=user.tenant_id) & combined
