"""The audit trail (审计日志): append-only, hash-chained per tenant.

The application writes rows and never changes them: the model refuses updates and deletes, the app's
database role has no UPDATE or DELETE privilege on the table, and a trigger refuses both even to the
owner. Each row seals the previous row's hash with a keyed hash (HMAC-SHA256), so an edit, a deletion
or a reordering made behind the application's back is found by `manage.py verify_audit`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import authz
from core.fields import CodeField
from core.tenancy.context import CurrentTenantId


class AppendOnlyError(Exception):
    """Audit rows are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: Any = None) -> AuditEventQuerySet:
        return self.filter(authz.scope_q(user, action or self.model.view_action, self.model))

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> Any:
        raise AppendOnlyError("audit events are append-only")


class AuditEventManager(models.Manager.from_queryset(AuditEventQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> AuditEventQuerySet:
        return super().get_queryset().filter(tenant_id=CurrentTenantId())


class AuditEvent(models.Model):
    """One change of tenant data, one state transition, or one view of a full personal number."""

    id = models.BigAutoField(primary_key=True)
    # No key of its own: the tenant is proved by its chain head, which every append locks and moves
    # (AuditChainHead's key is the tenant) before writing a row; and every index here starts with it.
    # A roster import writes a row per pupil: a key checked per row would cost seconds.
    tenant = models.ForeignKey(
        "schools.Tenant", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    seq = models.PositiveBigIntegerField(help_text="Position in the tenant's chain, from 1.")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Who, as shown at the time (user or system job).")
    source = models.CharField(max_length=20)
    # Codes, not language (CodeField: compared byte by byte): the object index takes a roster's
    # 100,000 events at a time.
    action = CodeField(max_length=64)
    object_type = CodeField(max_length=100)
    object_id = CodeField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    key_id = models.CharField(max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventManager()

    scope: ClassVar[Any] = None  # tenant-wide
    # schools.permissions.Action.AUDIT_VIEW, spelt as its value: the kernel imports no app (a test checks
    # the two agree).
    view_action: ClassVar[str] = "audit.view"

    class Meta:
        app_label = "audits"  # the table and its migrations stay the audits app's
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "seq"], name="audits_event_tenant_seq_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "object_type", "object_id"], name="audits_event_object_idx"),
            models.Index(fields=["tenant", "occurred_at"], name="audits_event_time_idx"),
            models.Index(fields=["tenant", "action"], name="audits_event_action_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are append-only")


class AuditChainHead(models.Model):
    """The end of a tenant's chain: the last sequence number and hash. Locked (SELECT … FOR UPDATE)
    by every append, which orders a tenant's events; `verify_audit` checks the chain ends here, so a
    deleted last row is found too."""

    tenant = models.OneToOneField("schools.Tenant", on_delete=models.PROTECT, primary_key=True, related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    class Meta:
        app_label = "audits"
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"{self.tenant_id} #{self.last_seq}"
