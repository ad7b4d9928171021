"""The other departments' registries (部门数据): rural revitalisation, civil affairs, the disabled
persons' federation and veterans affairs each send a list of people, in their own columns.

A district user maps a source's columns once (ColumnMapping) and reuses the mapping; each import is a
dated snapshot (RegistrySnapshot) whose rows (RegistryEntry) are kept encrypted like the register, found
by the same keyed hash (blind index) as the students' and guardians' ID numbers, so matching is a join.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import BlindIndexField, EncryptedField
from core.tenancy.models import TenantModel, tenant_key_proved_elsewhere
from schools.permissions import Action, Scope


class RegistrySource(models.TextChoices):
    """Which department a list comes from (数据来源)."""

    RURAL = "RURAL", _("Rural revitalisation (脱贫户 / 监测户)")  # 乡村振兴局
    CIVIL = "CIVIL", _("Civil affairs (低保 / 特困 / 孤儿 / 事实无人抚养儿童)")  # 民政局
    DISABLED = "DISABLED", _("Disabled persons' federation (残疾学生 / 残疾人子女)")  # 残联
    VETERANS = "VETERANS", _("Veterans affairs (烈士子女)")  # 退役军人事务局


class ColumnMapping(TenantModel):
    """列映射: which of a source's columns holds which fact, set once in the browser and reused.

    `columns` maps each field of the registry row (name, id_number, household_id_number, category,
    township, village) to the header text in the department's file; `category_values` maps the text
    of its category column to hardship-category codes; `default_category` applies when the file has no
    category column (a veterans' list is all 烈士子女).
    """

    source = models.CharField(_("source"), max_length=10, choices=RegistrySource.choices)
    name = models.CharField(_("name"), max_length=60)
    columns = models.JSONField(_("columns"), default=dict)
    category_values = models.JSONField(_("category values"), default=dict, blank=True)
    default_category = models.CharField(_("default category"), max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.REGISTRY_VIEW

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "name"], name="audits_mapping_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="audits_mapping_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} · {self.name}"


class RegistrySnapshot(TenantModel):
    """One import of one source's list (数据快照), as of a date: kept, never changed, with the
    validation counts and what changed since the previous snapshot of the same source."""

    source = models.CharField(_("source"), max_length=10, choices=RegistrySource.choices)
    mapping = models.ForeignKey(
        ColumnMapping, null=True, blank=True, on_delete=models.PROTECT, related_name="snapshots"
    )
    file_name = models.CharField(_("file"), max_length=200)
    # SHA-256 of the file's bytes: importing the same file again finds this snapshot.
    fingerprint = models.CharField(max_length=64)
    taken_on = models.DateField(_("as of"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_valid = models.PositiveIntegerField(_("rows kept"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # {"previous": id, "added": n, "removed": n, "changed": n}: people, by ID number and category.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # The first rejected rows ({"row", "code", "message"}); the full report is an xlsx next to the job.
    problems = models.JSONField(default=list, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.REGISTRY_VIEW

    class Meta:
        verbose_name = _("registry snapshot")
        verbose_name_plural = _("registry snapshots")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "fingerprint"], name="audits_snapshot_file_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="audits_snapshot_tenant_id_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "source", "taken_on"], name="audits_snapshot_source_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.taken_on}"


class RegistryEntry(TenantModel):
    """One row of a department's list: a person (the child, or only a parent) and their category.

    Written in bulk with its snapshot and never changed: the snapshot's audit row stands for its rows
    (a million audit rows would say nothing the snapshot's fingerprint does not).
    """

    # A million rows land at once, by INSERT … SELECT: every index and every per-row foreign-key
    # check costs seconds (measured in docs/benchmarks.md). The rows are found by their snapshot only
    # (the reconciliation hash-joins a whole snapshot on the blind indexes), their ids rise with the row
    # number (a sequential primary key), and the statement that writes them names a snapshot it has
    # just created under row-level security, so no per-row foreign key repeats that proof.
    tenant = tenant_key_proved_elsewhere()
    snapshot = models.ForeignKey(
        RegistrySnapshot, on_delete=models.CASCADE, related_name="entries", db_constraint=False, db_index=False
    )
    row_number = models.PositiveIntegerField()
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedField(_("ID number"), kind="id_number")
    id_number_hash = BlindIndexField(source="id_number")
    # 户主身份证号: the household head, when the list names the household rather than the person.
    household_id_number = EncryptedField(_("household head's ID number"), kind="id_number", null=True, blank=True)
    household_id_number_hash = BlindIndexField(source="household_id_number", null=True)
    category = models.CharField(_("category"), max_length=40)
    township = models.CharField(_("township"), max_length=50, blank=True)
    village = models.CharField(_("village or community"), max_length=50, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.REGISTRY_VIEW
    audited_with: ClassVar[str] = "snapshot"

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        indexes = [models.Index(fields=["snapshot"], name="audits_entry_snapshot_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.category})"
