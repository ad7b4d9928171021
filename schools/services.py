"""Writes of the school structure and its people. Each runs in the caller's tenant transaction and is
audited (TenantModel rows by the ORM hooks, accounts and tenants explicitly)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import tokens
from core.audit import trail
from core.tenancy.context import tenant_transaction

from .models import (
    STAGE_YEARS,
    ApiToken,
    Grade,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    School,
    SchoolClass,
    Stage,
    Tenant,
    User,
)
from .permissions import ROLE_LEVEL, Level
from .signals import tenant_created


def tenant_create(*, slug: str, name: str, region_code: str, pk: uuid.UUID | None = None) -> Tenant:
    """Create a tenant (platform operator's work) and open its audit chain with the creation."""
    with transaction.atomic():
        tenant = Tenant(slug=slug, name=name, region_code=region_code)
        if pk is not None:
            tenant.pk = pk
        tenant.full_clean()
        tenant.save()
        with tenant_transaction(tenant.pk):
            trail.record(
                tenant_id=tenant.pk,
                action="tenant.create",
                obj=tenant,
                after={"slug": slug, "name": name, "region_code": region_code},
            )
            tenant_system_user(tenant)
            tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


def tenant_system_user(tenant: Tenant) -> User:
    """The account scheduled jobs of a tenant act as (it cannot sign in and holds no role)."""
    user = User.objects.filter(username=f"system@{tenant.slug}").first()
    if user is None:
        user = User(username=f"system@{tenant.slug}", full_name="系统", tenant=tenant, is_system=True)
        user.set_unusable_password()
        user.save()
        trail.record(tenant_id=tenant.pk, action="user.create", obj=user, after={"username": user.username})
    return user


def region_create(*, code: str, name: str, level: str = RegionLevel.CITY, parent: Region | None = None) -> Region:
    """A city or province above districts (platform operator's work). It holds no tenant data: nothing
    to audit in any district until a district is placed in it (`tenant_region_set`)."""
    region = Region(code=code, name=name, level=level, parent=parent)
    region.full_clean()
    region.save()
    return region


def tenant_region_set(*, tenant: Tenant, region: Region | None) -> Tenant:
    """Place a district in a city or province (or take it out): from now on that region's oversight
    accounts read the district's aggregates. Recorded in the district's trail."""
    with transaction.atomic():
        before = {"region": str(tenant.region) if tenant.region_id else ""}
        tenant.region = region
        tenant.save(update_fields=["region"])
        with tenant_transaction(tenant.pk):
            trail.record(
                tenant_id=tenant.pk, action="tenant.region_set", obj=tenant, before=before,
                after={"region": region.name if region else "", "region_code": region.code if region else ""},
            )  # fmt: skip
    return tenant


def region_account_create(
    *, region: Region, username: str, password: str, full_name: str = "", validate: bool = True
) -> User:
    """A city's or province's oversight account (市/省): no tenant, no role, not staff; it reads only the
    aggregates of the region's districts. Recorded in the trail of each of those districts, which learn
    who may read their figures."""
    user = User(username=username, full_name=full_name, region=region)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
        for tenant_id in Tenant.objects.filter(region__in=[region, *region.children.all()]).values_list(
            "pk", flat=True
        ):
            with tenant_transaction(tenant_id):
                trail.record(
                    tenant_id=tenant_id, action="region.account_create", object_type_="schools.region",
                    object_id=str(region.pk), after={"username": username, "region": region.name},
                )  # fmt: skip
    return user


def tenant_admin_create(*, tenant: Tenant, username: str, password: str, full_name: str = "") -> User:
    """The tenant's first administrator (platform operator's work: an account, no tenant data read)."""
    with tenant_transaction(tenant.pk):
        user = user_create(tenant=tenant, username=username, password=password, full_name=full_name)
        user.must_change_password = True  # the operator chose it: the administrator changes it first
        user.save(update_fields=["must_change_password"])
        role_assign(user=user, role=Role.TENANT_ADMIN)
    return user


def school_create(*, code: str, name: str, stages: Iterable[str], area: str, township: str = "") -> School:
    """Create a school of the current tenant."""
    stages = [Stage(s).value for s in stages]
    if not stages:
        raise ValidationError(_("A school teaches at least one stage."))
    school = School(code=code, name=name, stages=stages, area=area, township=township)
    school.full_clean()
    school.save()
    return school


def grade_create(*, school: School, stage: str, entry_year: int) -> Grade:
    """Create a grade of a school, for one of the stages the school teaches."""
    if stage not in school.stages:
        raise ValidationError(_("%(school)s does not teach this stage.") % {"school": school.name})
    grade = Grade(school=school, stage=stage, entry_year=entry_year)
    grade.full_clean()
    grade.save()
    return grade


def class_create(*, grade: Grade, number: int) -> SchoolClass:
    klass = SchoolClass(school_id=grade.school_id, grade=grade, number=number)
    klass.full_clean()
    klass.save()
    return klass


def grade_year_in_stage(grade: Grade, academic_year: int) -> int:
    """1 for the first year of the stage, … ; 0 or less before entry, above the stage's length after."""
    return academic_year - grade.entry_year + 1


def stage_year_count(stage: str) -> int:
    return STAGE_YEARS[Stage(stage)]


def user_create(
    *, tenant: Tenant | None, username: str, password: str, full_name: str = "", validate: bool = True
) -> User:
    """Create an account of a tenant (or, with tenant=None, a platform operator)."""
    user = User(username=username, full_name=full_name, tenant=tenant, is_platform_operator=tenant is None)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.is_staff = True  # may open the admin site; what they see there is decided by permissions
    user.full_clean(exclude=["password"])
    user.save()
    if tenant is not None:
        trail.record(
            tenant_id=tenant.pk,
            action="user.create",
            obj=user,
            after={"username": username, "full_name": full_name},
        )
    return user


def role_assign(*, user: User, role: str, unit: Any = None) -> RoleAssignment:
    """Give `user` a role over `unit` (a SchoolClass, Grade, School, or None for the district).

    The unit must match the role's reach: a class for a class teacher, a school for an officer, …
    """
    level = ROLE_LEVEL[Role(role)]
    expected = {Level.CLASS: SchoolClass, Level.GRADE: Grade, Level.SCHOOL: School, Level.TENANT: type(None)}[level]
    if not isinstance(unit, expected):
        if expected is type(None):
            raise ValidationError(_("District roles are held over the whole district: leave the units empty."))
        raise ValidationError(_("This role is held over a %(unit)s.") % {"unit": expected._meta.verbose_name})
    fields: dict[str, Any] = {}
    if isinstance(unit, SchoolClass):
        fields = {"klass": unit, "grade_id": unit.grade_id, "school_id": unit.school_id}
    elif isinstance(unit, Grade):
        fields = {"grade": unit, "school_id": unit.school_id}
    elif isinstance(unit, School):
        fields = {"school": unit}
    existing = RoleAssignment.objects.filter(user=user, role=role, **fields).first()
    if existing:
        return existing  # assigning twice is not an error (a double click)
    assignment = RoleAssignment(user=user, role=role, **fields)
    assignment.full_clean()
    assignment.save()
    return assignment


def role_revoke(*, assignment: RoleAssignment, reason: str = "") -> None:
    with trail.labelled("role.revoke", reason):
        assignment.delete()


# --- API tokens (core.tokens: hashed, expiring) ----------------------------------------------------------

API_TOKEN_NO_TENANT = gettext_lazy("Only the staff of a district may hold API tokens.")
API_TOKEN_DEFAULT_NAME = "API"  # noqa: S105 (a name, not a secret)


def _acting(actor: User) -> Any:
    """Attribute the audit rows to `actor` in the current request (the token endpoint's caller is
    anonymous until the token is issued)."""
    current = trail.current_actor()
    return trail.acting_as(trail.actor_for(actor, source=current.source, request_id=current.request_id))


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue an API token for `user`, named after its device, expiring after settings.API_TOKEN_TTL_DAYS.
    Returns the row and the key: the key is shown once and stored only as a digest. Audited in the
    user's tenant chain; refused to accounts without a tenant (the API serves tenants' data only)."""
    if user.tenant_id is None:
        raise ValidationError(API_TOKEN_NO_TENANT)
    name = name.strip()[:60] or API_TOKEN_DEFAULT_NAME
    with tenant_transaction(user.tenant_id), _acting(user):
        row, key = tokens.token_issue(user=user)
        token = ApiToken(token=row, name=name)
        token.save(force_insert=True)
        trail.record(
            tenant_id=user.tenant_id,
            action="api_token.create",
            obj=token,
            after={"user": user.username, "name": name, "expires_at": row.expiry, "digest_end": row.digest[-8:]},
        )
    return token, key


def api_token_revoke(*, token: ApiToken, actor: User) -> bool:
    """Delete the token: the key stops working at once. Audited in the owner's tenant chain, naming who
    revoked it (the owner or the tenant administrator). False if it was already gone (a double click)."""
    owner = token.token.user
    with tenant_transaction(owner.tenant_id), _acting(actor):
        row = tokens.token_locked(digest=token.token_id)
        if row is None:
            return False
        trail.record(
            tenant_id=owner.tenant_id,
            action="api_token.revoke",
            obj=token,
            before={
                "user": owner.username,
                "name": token.name,
                "expires_at": row.expiry,
                "digest_end": row.digest[-8:],
            },
        )
        row.delete()  # and the ApiToken with it
    return True
