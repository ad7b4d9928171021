"""公示: publish a school's approved list for a number of working days, hear objections, close it.

While a list is public it cannot change: no entry is added or removed, and its applications move only
by an upheld objection (back to the school's review) or by the end of the period (on to the district).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_fsm import has_transition_perm

from core import clock
from core.audit import trail
from core.crypto import mask
from schools import permissions
from schools.models import School, Tenant
from schools.permissions import Action
from schools.workdays import add_working_days

from ..models import (
    ApplicationDecision,
    ApplicationStatus,
    Decision,
    HardshipApplication,
    Objection,
    ObjectionStatus,
    Publicity,
    PublicityEntry,
    PublicityStatus,
    PublicNotice,
)
from .workflow import WorkflowError

MSG_EMPTY = _("No application of this school is waiting for publicity.")
MSG_NOT_DRAFT = _("The list can change only before the principal signs it.")
MSG_OPEN_OBJECTIONS = _("Answer the open objections first.")
MSG_STATE = _("This publicity is %(status)s: that cannot be done now.")


def _locked(publicity: Publicity) -> Publicity:
    return Publicity.objects.select_for_update().get(pk=publicity.pk)


def _fire(obj: Any, method: str, actor: Any) -> None:
    bound = getattr(obj, method)
    if not has_transition_perm(bound, actor):
        raise WorkflowError(MSG_STATE % {"status": obj.get_status_display()})
    bound()


def publicity_create(*, actor: Any, school: School, academic_year: int, title: str = "") -> Publicity:
    """拟公示名单: a new list with every application of the school awaiting publicity."""
    permissions.require(actor, Action.PUBLICITY_MANAGE, school)
    tenant = Tenant.objects.get(pk=school.tenant_id)
    with transaction.atomic():
        waiting = list(
            HardshipApplication.objects.select_for_update()
            .filter(school=school, academic_year=academic_year, status=ApplicationStatus.SCHOOL_APPROVED)
            .exclude(publicity_entries__publicity__status__in=[PublicityStatus.DRAFT, PublicityStatus.SIGNED])
            .order_by("pk")
        )
        if not waiting:
            raise WorkflowError(MSG_EMPTY)
        publicity = Publicity.objects.create(
            school=school,
            academic_year=academic_year,
            title=title or f"{school.name}{academic_year}学年家庭经济困难学生认定结果公示",
            working_days=tenant.publicity_working_days,
            created_by=actor,
        )
        PublicityEntry.objects.bulk_create([PublicityEntry(publicity=publicity, application=a) for a in waiting])
    return publicity


def publicity_sign(*, actor: Any, publicity: Publicity) -> Publicity:
    """The principal signs the list (校长签批), making it ready to publish."""
    with transaction.atomic(), trail.labelled("publicity.sign"):
        p = _locked(publicity)
        _fire(p, "sign", actor)
        p.signed_by = actor
        p.save(update_fields=["status", "signed_by", "updated_at"])
    return p


def publicity_publish(*, actor: Any, publicity: Publicity, starts_on: dt.date | None = None) -> Publicity:
    """Publish a signed list: its period is counted in working days on the official calendar, its
    applications go into publicity, and the public page's snapshot is taken."""
    starts_on = starts_on or clock.today()
    with transaction.atomic():
        p = _locked(publicity)
        with trail.labelled("publicity.publish"):
            _fire(p, "go_public", actor)
            p.starts_on = starts_on
            p.ends_on = add_working_days(starts_on, p.working_days)
            p.published_by = actor
            p.save(update_fields=["status", "starts_on", "ends_on", "published_by", "updated_at"])
        apps = _applications_into_publicity(p, actor)
        school = School.objects.get(pk=p.school_id)
        notice_publish(
            token=p.notice_token,
            tenant_id=p.tenant_id,
            title=p.title,
            school_name=school.name,
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            people=[(a.student.name, a.grade, a.get_tier_display) for a in apps],
        )
    return p


def _applications_into_publicity(p: Publicity, actor: Any, reason: str = "") -> list[HardshipApplication]:
    """The list's applications go into publicity, one decision row each (set-based writes)."""
    entries = list(p.entries.select_related("application__student", "application__grade").order_by("pk"))
    apps = [e.application for e in entries]
    for app in apps:
        _fire(app, "publish", actor)
    with trail.labelled("application.publish", reason):
        HardshipApplication.objects.bulk_update(apps, ["status", "updated_at"])
        ApplicationDecision.objects.bulk_create(
            [
                ApplicationDecision(
                    application=a,
                    decision=Decision.PUBLISH,
                    from_status=ApplicationStatus.SCHOOL_APPROVED,
                    to_status=a.status,
                    reason=reason,
                    actor=actor,
                )
                for a in apps
            ]
        )
    return apps


MSG_HELD_SIGNER = _("Give the name of the principal who signed the paper list.")
MSG_HELD_DATES = _("A publicity recorded afterwards must have ended before today, and start before it ends.")
MSG_HELD_SHORT = _("The period was shorter than %(days)d working days (it would have ended on %(date)s).")


def publicity_record_held(
    *, actor: Any, publicity: Publicity, starts_on: dt.date, ends_on: dt.date, signed_by_name: str
) -> Publicity:
    """补录: record a list that was signed and public on paper before the district used the product (a
    district adopting mid-year, or migrating its records), with its dates and who signed it. The same
    rules hold as for a publicity held here (the period's working days on the official calendar); the
    record says it was recorded afterwards, by whom, and the period's end closes it at once."""
    name = signed_by_name.strip()
    if not name:
        raise WorkflowError(MSG_HELD_SIGNER)
    if not (starts_on <= ends_on < clock.today()):
        raise WorkflowError(MSG_HELD_DATES)
    with transaction.atomic():
        p = _locked(publicity)
        earliest_end = add_working_days(starts_on, p.working_days)
        if ends_on < earliest_end:
            raise WorkflowError(MSG_HELD_SHORT % {"days": p.working_days, "date": earliest_end.isoformat()})
        why = f"补录：{starts_on.isoformat()}至{ends_on.isoformat()}公示，{name}签批"
        with trail.labelled("publicity.record_held", why):
            _fire(p, "record_held", actor)
            p.starts_on, p.ends_on = starts_on, ends_on
            p.recorded_afterwards, p.signed_by_name, p.published_by = True, name, actor
            p.save(
                update_fields=[
                    "status", "starts_on", "ends_on", "recorded_afterwards", "signed_by_name", "published_by",
                    "updated_at",
                ]
            )  # fmt: skip
        _applications_into_publicity(p, actor, why)
        # No public page: the period is over, there is nothing to show the public now.
    publicities_close_due(actor=actor, publicity_ids=[p.pk])
    p.refresh_from_db()
    return p


def notice_publish(
    *,
    token: Any,
    tenant_id: Any,
    title: str,
    school_name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    people: list[tuple[str, Any, Any]],
) -> PublicNotice:
    """The public page's snapshot of a publication (identification lists and award lists alike).

    Only what may be published: a partly masked name, the grade, the tier; never an ID, address,
    phone, birth date, category or reason (national rules forbid publishing those). `people` are
    (name, grade, tier label or a callable giving it), rendered in the notice's language (Chinese)
    whatever the publishing officer's screen is set to.
    """
    with translation.override(settings.LANGUAGE_CODE):
        rows = [
            {"name": mask(name, "name"), "grade": str(grade), "tier": str(tier() if callable(tier) else tier) or "—"}
            for name, grade, tier in people
        ]
    notice = PublicNotice.objects.create(
        token=token,
        tenant_id=tenant_id,
        title=title,
        school_name=school_name,
        starts_on=starts_on,
        ends_on=ends_on,
        rows=rows,
    )
    # The notice table is global (the public page reads it without login): record what went out.
    trail.record(tenant_id=tenant_id, action="publicity.notice", object_type_="students.publicnotice",
                 object_id=str(token), after={"title": title, "rows": len(rows)})  # fmt: skip
    return notice


def objection_record(
    *,
    actor: Any,
    publicity: Publicity,
    content: str,
    raised_by: str,
    received_on: dt.date,
    channel: str = "",
    application: HardshipApplication | None = None,
) -> Objection:
    """异议: record an objection received during the period (who, when, how, what)."""
    permissions.require(actor, Action.PUBLICITY_MANAGE, publicity)
    with transaction.atomic():
        p = _locked(publicity)
        if p.status != PublicityStatus.PUBLIC:
            raise WorkflowError(MSG_STATE % {"status": p.get_status_display()})
        if application is not None and not p.entries.filter(application=application).exists():
            raise WorkflowError(_("That student is not on this list."))
        return Objection.objects.create(
            publicity=p,
            application=application,
            content=content,
            raised_by=raised_by,
            received_on=received_on,
            channel=channel,
            recorded_by=actor,
        )


def objection_resolve(*, actor: Any, objection: Objection, upheld: bool, decision: str) -> Objection:
    """Answer an objection. Upheld: the application leaves the list and goes back to the school's
    review. When the period is over and this was the last open objection, the list closes."""
    if not decision.strip():
        raise WorkflowError(_("Write down the decision and its grounds."))
    with transaction.atomic():
        obj = Objection.objects.select_for_update().get(pk=objection.pk)
        permissions.require(actor, Action.PUBLICITY_MANAGE, obj)
        if obj.status != ObjectionStatus.OPEN:
            raise WorkflowError(_("This objection has already been answered."))
        obj.uphold() if upheld else obj.dismiss()
        obj.decision, obj.decided_by = decision, actor
        with trail.labelled("objection.upheld" if upheld else "objection.dismissed", decision):
            obj.save(update_fields=["status", "decision", "decided_by", "updated_at"])
        if upheld and obj.application_id:
            app = HardshipApplication.objects.select_for_update().get(pk=obj.application_id)
            if app.status == ApplicationStatus.PUBLICITY:
                _fire(app, "objection_upheld", actor)
                with trail.labelled("application.objection_upheld", decision):
                    app.save(update_fields=["status", "updated_at"])
                    ApplicationDecision.objects.create(
                        application=app,
                        decision=Decision.OBJECTION_UPHELD,
                        from_status=ApplicationStatus.PUBLICITY,
                        to_status=app.status,
                        reason=decision,
                        actor=actor,
                    )
                PublicityEntry.objects.filter(publicity_id=obj.publicity_id, application=app).update(withdrawn=True)
    publicities_close_due(actor=actor, publicity_ids=[obj.publicity_id])
    return obj


def publicities_close_due(*, actor: Any, today: dt.date | None = None, publicity_ids: list[Any] | None = None) -> int:
    """Close every public list whose period is over and which has no open objection: its remaining
    applications go to the district (区县复查). Returns how many lists closed. Safe to run any time."""
    today = today or clock.today()
    closed = 0
    due = Publicity.objects.filter(status=PublicityStatus.PUBLIC, ends_on__lt=today)
    if publicity_ids is not None:
        due = due.filter(pk__in=publicity_ids)
    for publicity_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            p = Publicity.objects.select_for_update().filter(pk=publicity_id, status=PublicityStatus.PUBLIC).first()
            if p is None or p.objections.filter(status=ObjectionStatus.OPEN).exists():
                continue
            p.close()  # the period's end closes it; no person needs the permission
            with trail.labelled("publicity.close"):
                p.save(update_fields=["status", "updated_at"])
            apps = list(
                HardshipApplication.objects.select_for_update()
                .filter(
                    publicity_entries__publicity=p,
                    publicity_entries__withdrawn=False,
                    status=ApplicationStatus.PUBLICITY,
                )
                .order_by("pk")
            )
            for app in apps:
                app.publicity_passed()
            with trail.labelled("application.publicity_passed"):
                HardshipApplication.objects.bulk_update(apps, ["status", "updated_at"])
                ApplicationDecision.objects.bulk_create(
                    [
                        ApplicationDecision(
                            application=a,
                            decision=Decision.PUBLICITY_PASSED,
                            from_status=ApplicationStatus.PUBLICITY,
                            to_status=a.status,
                            actor=actor,
                        )
                        for a in apps
                    ]
                )
            closed += 1
    return closed


def notice_for_public(token: Any, *, district: str | None = None, today: dt.date | None = None) -> PublicNotice | None:
    """The public page's snapshot, only between its first and last day. `district` (the tenant's code,
    from the URL) finds it within one district: on a database distributed by district (Citus) that is
    a lookup on one shard, where the token alone would ask every shard. Without it (the old links
    printed before the code was in the URL) the token alone finds it."""
    today = today or clock.today()
    notices = PublicNotice.objects.filter(token=token, starts_on__lte=today, ends_on__gte=today)
    if district is not None:
        # The district's id first (a global table), then the notice by (tenant_id, token): a lookup
        # on one shard. Filtering through a join on the district's code would not name the shard.
        tenant_id = Tenant.objects.filter(slug=district).values_list("pk", flat=True).first()
        if tenant_id is None:
            return None
        notices = notices.filter(tenant_id=tenant_id)
    return notices.select_related("tenant").first()


def notice_window(*, starts_on: dt.date | None, ends_on: dt.date | None, today: dt.date | None = None) -> str:
    """Where today falls in a publication's period: "live" (the public page answers), "upcoming",
    "ended", or "" when it was never published. The same dates as notice_for_public, so a page links
    to the public notice only when that link works."""
    if starts_on is None or ends_on is None:
        return ""
    today = today or clock.today()
    if today < starts_on:
        return "upcoming"
    return "live" if today <= ends_on else "ended"


def notice_of(publicity: Publicity) -> PublicNotice | None:
    """The snapshot a publication took (for the printable notice), whatever the date."""
    return PublicNotice.objects.filter(token=publicity.notice_token, tenant_id=publicity.tenant_id).first()
