"""TenantModel: the base of every table that belongs to a tenant.

- Every row carries its tenant (non-null); rows are written only for the tenant currently set.
- `Model.objects` sees only the current tenant's rows and raises if no tenant is set (fail closed).
- `Model.objects.visible_to(user)` narrows to the user's role scope: the one way code reads rows on a
  user's behalf (views, API, exports, tasks all go through it). The scope comes from the permission
  module through `core.authz`, which that module fills in when its app is ready.
- Every write through the ORM (save, delete, update, bulk_create, bulk_update) writes audit rows in
  the same transaction (core.audit.trail).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar, Self

from django.db import models
from django.db.models.fields.related import lazy_related_operation  # type: ignore[attr-defined]
from django.db.models.signals import class_prepared
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

from core import authz
from core.audit import trail

from .context import CurrentTenantId, TenantContextMissing, current_tenant_id, current_tenant_id_or_none


class TenantQuerySet(models.QuerySet):
    """Querysets of tenant rows: role scoping, and audited bulk writes."""

    def visible_to(self, user: Any, action: Any = None) -> Self:
        """Rows the user may see (or act on with `action`): the one scoping helper. None for anyone
        outside the current tenant or without a role that reaches the rows."""
        action = action or self.model.view_action
        return self.filter(authz.scope_q(user, action, self.model))

    def update(self, **kwargs: Any) -> int:
        """UPDATE … WHERE …, auditing each changed row (before/after of the fields set)."""
        fields = list(kwargs)
        rows = list(self.values("pk", "tenant_id", *fields))
        if not rows:
            return 0
        count = super().update(**kwargs)
        if any(hasattr(v, "resolve_expression") for v in kwargs.values()):
            # F() and friends: the new values are known only to the database.
            changed = self.model._base_manager.filter(pk__in=[r["pk"] for r in rows])
            after = {r["pk"]: r for r in changed.values("pk", *fields)}
        else:
            after = {r["pk"]: kwargs for r in rows}
        trail.record_rows_changed(self.model, rows, after, fields)
        return count

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        rows = list(self.values("pk", "tenant_id"))
        result = super().delete()
        trail.record_rows_deleted(self.model, rows)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            # Which rows were written is unknown to the ORM afterwards, so they could not be audited.
            raise NotImplementedError("upserts are done by services with explicit audit rows")
        objs = list(objs)
        for obj in objs:
            obj.check_tenant()
        created = super().bulk_create(objs, *args, **kwargs)
        trail.record_instances_created(created)
        return created

    def bulk_update(self, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs = list(objs)
        for obj in objs:
            obj.check_tenant()
        # Django's bulk_update runs this queryset's update() per batch, which writes the audit rows
        # (before and after, read around the statement): nothing to record here as well.
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        for obj in objs:
            obj.remember_loaded_values()
        return count


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Sees only the current tenant's rows; raises TenantContextMissing when there is no tenant."""

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=CurrentTenantId())


class TenantRowsManager(models.Manager):
    """Django's base manager for tenant models (`TenantModelBase._base_manager`): what a related
    object (`award.student`), a prefetch, `save()`'s UPDATE, `refresh_from_db()` and the deletion
    collector read through. It names the current tenant when one is set, so each of those statements
    is routable to one district (issue 22 item 3); without a tenant it adds nothing (the default
    manager raises there; this one must not, since the ORM's own machinery uses it, and PostgreSQL's
    row-level security still applies)."""

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        tenant_id = current_tenant_id_or_none()
        return queryset if tenant_id is None else queryset.filter(tenant_id=tenant_id)


_BASE_MANAGERS: dict[type, TenantRowsManager] = {}


def tenant_key_proved_elsewhere() -> models.ForeignKey:
    """A tenant model's `tenant` field without its own key and index, for tables written in bulk whose
    composite keys (or whose writing statements) prove the tenant already, and whose indexes start with
    it (see docs/architecture.md, "Tenancy")."""
    return models.ForeignKey(
        "schools.Tenant",
        on_delete=models.PROTECT,
        editable=False,
        related_name="+",
        default=current_tenant_id_or_none,
        db_constraint=False,
        db_index=False,
    )


def choice_label(field: Any, value: Any) -> Any:
    """The label of `value` among the choices of `field` in the active language (the value itself if it
    is not a choice), as Django's get_<field>_display gives it. The choices are fixed in the code, so
    each field's table of labels is built once per language and process."""
    language = translation.get_language()
    tables = field.__dict__.setdefault("_choice_labels", {})
    labels = tables.get(language)
    if labels is None:
        labels = {make_hashable(k): force_str(v, strings_only=True) for k, v in field.flatchoices}
        tables[language] = labels
    return labels.get(make_hashable(value), force_str(value, strings_only=True))


class TenantModelBase(models.base.ModelBase):
    """The metaclass of tenant models: Django's base manager (a property of the metaclass) is a
    TenantRowsManager, not declared among the model's managers, so the migrations' model state does
    not change."""

    @property
    def _base_manager(cls) -> models.Manager:
        manager = _BASE_MANAGERS.get(cls)
        if manager is None:
            manager = TenantRowsManager()
            manager.name = "_base_manager"
            manager.model = cls
            manager.auto_created = True
            _BASE_MANAGERS[cls] = manager
        return manager


class TenantModel(models.Model, metaclass=TenantModelBase):
    """A row that belongs to one tenant. Subclasses declare `scope` (the org-unit fields that place a
    row in a school, grade or class) and `view_action` (the permission needed to see it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # New rows belong to the current tenant unless told otherwise (and save() refuses any other).
    tenant = models.ForeignKey(
        "schools.Tenant",
        on_delete=models.PROTECT,
        editable=False,
        related_name="+",
        default=current_tenant_id_or_none,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The default manager. Django's base manager (related lookups like `row.school`, the deletion
    # collector) stays a plain one; PostgreSQL's row-level security still applies to it.
    objects = TenantManager()

    # Read by the permission policy (schools.permissions.Scope; None: tenant-wide reference data).
    scope: ClassVar[Any] = None
    view_action: ClassVar[Any]
    # Fields whose values the audit trail leaves out (they are derived, or noise).
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_tenant()
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        before = None if adding else self.loaded_values(update_fields)
        super().save(*args, **kwargs)
        if adding:
            trail.record_instances_created([self])
        else:
            trail.record_instances_changed([self], {self.pk: before}, update_fields)
        self.remember_loaded_values()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self.check_tenant()
        pk = self.pk
        result = super().delete(*args, **kwargs)
        trail.record_rows_deleted(type(self), [{"pk": pk, "tenant_id": self.tenant_id}])
        return result

    def _get_FIELD_display(self, field: Any) -> Any:
        """Django's choice label, looked up in a table made once per field and language (Django builds
        the field's choices into a dict and translates the label on every call: a list page of 50 rows
        with three labels each paid for 150 dicts)."""
        return choice_label(field, getattr(self, field.attname))

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Self:
        instance = super().from_db(db, field_names, values)
        # The row as read, paired with its names only when a save asks (`loaded_values`): most rows are
        # read to be shown, and building a dict per row cost a list page of 50 pupils (250 instances with
        # their schools, grades and classes) a tenth of its time.
        instance.__dict__["_loaded_row"] = (field_names, values)
        return instance

    def remember_loaded_values(self) -> None:
        """Keep the values as stored, so the audit row of the next save can say what changed."""
        fields: list[Any] = list(self._meta.concrete_fields)
        self._loaded_values = {f.attname: getattr(self, f.attname) for f in fields if f.attname in self.__dict__}

    def loaded_values(self, fields: Iterable[str] | None = None) -> dict[str, Any]:
        loaded = self.__dict__.get("_loaded_values")
        if loaded is None:
            names, values = self.__dict__.get("_loaded_row", ((), ()))
            loaded = self._loaded_values = dict(zip(names, values, strict=True))
        if fields is None:
            return dict(loaded)
        names = {getattr(self._meta.get_field(f), "attname", f) for f in fields}
        return {k: v for k, v in loaded.items() if k in names}

    def check_tenant(self) -> None:
        """Refuse to write a row for any tenant but the current one, or pointing at a parent row of
        another tenant (for parents assigned as objects; PostgreSQL's composite foreign keys check
        raw ids too)."""
        tenant_id = current_tenant_id()
        if self.tenant_id is None:
            self.tenant_id = tenant_id
        elif self.tenant_id != tenant_id:
            raise TenantContextMissing("a row of another tenant cannot be written here")
        fields: list[Any] = list(self._meta.concrete_fields)
        for f in fields:
            if f.is_relation and f.name != "tenant" and f.is_cached(self):
                parent = f.get_cached_value(self)
                if parent is not None and getattr(parent, "tenant_id", tenant_id) != tenant_id:
                    raise TenantContextMissing(f"{f.name} belongs to another tenant")


class _SameTenant:
    """`parent.tenant_id = child.tenant_id`, added to the ON of every join along a key between two
    tenant tables (Django's `get_extra_restriction` hook, as GenericRelation adds its content type):
    `select_related`, filters across relations and subqueries then pin every joined table to the
    district of the first, which a database distributed by tenant needs to keep the join on one node.
    The composite key already makes it true; saying it costs nothing (both columns lead an index)."""

    def __init__(self, field: Any) -> None:
        self.field = field

    def __call__(self, alias: str, related_alias: str) -> Any:
        from django.db.models.sql.where import AND, WhereNode

        parent_tenant = self.field.related_model._meta.get_field("tenant")
        own_tenant = self.field.model._meta.get_field("tenant")
        if alias is None or related_alias is None:
            # Django trimmed one side out of a subquery (an exclude() across the relation): the side
            # left is pinned to the current district itself, when there is one.
            tenant_id = current_tenant_id_or_none()
            if tenant_id is None:
                return None
            field, kept = (own_tenant, related_alias) if alias is None else (parent_tenant, alias)
            return WhereNode([field.get_lookup("exact")(field.get_col(kept), tenant_id)], connector=AND)
        lookup = parent_tenant.get_lookup("exact")(parent_tenant.get_col(alias), own_tenant.get_col(related_alias))
        return WhereNode([lookup], connector=AND)


class _SameTenantFilter:
    """The extra filter of `child.parent` (Django's `get_extra_descriptor_filter` hook): the parent is
    looked up by its id *and* the child's tenant."""

    def __call__(self, instance: Any) -> dict[str, Any]:
        return {"tenant_id": instance.tenant_id}


def _tenant_key_only(model: type[models.Model], target: type[models.Model], *, field: Any) -> None:
    from .db import REFERENCE_TABLES

    if issubclass(target, TenantModel) and target._meta.db_table not in REFERENCE_TABLES:
        field.db_constraint = False
        field.get_extra_restriction = _SameTenant(field)
        field.get_extra_descriptor_filter = _SameTenantFilter()


def _keys_between_tenant_tables(sender: type[models.Model], **kwargs: Any) -> None:
    """A key between two tenant tables is the composite (tenant_id, parent_id) → parent(tenant_id, id)
    one only (`db.TenantForeignKey`, declared in the migration): a distributed database (Citus) refuses
    a key that does not carry the distribution column, and the single-column key Django would add
    beside it proves nothing more. So every such ForeignKey/OneToOneField is made with
    db_constraint=False here, for the models that exist and every model added later, without a word
    in the model. Keys to global tables (tenants, accounts) stay as Django makes them."""
    if not issubclass(sender, TenantModel) or sender._meta.abstract:
        return
    fields: list[Any] = list(sender._meta.local_fields)
    for field in fields:
        if field.is_relation and field.name != "tenant" and not field.many_to_many:
            lazy_related_operation(_tenant_key_only, sender, field.remote_field.model, field=field)


class_prepared.connect(_keys_between_tenant_tables, dispatch_uid="core.tenancy.keys_between_tenant_tables")
