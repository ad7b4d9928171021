"""Tenants, the school structure (district → school → grade → class), and the people who work in it."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.tenancy.context import current_tenant_id_or_none
from core.tenancy.models import TenantModel

from . import permissions
from .permissions import Action, Role, Scope


class Stage(models.TextChoices):
    """学段: the stages a school teaches; funding programs are per stage."""

    PRESCHOOL = "PRESCHOOL", _("Preschool")  # 学前
    PRIMARY = "PRIMARY", _("Primary")  # 小学
    JUNIOR = "JUNIOR", _("Junior secondary")  # 初中
    SENIOR = "SENIOR", _("Senior high")  # 普通高中
    VOCATIONAL = "VOCATIONAL", _("Secondary vocational")  # 中职


#: Years of schooling per stage, for naming grades and checking pupils' ages.
STAGE_YEARS = {Stage.PRESCHOOL: 3, Stage.PRIMARY: 6, Stage.JUNIOR: 3, Stage.SENIOR: 3, Stage.VOCATIONAL: 3}
#: Usual age on entry (September), for demo data and plausibility checks.
STAGE_ENTRY_AGE = {
    Stage.PRESCHOOL: 3,
    Stage.PRIMARY: 6,
    Stage.JUNIOR: 12,
    Stage.SENIOR: 15,
    Stage.VOCATIONAL: 15,
}


class Area(models.TextChoices):
    URBAN = "URBAN", _("Urban")  # 城镇
    RURAL = "RURAL", _("Rural")  # 农村


class TenantAuthorityQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TenantAuthorityQuerySet:
        """The platform operator sees every tenant; anyone else only their own."""
        if permissions.is_platform_operator(user):
            return self.all()
        return self.filter(pk=getattr(user, "tenant_id", None)) if getattr(user, "tenant_id", None) else self.none()


class RegionLevel(models.TextChoices):
    CITY = "CITY", _("City")  # 市 (地级市, 州, 盟)
    PROVINCE = "PROVINCE", _("Province")  # 省 (自治区, 直辖市)


class Region(models.Model):
    """市/省: a city or province above districts, whose oversight accounts read the aggregates of the
    districts it holds (oversight.region). A platform table: no tenant owns it, and it holds no tenant
    data, only its name and place in the hierarchy (a city may sit in a province)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(
        _("region code"), max_length=6, unique=True, help_text=_("行政区划代码, six digits (e.g. 411600).")
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("part of")
    )

    class Meta:
        verbose_name = _("region (city or province)")
        verbose_name_plural = _("regions (cities and provinces)")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{5}$"), name="schools_region_code_6d"),
            # A city may sit in a province; a province sits in nothing (no deeper tree to walk).
            models.CheckConstraint(
                condition=Q(level="CITY") | Q(parent__isnull=True), name="schools_region_province_top"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    """资助管理中心: one district's (county's) student-aid authority, with all its schools.

    The unit of isolation: nothing of one tenant is ever visible to another.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(
        _("region code"), max_length=6, help_text=_("行政区划代码, six digits (e.g. 411622).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The city or province above the district (its oversight accounts read the district's aggregates).
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="districts", verbose_name=_("region")
    )
    # Settings of the district (tenant administrators edit them).
    publicity_working_days = models.PositiveSmallIntegerField(
        _("publicity period (working days)"), default=5, help_text=_("公示期: at least 5 working days")
    )
    special_category_tier = models.CharField(
        _("tier suggested for special categories"), max_length=10, default="SPECIAL",
        help_text=_("the highest tier the district uses"),
    )  # fmt: skip

    objects = TenantAuthorityQuerySet.as_manager()

    class Meta:
        verbose_name = _("tenant (district)")
        verbose_name_plural = _("tenants (districts)")
        constraints = [
            models.CheckConstraint(
                condition=Q(region_code__regex=r"^[1-9][0-9]{5}$"), name="schools_tenant_region_code_6d"
            ),
            models.CheckConstraint(condition=Q(publicity_working_days__gte=5), name="schools_tenant_publicity_min_5"),
        ]

    def __str__(self) -> str:
        return self.name


class School(TenantModel):
    """学校: a school of the district, with the stages it teaches."""

    code = models.CharField(_("school code"), max_length=10, help_text=_("学校标识码 (10 digits)."))
    name = models.CharField(_("name"), max_length=100)
    stages = models.JSONField(_("stages"), default=list, help_text=_("The stages the school teaches."))
    area = models.CharField(_("area"), max_length=10, choices=Area.choices)
    township = models.CharField(_("township"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope: ClassVar[Scope] = Scope(school="id")
    view_action: ClassVar[Action] = Action.SCHOOL_VIEW

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="schools_school_tenant_code_uniq"),
            models.UniqueConstraint(fields=["tenant", "name"], name="schools_school_tenant_name_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="schools_school_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_rural(self) -> bool:
        return self.area == Area.RURAL

    def get_stages_display(self) -> str:
        labels = dict(Stage.choices)
        return "、".join(str(labels.get(s, s)) for s in self.stages)


class Grade(TenantModel):
    """年级: the pupils of one stage of a school who entered in the same year (e.g. 初中 2024级)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="grades", verbose_name=_("school"))
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    entry_year = models.PositiveSmallIntegerField(_("entry year"))

    scope: ClassVar[Scope] = Scope(school="school", grade="id")
    view_action: ClassVar[Action] = Action.SCHOOL_VIEW

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "school", "stage", "entry_year"],
                name="schools_grade_tenant_school_year_uniq",
            ),
            models.UniqueConstraint(fields=["tenant", "school", "id"], name="schools_grade_tenant_school_id_uniq"),
            models.CheckConstraint(condition=Q(entry_year__gte=2000, entry_year__lte=2100), name="schools_grade_year"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.entry_year}级"


class SchoolClass(TenantModel):
    """班级: a class of a grade, the unit a class teacher (班主任) is responsible for."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes", verbose_name=_("school"))
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="classes", verbose_name=_("grade"))
    number = models.PositiveSmallIntegerField(_("class number"))

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="id")
    view_action: ClassVar[Action] = Action.SCHOOL_VIEW

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "grade", "number"], name="schools_class_tenant_grade_number_uniq"
            ),
            models.UniqueConstraint(
                fields=["tenant", "school", "grade", "id"], name="schools_class_tenant_school_grade_id_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.number}班"


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: Action | None = None) -> UserQuerySet:
        """Accounts of the user's own tenant, to those who manage users; the platform operator sees
        the accounts of every tenant (to create the first administrator) but no tenant data."""
        if permissions.is_platform_operator(user):
            return self.all()
        if current_tenant_id_or_none() != getattr(user, "tenant_id", None):
            return self.none()
        return self.filter(permissions.scope_q(user, action or Action.USER_MANAGE, self.model))


class AccountManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A person who signs in: a tenant's staff (with role assignments) or a platform operator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("tenant"),
    )
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    is_platform_operator = models.BooleanField(
        _("platform operator"), default=False, help_text=_("Creates tenants; never reads their data.")
    )
    # 市/省 oversight account: no tenant, no role; reads only the aggregates of the region's districts.
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("region"),
        help_text=_("An oversight account of a city or province: reads its districts' aggregates only."),
    )
    is_system = models.BooleanField(
        _("system account"), default=False, editable=False, help_text=_("What scheduled jobs act as; cannot sign in.")
    )

    # Set when an administrator sets the password: the person chooses their own at the next sign-in.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # Part of every session's check (get_session_auth_hash): raising it ends every session at once
    # ("sign out everywhere"), the one that asked kept by update_session_auth_hash.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = AccountManager()

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.USER_MANAGE

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Exactly one kind of account: a tenant's staff, a platform operator, a region's oversight
            # account (neither of the others), or a superuser outside every tenant.
            models.CheckConstraint(
                condition=Q(tenant__isnull=True, is_platform_operator=True, region__isnull=True)
                | Q(tenant__isnull=False, is_platform_operator=False, region__isnull=True)
                | Q(tenant__isnull=True, is_platform_operator=False, region__isnull=False, is_superuser=False)
                | Q(tenant__isnull=True, is_superuser=True, region__isnull=True),
                name="schools_user_tenant_or_operator",
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="schools_user_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.full_name or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session check over the password hash, with the session generation beside it."""
        key_salt = "schools.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class RoleAssignment(TenantModel):
    """A role a user holds over one org unit: a class, a grade, a school, or the whole district."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(
        SchoolClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("class"),
    )

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.USER_MANAGE

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            # The unit matches the role's reach: a class role names its class (and that class's grade
            # and school), a grade role its grade and school, a school role its school, a district role
            # nothing.
            models.CheckConstraint(
                condition=(
                    Q(role=Role.CLASS_TEACHER, klass__isnull=False, grade__isnull=False, school__isnull=False)
                    | Q(role=Role.GRADE_LEADER, klass__isnull=True, grade__isnull=False, school__isnull=False)
                    | Q(
                        role__in=[Role.SCHOOL_OFFICER, Role.PRINCIPAL],
                        klass__isnull=True,
                        grade__isnull=True,
                        school__isnull=False,
                    )
                    | Q(
                        role__in=[Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR, Role.TENANT_ADMIN],
                        klass__isnull=True,
                        grade__isnull=True,
                        school__isnull=True,
                    )
                ),
                name="schools_roleassignment_unit_matches_role",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user", "role", "klass"],
                condition=Q(klass__isnull=False),
                name="schools_roleassignment_class_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user", "role", "grade"],
                condition=Q(klass__isnull=True, grade__isnull=False),
                name="schools_roleassignment_grade_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user", "role", "school"],
                condition=Q(grade__isnull=True, school__isnull=False),
                name="schools_roleassignment_school_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user", "role"],
                condition=Q(school__isnull=True),
                name="schools_roleassignment_tenant_uniq",
            ),
        ]

    def clean(self) -> None:
        """The unit must fit the role (checked again by the database); a class brings its grade and
        school, a grade its school."""
        from django.core.exceptions import ValidationError

        if self.klass_id:
            self.grade_id, self.school_id = self.klass.grade_id, self.klass.school_id
        elif self.grade_id:
            self.school_id = self.grade.school_id
        level = permissions.ROLE_LEVEL.get(self.role)
        needed = {
            permissions.Level.CLASS: ("klass", _("A class teacher is assigned to a class.")),
            permissions.Level.GRADE: ("grade", _("A grade leader is assigned to a grade.")),
            permissions.Level.SCHOOL: ("school", _("This role is assigned to a school.")),
        }
        if level in needed:
            field, message = needed[level]
            if getattr(self, f"{field}_id") is None:
                raise ValidationError({field: message})
            deeper = {"school": ["grade", "klass"], "grade": ["klass"], "klass": []}[field]
            if any(getattr(self, f"{f}_id") for f in deeper):
                raise ValidationError(_("Choose only the unit this role is held over."))
        elif self.school_id or self.grade_id or self.klass_id:
            raise ValidationError(_("District roles are held over the whole district: leave the units empty."))

    def __str__(self) -> str:
        unit = self.klass or self.grade or self.school
        return f"{self.user} · {self.get_role_display()}" + (f" · {unit}" if unit else "")


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    SUCCEEDED = "SUCCEEDED", _("Done")
    FAILED = "FAILED", _("Failed")


class Job(TenantModel):
    """后台任务: a long piece of work (an import, a reconciliation, an export) run by a Celery task,
    with its progress for the progress bar and its result. The task claims the job by a conditional
    update, so a redelivered message never runs the same job twice at once."""

    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the sweep last sent the task again (jobs.jobs_sweep): at most once per STALE_AFTER.
    resent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.JOB_VIEW
    owner_field: ClassVar[str] = "actor"  # seen by who started it (and by auditors)
    # Progress ticks are not changes worth an audit row; the status transitions are.
    audit_exclude = frozenset({"created_at", "updated_at", "done", "total", "message", "heartbeat_at"})

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["tenant", "actor", "kind", "created_at"], name="schools_job_actor_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def earlier_written(self) -> int:
        """Rows an earlier attempt of this job had committed before its worker stopped (from the audit
        trail: `result["earlier_attempts"]`); 0 for a job that ran once."""
        earlier = (self.result or {}).get("earlier_attempts") or {}
        return sum(earlier.values())


class CalendarDay(TenantModel):
    """A day the district works or rests against the national calendar (a local holiday, a make-up
    working day); the publicity period counts working days with these on top of the official ones."""

    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.SCHOOL_VIEW

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [models.UniqueConstraint(fields=["tenant", "date"], name="schools_calendarday_tenant_date_uniq")]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'rest day'}"


class CalendarDayKind(models.TextChoices):
    """What a day of the national calendar is against the ordinary week."""

    HOLIDAY = "HOLIDAY", _("Holiday")  # 节假日 (休): a day off, weekday or not
    WORKDAY = "WORKDAY", _("Adjusted working day")  # 调休上班 (班): a weekend day worked to make up


class OfficialCalendarYear(models.Model):
    """法定节假日安排: one year of the national calendar as the State Council publishes it, loaded whole
    by the platform operator (or seeded from the chinesecalendar package). A global row: every tenant
    counts working days on it. Working-day arithmetic refuses a year that is not loaded; a row with
    `is_loaded` false is a year the daily check found due and missing (`missing_since`)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    is_loaded = models.BooleanField(_("loaded"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("the file or the package"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    holiday_count = models.PositiveSmallIntegerField(_("holidays"), default=0)
    workday_count = models.PositiveSmallIntegerField(_("adjusted working days"), default=0)
    loaded_at = models.DateTimeField(_("loaded at"), null=True, blank=True)
    loaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("loaded by")
    )
    missing_since = models.DateField(_("missing since"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("official calendar year")
        verbose_name_plural = _("official calendar years")
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="schools_calendaryear_year"),
            models.CheckConstraint(
                condition=Q(is_loaded=False) | Q(loaded_at__isnull=False), name="schools_calendaryear_loaded_at"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class OfficialCalendarDay(models.Model):
    """A day of the national calendar that is not what its weekday says: a holiday (休) or an adjusted
    working day (班), with the festival it belongs to (春节, 国庆节, …). One row per date, so a date is
    never both."""

    calendar_year = models.ForeignKey(
        OfficialCalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("year")
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind of day"), max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("official calendar day")
        verbose_name_plural = _("official calendar days")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class ApiToken(models.Model):
    """An API token's name (the device or program it is for) beside knox's row, which holds the key's
    digest, its owner and its expiry (core.tokens). Global like its owner's account: found through the
    owner's tenant (schools.selectors), deleted with the token when it is revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, related_name="device", verbose_name=_("token")
    )
    name = models.CharField(_("name"), max_length=60)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return self.name


class SignIn(models.Model):
    """One signed-in session of an account (its browser, address, and when it was last used), for the
    person's list of their sessions and for "sign out everywhere". Global like the account: found
    through its owner. The session itself lives in Redis; this row holds no part of its key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins", verbose_name=_("user"))
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last used"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        indexes = [models.Index(fields=["user", "ended_at"], name="schools_signin_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
