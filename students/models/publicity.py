"""公示: a school's list of approved applications, public for a number of working days, with objections.

The public page reads only `PublicNotice`: a snapshot, taken at publication, of the fields national
rules allow to be published (a partly masked name, the school, the grade, the tier) and nothing else.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.tenancy.models import TenantModel
from schools.models import School, Tenant, User
from schools.permissions import Action, Scope

from .identification import HardshipApplication, _may


class PublicityStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Being prepared")  # 拟公示
    SIGNED = "SIGNED", _("Signed by the principal")  # 校长签批
    PUBLIC = "PUBLIC", _("Public")  # 公示中
    CLOSED = "CLOSED", _("Closed")  # 公示结束


class Publicity(FSMModelMixin, TenantModel):
    """One publicity of one school's list for one academic year."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school"))
    academic_year = models.PositiveSmallIntegerField(_("academic year"))
    title = models.CharField(_("title"), max_length=100)
    status = FSMField(max_length=10, choices=PublicityStatus.choices, default=PublicityStatus.DRAFT, protected=True)
    working_days = models.PositiveSmallIntegerField(_("working days"), default=5)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notice_token = models.UUIDField(default=uuid.uuid4, editable=False)
    # A publicity held on paper before the district used the product, recorded afterwards (补录): who
    # signed it then (a name: that principal may have no account), and that it was recorded, not held here.
    recorded_afterwards = models.BooleanField(_("recorded afterwards"), default=False)
    signed_by_name = models.CharField(_("signed by (as on the paper list)"), max_length=100, blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("publicity")
        verbose_name_plural = _("publicities")
        constraints = [models.UniqueConstraint(fields=["tenant", "id"], name="students_publicity_tenant_id_uniq")]

    def __str__(self) -> str:
        return self.title

    @transition(
        field=status,
        source=PublicityStatus.DRAFT,
        target=PublicityStatus.SIGNED,
        permission=_may(Action.PUBLICITY_SIGN),
    )
    def sign(self) -> None:
        """The principal (第一责任人) signs the list."""

    @transition(
        field=status,
        source=PublicityStatus.SIGNED,
        target=PublicityStatus.DRAFT,
        permission=_may(Action.PUBLICITY_MANAGE),
    )
    def reopen(self) -> None:
        """Back to preparation (the signature lapses) before publication."""

    @transition(
        field=status,
        source=PublicityStatus.SIGNED,
        target=PublicityStatus.PUBLIC,
        permission=_may(Action.PUBLICITY_MANAGE),
    )
    def go_public(self) -> None:
        """Published: from now on the list cannot change."""

    @transition(
        field=status,
        source=PublicityStatus.DRAFT,
        target=PublicityStatus.PUBLIC,
        permission=_may(Action.PUBLICITY_MANAGE),
    )
    def record_held(self) -> None:
        """补录: the list was signed and public on paper, in the past; the period's end closes it."""

    @transition(
        field=status,
        source=PublicityStatus.PUBLIC,
        target=PublicityStatus.CLOSED,
        permission=_may(Action.PUBLICITY_MANAGE),
    )
    def close(self) -> None:
        """The period is over and no objection is open."""


class PublicityEntry(TenantModel):
    """An application on a publicity list."""

    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="entries")
    application = models.ForeignKey(HardshipApplication, on_delete=models.PROTECT, related_name="publicity_entries")
    withdrawn = models.BooleanField(default=False, help_text=_("taken off after an upheld objection"))

    scope: ClassVar[Scope] = Scope(school="publicity__school")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("publicity entry")
        verbose_name_plural = _("publicity entries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "publicity", "application"], name="students_entry_uniq"),
        ]

    def __str__(self) -> str:
        return str(self.application)


class ObjectionStatus(models.TextChoices):
    OPEN = "OPEN", _("Open")
    UPHELD = "UPHELD", _("Upheld")  # 异议成立
    DISMISSED = "DISMISSED", _("Dismissed")  # 异议不成立


class Objection(FSMModelMixin, TenantModel):
    """异议: an objection raised during a publicity (by letter, phone or in person), and its answer."""

    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="objections")
    application = models.ForeignKey(
        HardshipApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="objections",
        verbose_name=_("about the application of"),
    )  # fmt: skip
    received_on = models.DateField(_("received on"))
    raised_by = models.CharField(_("raised by"), max_length=100, help_text=_("a name, or 'anonymous'"))
    channel = models.CharField(_("how"), max_length=50, blank=True)
    content = models.TextField(_("what"))
    status = FSMField(max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN, protected=True)
    decision = models.TextField(_("decision"), blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="publicity__school")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.raised_by}: {self.content[:30]}"

    # OPEN ─uphold / dismiss (answered, with the grounds)→ UPHELD / DISMISSED

    @transition(field=status, source=ObjectionStatus.OPEN, target=ObjectionStatus.UPHELD)
    def uphold(self) -> None:
        """异议成立: the application leaves the list and goes back to the school's review."""

    @transition(field=status, source=ObjectionStatus.OPEN, target=ObjectionStatus.DISMISSED)
    def dismiss(self) -> None:
        """异议不成立."""


class PublicNotice(models.Model):
    """The public page of a publicity: a snapshot of publishable fields only, readable without login.

    A global table (no row-level security): it holds nothing but what the school pins on its notice
    board, and the page shows it only between its dates.
    """

    token = models.UUIDField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=100)
    school_name = models.CharField(max_length=100)
    starts_on = models.DateField()
    ends_on = models.DateField()
    rows = models.JSONField(help_text="[{name, grade, tier}] — masked name, no ID, address, phone, category or reason")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("public notice")

    def __str__(self) -> str:
        return self.title
