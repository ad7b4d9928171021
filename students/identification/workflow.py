"""The review chain as services: nominate, decide (approve / return / reject / withdraw), in bulk too.

Every state change goes through `_apply`: the application is locked (SELECT … FOR UPDATE), the state
the reviewer saw is compared with the state it is in now (a second click, or a second reviewer, finds
it moved and is told so), the transition declared on the model is fired, and the decision row and the
audit row are written in the same transaction. Nothing else changes `status`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from core import workflow
from core.audit import trail
from schools import permissions
from schools.models import Tenant
from schools.permissions import Action

from ..models import (
    ApplicationDecision,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    Decision,
    EnrollmentStatus,
    HardshipApplication,
    HardshipCategory,
    Student,
    Tier,
)
from ..services import home_visits_sync_from_applications
from .summary import identified_summary_touch

S = ApplicationStatus

#: Which transition a reviewer's decision fires, by the state the application is in. The one table of
#: who-does-what at which step (the permissions sit on the transitions themselves).
STEPS: dict[str, dict[str, str]] = {
    S.CLASS_EVALUATION: {"approve": "class_approve", "reject": "class_reject", "withdraw": "withdraw"},
    S.GRADE_REVIEW: {"approve": "grade_approve", "return": "grade_return", "reject": "grade_reject"},
    S.SCHOOL_REVIEW: {"approve": "school_approve", "return": "school_return", "reject": "school_reject"},
    S.DISTRICT_REVIEW: {"approve": "district_approve", "return": "district_return", "reject": "district_reject"},
}
DECISIONS = {
    "approve": Decision.APPROVE,
    "return": Decision.RETURN,
    "reject": Decision.REJECT,
    "withdraw": Decision.WITHDRAW,
}

# Messages a teacher understands (named, so tests and views can refer to them).
MSG_MOVED = _("This application has already been handled (it is now: %(status)s). Reload to see it.")
MSG_NOT_YOURS = _("Your role cannot take this decision at this step.")
MSG_DECIDED = _("%(who)s has already decided this application (%(decision)s, %(when)s); it is now: %(status)s.")
MSG_REASON = _("Say why: a return or a rejection needs a reason.")
MSG_CONDITIONS = {
    "class_approve": _("Record the class evaluation, and the main proof unless a special category applies."),
    "school_approve": _("Record the village or community committee's confirmation first."),
}
MSG_LIVE = _("This student already has an application for this academic year.")
MSG_NOT_ATTENDING = _("Only a student attending school can be nominated.")
MSG_TIER_REASON = _("Changing the tier needs a reason.")
MSG_TIER_MISSING = _("Choose the proposed tier (only a special category sets it by itself).")


class WorkflowError(ValidationError):
    """A decision that cannot be taken, with a message for the person who tried."""


# --- Nomination -----------------------------------------------------------------------------------------


def tier_suggestion(*, category_codes: Iterable[str], tenant: Tenant) -> tuple[str, str]:
    """The tier a set of special categories suggests, and why (empty when none applies)."""
    special = list(
        HardshipCategory.objects.filter(code__in=list(category_codes), is_special=True, is_active=True).order_by(
            "sort_order"
        )
    )
    if not special:
        return "", ""
    names = "、".join(c.name for c in special)
    return tenant.special_category_tier, _("special category: %(names)s") % {"names": names}


def special_category_tier(student: Student) -> str:
    """The tier this student's district funds special categories at (what the nomination form selects)."""
    return Tenant.objects.filter(pk=student.tenant_id).values_list("special_category_tier", flat=True).get()


def _materials_complete(application: HardshipApplication) -> bool:
    """Special categories need no proof documents; the others need only the main one."""
    if (
        application.categories
        and HardshipCategory.objects.filter(code__in=application.categories, is_special=True).exists()
    ):
        return True
    return application.attachments.filter(kind=AttachmentKind.MAIN_PROOF).exists()


@dataclass
class Nomination:
    #: Empty = "as the special category says": allowed only when a special category applies.
    proposed_tier: str
    family_situation: str
    categories: list[str] = field(default_factory=list)
    visit_on: dt.date | None = None
    visit_by: str = ""
    visit_findings: str = ""


def application_nominate(*, actor: Any, student: Student, academic_year: int, data: Nomination) -> HardshipApplication:
    """申请/推荐: the class teacher nominates a student of their class for the academic year."""
    permissions.require(actor, Action.APPLICATION_NOMINATE, student)
    if student.enrollment_status != EnrollmentStatus.ATTENDING:
        raise WorkflowError(MSG_NOT_ATTENDING)
    known = set(HardshipCategory.objects.filter(is_active=True).values_list("code", flat=True))
    unknown = [c for c in data.categories if c not in known]
    if unknown:
        raise WorkflowError(_("Unknown category: %(codes)s") % {"codes": ", ".join(unknown)})
    tenant = Tenant.objects.get(pk=student.tenant_id)
    suggested, reason = tier_suggestion(category_codes=data.categories, tenant=tenant)
    # 特殊类别: the policy funds special categories at the tenant's tier, and this is where it applies:
    # the form selects it when such a category is ticked, and a nomination that leaves the tier to the
    # category gets it here, on the nomination's own decision row. A tier the teacher chose stands.
    proposed = data.proposed_tier or suggested
    if not proposed:
        raise WorkflowError(MSG_TIER_MISSING)
    application = HardshipApplication(
        student=student,
        school_id=student.school_id,
        grade_id=student.grade_id,
        klass_id=student.klass_id,
        academic_year=academic_year,
        nominated_by=actor,
        proposed_tier=proposed,
        categories=list(data.categories),
        family_situation=data.family_situation,
        suggested_tier=suggested,
        suggestion_reason=reason,
        visit_on=data.visit_on,
        visit_by=data.visit_by,
        visit_findings=data.visit_findings,
    )
    application.full_clean(exclude=["status", "materials_complete"], validate_constraints=False)
    try:
        with transaction.atomic(), trail.labelled("application.nominate"):
            application.materials_complete = bool(suggested)  # special category: no proof needed
            application.save()
            ApplicationDecision.objects.create(
                application=application,
                decision=Decision.NOMINATE,
                to_status=application.status,
                tier=proposed,
                actor=actor,
            )
            home_visits_sync_from_applications(actor=actor, applications=[application])
    except IntegrityError:
        # The partial unique constraint: one live application per student and year (a double click, or
        # two teachers at once, end here).
        raise WorkflowError(MSG_LIVE) from None
    return application


def application_record_details(
    *,
    actor: Any,
    application: HardshipApplication,
    class_evaluation: str | None = None,
    visit_on: dt.date | None = None,
    visit_by: str | None = None,
    visit_findings: str | None = None,
) -> HardshipApplication:
    """The class teacher records the class committee's evaluation and the home visit."""
    with transaction.atomic():
        app = HardshipApplication.objects.select_for_update().get(pk=application.pk)
        permissions.require(actor, Action.APPLICATION_CLASS_REVIEW, app)
        if app.status != S.CLASS_EVALUATION:
            raise WorkflowError(MSG_MOVED % {"status": app.get_status_display()})
        changed = []
        for name, value in (
            ("class_evaluation", class_evaluation),
            ("visit_on", visit_on),
            ("visit_by", visit_by),
            ("visit_findings", visit_findings),
        ):
            if value is not None:
                setattr(app, name, value)
                changed.append(name)
        app.save(update_fields=[*changed, "updated_at"])
        if any(name.startswith("visit_") for name in changed):
            home_visits_sync_from_applications(actor=actor, applications=[app])
    return app


def attachment_add(*, actor: Any, application: HardshipApplication, kind: str, upload: Any) -> Attachment:
    """Attach evidence (while the class or the school still works on the application)."""
    with transaction.atomic():
        app = HardshipApplication.objects.select_for_update().get(pk=application.pk)
        if not (
            permissions.can(actor, Action.APPLICATION_CLASS_REVIEW, app)
            or permissions.can(actor, Action.APPLICATION_SCHOOL_REVIEW, app)
        ):
            raise PermissionDenied
        if app.status not in (S.CLASS_EVALUATION, S.SCHOOL_REVIEW):
            raise WorkflowError(MSG_MOVED % {"status": app.get_status_display()})
        attachment = Attachment(
            application=app,
            kind=AttachmentKind(kind),
            original_name=getattr(upload, "name", "upload")[:200],
            content_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save("upload", upload, save=False)
        attachment.save()
        if not app.materials_complete and _materials_complete(app):
            app.materials_complete = True
            app.save(update_fields=["materials_complete", "updated_at"])
    return attachment


def village_confirm(*, actor: Any, application: HardshipApplication, confirmed_by: str, confirmed_on: dt.date) -> None:
    """The school records the village or community committee's confirmation (学校和村委会审核)."""
    with transaction.atomic():
        app = HardshipApplication.objects.select_for_update().get(pk=application.pk)
        permissions.require(actor, Action.APPLICATION_SCHOOL_REVIEW, app)
        if app.status != S.SCHOOL_REVIEW:
            raise WorkflowError(MSG_MOVED % {"status": app.get_status_display()})
        app.village_confirmed_by, app.village_confirmed_on = confirmed_by.strip(), confirmed_on
        app.save(update_fields=["village_confirmed_by", "village_confirmed_on", "updated_at"])


# --- Decisions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    moved: list[Any]
    skipped: list[tuple[Any, str]]


def _may_decide_at(app: HardshipApplication, actor: Any, status: str) -> bool:
    """Could the actor take some decision on the application at `status` (their step)?"""
    for method_name in STEPS.get(status, {}).values():
        for step in workflow.transitions_named(HardshipApplication, method_name):
            if step.source == status and step.has_perm(app, actor):
                return True
    return False


def _not_yours(app: HardshipApplication, actor: Any) -> WorkflowError:
    """ "Not your step", unless the step was the actor's and someone else decided it first (two reviewers
    at once): then who did, what, and when."""
    last = app.decisions.exclude(actor=actor).select_related("actor").order_by("-created_at", "-pk").first()
    if last is not None and last.from_status and _may_decide_at(app, actor, last.from_status):
        who = str(last.actor) if last.actor else _("someone")
        when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M")
        return WorkflowError(
            MSG_DECIDED
            % {"who": who, "decision": last.get_decision_display(), "when": when, "status": app.get_status_display()}
        )
    return WorkflowError(MSG_NOT_YOURS)


def _check(app: HardshipApplication, actor: Any, decision: str, reason: str, expected: str | None) -> str:
    """The transition method to fire, or a WorkflowError saying why not."""
    if expected is not None and app.status != expected:
        raise WorkflowError(MSG_MOVED % {"status": app.get_status_display()})
    method_name = STEPS.get(app.status, {}).get(decision)
    if method_name is None:
        raise _not_yours(app, actor)
    method = getattr(app, method_name)
    # django-fsm's has_transition_perm also requires the conditions; ask the transition's permission
    # alone first, so that the reviewer hears what is missing rather than "not your step".
    step = workflow.transition_named(app, method_name)
    if step is None or not step.has_perm(app, actor):
        raise _not_yours(app, actor)
    if decision in ("return", "reject") and not reason.strip():
        raise WorkflowError(MSG_REASON)
    if not (can_proceed(method) and has_transition_perm(method, actor)):
        raise WorkflowError(MSG_CONDITIONS.get(method_name, MSG_NOT_YOURS))
    return method_name


def _apply(
    apps: Sequence[HardshipApplication], actor: Any, decision: str, reason: str, tier: str = ""
) -> list[ApplicationDecision]:
    """Fire the checked decision on locked applications; one decision row and one audit row each."""
    records = []
    by_action: dict[str, list[HardshipApplication]] = {}
    identified: list[HardshipApplication] = []  # entering or leaving the dashboard's identified pupils
    for app in apps:
        before = app.status
        method_name = STEPS[before][decision]
        getattr(app, method_name)()
        if decision == "approve" and before in (S.SCHOOL_REVIEW, S.DISTRICT_REVIEW):
            # The reviewer's tier (an overrule, with its reason), else the one already decided, else the
            # one proposed. Never the category's suggestion: the policy applies it at nomination, where
            # the teacher sees it; taking it here silently would overpay (issue 19).
            app.tier = tier or app.tier or app.proposed_tier
        if app.status == S.IDENTIFIED:
            app.identified_on = timezone.localdate()
        if S.IDENTIFIED in (before, app.status):
            identified.append(app)
        records.append(
            ApplicationDecision(
                application=app,
                decision=DECISIONS[decision],
                from_status=before,
                to_status=app.status,
                tier=app.tier if decision == "approve" and before in (S.SCHOOL_REVIEW, S.DISTRICT_REVIEW) else "",
                reason=reason,
                actor=actor,
            )
        )
        by_action.setdefault(f"application.{method_name}", []).append(app)
    for action, group in by_action.items():
        with trail.labelled(action, reason):
            HardshipApplication.objects.bulk_update(group, ["status", "tier", "identified_on", "updated_at"])
    # The decision rows are the story shown on the student's file; the audit rows above are the record.
    with trail.labelled("application.decision"):
        ApplicationDecision.objects.bulk_create(records)
    identified_summary_touch(applications=identified)
    return records


def application_decide(
    *,
    actor: Any,
    application_id: Any,
    decision: str,
    reason: str = "",
    expected_status: str | None = None,
    tier: str = "",
) -> HardshipApplication:
    """One reviewer's decision on one application. `expected_status` is the state the reviewer saw:
    if it moved meanwhile, nothing happens and they are told. The school and the district may set the
    tier when they approve (overruling the suggestion, with a reason)."""
    if decision not in DECISIONS:
        raise WorkflowError(MSG_NOT_YOURS)
    with transaction.atomic():
        app = HardshipApplication.objects.visible_to(actor).select_for_update().filter(pk=application_id).first()
        if app is None:
            raise WorkflowError(MSG_NOT_YOURS)
        _check(app, actor, decision, reason, expected_status)
        if tier:
            Tier(tier)
            standing = app.tier or app.proposed_tier
            if tier != standing and not reason.strip():
                raise WorkflowError(MSG_TIER_REASON)
        _apply([app], actor, decision, reason, tier)
    return app


def applications_decide(*, actor: Any, application_ids: Iterable[Any], decision: str, reason: str = "") -> Outcome:
    """The same decision on many applications at once (an officer selects 300 and approves).

    Each is checked on its own; those that cannot move (handled meanwhile, wrong step, missing
    confirmation) are skipped with the reason, the others move together in one transaction.
    """
    ids = list(dict.fromkeys(application_ids))
    moved, skipped = [], []
    with transaction.atomic():
        # Locked in primary-key order, so that two bulk decisions never deadlock each other.
        apps = list(HardshipApplication.objects.visible_to(actor).select_for_update().filter(pk__in=ids).order_by("pk"))
        found = {app.pk for app in apps}
        skipped.extend((pk, str(MSG_NOT_YOURS)) for pk in ids if pk not in found)
        ready = []
        for app in apps:
            try:
                _check(app, actor, decision, reason, None)
            except WorkflowError as exc:
                skipped.append((app.pk, exc.messages[0]))
                continue
            ready.append(app)
        if ready:
            _apply(ready, actor, decision, reason)
        moved = [app.pk for app in ready]
    return Outcome(moved=moved, skipped=skipped)


# --- A whole class at once (the API's bulk forms, the class page) ----------------------------------------
#
# All or nothing per request: a class teacher who records the evaluation of 45 pupils either sees all
# 45 recorded or is told, row by row, what stopped it, with nothing written; a half-recorded class would
# have to be found again pupil by pupil. Rows are locked in primary-key order (two bulk requests never
# deadlock each other) and written with one UPDATE per request (bulk_update, audited by the ORM hooks).

MSG_ROW = _("Row %(n)s (%(application)s): %(message)s")
MSG_NOT_FOUND = _("No such application, or not one you may work on.")
MSG_TWICE = _("The same application is named twice.")
MSG_EMPTY = _("Name at least one application.")


@dataclass(frozen=True)
class DetailsRow:
    """One pupil's class evaluation and home visit (None: leave the field as it is)."""

    application_id: Any
    class_evaluation: str | None = None
    visit_on: dt.date | None = None
    visit_by: str | None = None
    visit_findings: str | None = None


@dataclass(frozen=True)
class VillageRow:
    """One pupil's confirmation by the village or community committee."""

    application_id: Any
    confirmed_by: str
    confirmed_on: dt.date


@dataclass(frozen=True)
class DecisionRow:
    """One pupil's decision at their current step, as the reviewer saw it (`expected_status`)."""

    application_id: Any
    decision: str
    reason: str = ""
    expected_status: str | None = None
    tier: str = ""


def _locked_rows(actor: Any, ids: Sequence[Any]) -> tuple[dict[Any, HardshipApplication], list[str]]:
    """The applications the actor may see among `ids`, locked in primary-key order, and the messages of
    the rows that name none (another school's or tenant's answers exactly like a missing one)."""
    problems: list[str] = []
    if not ids:
        raise WorkflowError(MSG_EMPTY)
    seen: set[str] = set()
    for n, pk in enumerate(ids, start=1):
        if str(pk) in seen:
            problems.append(str(MSG_ROW % {"n": n, "application": pk, "message": MSG_TWICE}))
        seen.add(str(pk))
    # The pupil comes along (each answer names one) but only the applications are locked.
    locked = HardshipApplication.objects.visible_to(actor).select_related("student").select_for_update(of=("self",))
    apps = {str(app.pk): app for app in locked.filter(pk__in=list(ids)).order_by("pk")}
    problems.extend(
        str(MSG_ROW % {"n": n, "application": pk, "message": MSG_NOT_FOUND})
        for n, pk in enumerate(ids, start=1)
        if str(pk) not in apps
    )
    return apps, problems


def _refuse_if(problems: list[str]) -> None:
    if problems:
        raise WorkflowError(problems)


def applications_record_details_bulk(*, actor: Any, rows: Sequence[DetailsRow]) -> list[HardshipApplication]:
    """班级评议 for a whole class: each row's evaluation and home visit, all recorded or none (a
    WorkflowError naming each refused row)."""
    with transaction.atomic():
        apps, problems = _locked_rows(actor, [r.application_id for r in rows])
        changed: set[str] = set()
        for n, row in enumerate(rows, start=1):
            app = apps.get(str(row.application_id))
            if app is None:
                continue
            if not permissions.can(actor, Action.APPLICATION_CLASS_REVIEW, app):
                message = MSG_NOT_YOURS
            elif app.status != S.CLASS_EVALUATION:
                message = MSG_MOVED % {"status": app.get_status_display()}
            else:
                for name in ("class_evaluation", "visit_on", "visit_by", "visit_findings"):
                    value = getattr(row, name)
                    if value is not None:
                        setattr(app, name, value)
                        changed.add(name)
                continue
            problems.append(str(MSG_ROW % {"n": n, "application": row.application_id, "message": message}))
        _refuse_if(problems)
        ordered = [apps[str(r.application_id)] for r in rows]
        if changed:
            now = timezone.now()
            for app in ordered:
                app.updated_at = now
            with trail.labelled("application.record_details"):
                HardshipApplication.objects.bulk_update(ordered, [*sorted(changed), "updated_at"])
            if any(name.startswith("visit_") for name in changed):
                home_visits_sync_from_applications(actor=actor, applications=ordered)
    return ordered


def applications_village_confirm_bulk(*, actor: Any, rows: Sequence[VillageRow]) -> list[HardshipApplication]:
    """村委会确认 for many pupils at once (the school's review): all recorded or none."""
    with transaction.atomic():
        apps, problems = _locked_rows(actor, [r.application_id for r in rows])
        for n, row in enumerate(rows, start=1):
            app = apps.get(str(row.application_id))
            if app is None:
                continue
            if not permissions.can(actor, Action.APPLICATION_SCHOOL_REVIEW, app):
                message = MSG_NOT_YOURS
            elif app.status != S.SCHOOL_REVIEW:
                message = MSG_MOVED % {"status": app.get_status_display()}
            else:
                app.village_confirmed_by, app.village_confirmed_on = row.confirmed_by.strip(), row.confirmed_on
                continue
            problems.append(str(MSG_ROW % {"n": n, "application": row.application_id, "message": message}))
        _refuse_if(problems)
        ordered = [apps[str(r.application_id)] for r in rows]
        now = timezone.now()
        for app in ordered:
            app.updated_at = now
        with trail.labelled("application.village_confirm"):
            HardshipApplication.objects.bulk_update(
                ordered, ["village_confirmed_by", "village_confirmed_on", "updated_at"]
            )
    return ordered


def applications_decide_rows(*, actor: Any, rows: Sequence[DecisionRow]) -> list[HardshipApplication]:
    """A decision per pupil (approve this one, return that one with its reason), checked as
    application_decide checks one; all taken or none. Rows with the same decision, reason and tier are
    written together (_apply: one UPDATE per transition, one INSERT of decision rows)."""
    with transaction.atomic():
        apps, problems = _locked_rows(actor, [r.application_id for r in rows])
        groups: dict[tuple[str, str, str], list[HardshipApplication]] = {}
        for n, row in enumerate(rows, start=1):
            app = apps.get(str(row.application_id))
            if app is None:
                continue
            try:
                if row.decision not in DECISIONS:
                    raise WorkflowError(MSG_NOT_YOURS)
                _check(app, actor, row.decision, row.reason, row.expected_status)
                if row.tier and row.tier != (app.suggested_tier or app.proposed_tier) and not row.reason.strip():
                    raise WorkflowError(MSG_TIER_REASON)
            except WorkflowError as exc:
                problems.extend(
                    str(MSG_ROW % {"n": n, "application": row.application_id, "message": m}) for m in exc.messages
                )
                continue
            groups.setdefault((row.decision, row.reason, row.tier), []).append(app)
        _refuse_if(problems)
        for (decision, reason, tier), group in groups.items():
            _apply(group, actor, decision, reason, tier)
    return [apps[str(r.application_id)] for r in rows]


@dataclass(frozen=True)
class AttachRow:
    """One proof document for one pupil's application."""

    application_id: Any
    kind: str
    upload: Any


def attachments_add_bulk(*, actor: Any, rows: Sequence[AttachRow]) -> list[Attachment]:
    """Proofs for many pupils: every application checked first (locked in primary-key order), then
    each file stored; all attached, or none (a WorkflowError naming each refused row). A pupil may get
    several files, so an application named twice is allowed here."""
    with transaction.atomic():
        ids = list(dict.fromkeys(str(r.application_id) for r in rows))
        if not ids:
            raise WorkflowError(MSG_EMPTY)
        apps = {
            str(app.pk): app
            for app in HardshipApplication.objects.visible_to(actor)
            .select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        problems = []
        for n, row in enumerate(rows, start=1):
            app = apps.get(str(row.application_id))
            if app is None:
                message = MSG_NOT_FOUND
            elif not (
                permissions.can(actor, Action.APPLICATION_CLASS_REVIEW, app)
                or permissions.can(actor, Action.APPLICATION_SCHOOL_REVIEW, app)
            ):
                message = MSG_NOT_YOURS
            elif app.status not in (S.CLASS_EVALUATION, S.SCHOOL_REVIEW):
                message = MSG_MOVED % {"status": app.get_status_display()}
            else:
                continue
            problems.append(str(MSG_ROW % {"n": n, "application": row.application_id, "message": message}))
        _refuse_if(problems)
        # Each file is written where the evidence storage puts it; the rows (and the materials rule)
        # follow the single attachment's path, already locked.
        return [
            attachment_add(actor=actor, application=apps[str(r.application_id)], kind=r.kind, upload=r.upload)
            for r in rows
        ]
