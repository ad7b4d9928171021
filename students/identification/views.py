"""Pages of the identification: queues, nomination, an application and its decisions, publicity lists.

Every view: access helper (404 if not visible) → form → one service call → redirect with a message.
A refused decision (handled meanwhile, wrong step, a missing confirmation) comes back as a message a
teacher understands, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import clock
from core.clock import school_year_label
from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import form_errors_to_messages, refusal_to_messages, service_messages
from schools import permissions
from schools.access import get_visible, school_get_for_user
from schools.permissions import Action
from schools.selectors import school_list

from ..access import student_get_for_user
from ..filters import ApplicationListFilter, PublicityListFilter
from ..models import ApplicationStatus, Attachment, HardshipApplication, Objection, Publicity, TierAdjustment
from ..selectors import file_sections as student_file_sections
from . import adjustments, publicity, selectors, workflow
from .forms import (
    AdjustmentDecisionForm,
    AdjustmentForm,
    AttachmentForm,
    BulkDecisionForm,
    ClassEvaluationFormSet,
    DecisionForm,
    DetailsForm,
    NominationForm,
    ObjectionForm,
    PublicityForm,
    RecordHeldForm,
    ResolveForm,
    VillageForm,
    VillageFormSet,
)


def _back_to(application: HardshipApplication) -> HttpResponse:
    return redirect("students:application", pk=application.pk)


# --- Applications ---------------------------------------------------------------------------------------


@login_required
@kept_page
def application_list_view(request: HttpRequest) -> HttpResponse:
    """The applications a user may see; by default, those waiting for their decision."""
    permissions.require(request.user, Action.APPLICATION_VIEW)
    data = request.GET.copy()
    data.setdefault("status", "mine")  # the queue opens on what waits for this person
    filterset = ApplicationListFilter(data, selectors.application_list(user=request.user), user=request.user)
    if wants_export(request):
        return export_xlsx(filterset.qs, APPLICATION_COLUMNS, filename="困难认定申请.xlsx")
    context = list_page(request, filterset, per_page=100, export=True)
    can_bulk = filterset.values().get("status") == "mine" and any(
        permissions.can(request.user, a) for a in selectors.QUEUE_OF if a != Action.APPLICATION_CLASS_REVIEW
    )
    return render(
        request,
        "students/identification/application_list.html",
        {
            **context,
            "can_bulk": can_bulk,
            "can_nominate": permissions.can(request.user, Action.APPLICATION_NOMINATE),
            "can_migrate": permissions.can(request.user, Action.IDENTIFICATION_MIGRATE),
            "can_class_step": permissions.can(request.user, Action.APPLICATION_CLASS_REVIEW),
            "can_village_step": permissions.can(request.user, Action.APPLICATION_SCHOOL_REVIEW),
            "bulk": BulkDecisionForm(),
        },
    )


APPLICATION_COLUMNS = [
    Column(gettext_lazy("Student"), lambda a: a.student.name),
    Column(gettext_lazy("ID number"), lambda a: a.student.id_number, width=22, text=True),
    Column(gettext_lazy("School"), lambda a: a.school.name, width=24),
    Column(gettext_lazy("Class"), lambda a: a.klass, width=16),
    Column(gettext_lazy("School year"), lambda a: school_year_label(a.academic_year), width=16),
    Column(gettext_lazy("Proposed tier"), lambda a: a.get_proposed_tier_display()),
    Column(gettext_lazy("Identified tier"), lambda a: a.get_tier_display()),
    Column(gettext_lazy("Status"), lambda a: a.get_status_display()),
]


@login_required
@require_POST
def applications_bulk_view(request: HttpRequest) -> HttpResponse:
    form = BulkDecisionForm(request.POST)
    ids = request.POST.getlist("ids")
    if not form.is_valid() or not ids:
        messages.error(request, _("Select applications and a decision."))
        return redirect(reverse("students:applications"))
    outcome = workflow.applications_decide(
        actor=request.user,
        application_ids=ids,
        decision=form.cleaned_data["decision"],
        reason=form.cleaned_data["reason"],
    )
    if outcome.moved:
        messages.success(request, _("%(n)d applications decided.") % {"n": len(outcome.moved)})
    for _pk, message in outcome.skipped[:10]:
        messages.warning(request, message)
    if len(outcome.skipped) > 10:
        messages.warning(request, _("%(n)d more were skipped.") % {"n": len(outcome.skipped) - 10})
    return redirect(reverse("students:applications"))


@login_required
def application_new_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    """申请/推荐: the class teacher nominates a student of their class."""
    student = student_get_for_user(user=request.user, pk=student_pk, action=Action.APPLICATION_NOMINATE)
    # Refused before the form, not after it was filled in (the service still decides, for a second tab).
    # The year asked about is the one posted or in the link (?academic_year=), else the current one.
    year = request.POST.get("academic_year") or request.GET.get("academic_year") or ""
    academic_year = int(year) if year.isdigit() else clock.current_school_year()
    refusal = selectors.nomination_refusal(student=student, academic_year=academic_year)
    if refusal:
        messages.error(request, refusal)
        return redirect("students:detail", pk=student.pk)
    form = NominationForm(request.POST or None, special_tier=workflow.special_category_tier(student))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        academic_year = values.pop("academic_year")
        try:
            application = workflow.application_nominate(
                actor=request.user, student=student, academic_year=academic_year, data=workflow.Nomination(**values)
            )
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Nominated. Record the class evaluation to send it on."))
            if application.suggested_tier and application.suggested_tier != application.proposed_tier:
                # The teacher chose another tier than the category's: say so, the reviewers see both.
                messages.warning(
                    request,
                    _("You proposed %(proposed)s; the special category suggests %(suggested)s.")
                    % {
                        "proposed": application.get_proposed_tier_display(),
                        "suggested": application.get_suggested_tier_display(),
                    },
                )
            return _back_to(application)
    return render(request, "students/identification/application_new.html", {"student": student, "form": form})


@login_required
def application_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk)
    application = selectors.application_detail(application=application)
    user = request.user
    step_actions = {
        ApplicationStatus.CLASS_EVALUATION: Action.APPLICATION_CLASS_REVIEW,
        ApplicationStatus.GRADE_REVIEW: Action.APPLICATION_GRADE_REVIEW,
        ApplicationStatus.SCHOOL_REVIEW: Action.APPLICATION_SCHOOL_REVIEW,
        ApplicationStatus.DISTRICT_REVIEW: Action.APPLICATION_DISTRICT_REVIEW,
    }
    reviews = application.status in step_actions and permissions.can(
        user, step_actions[application.status], application
    )
    decisions = list(workflow.STEPS.get(application.status, {})) if reviews else []
    context = {
        "application": application,
        "decisions": decisions,
        "decision_form": DecisionForm(
            initial={"expected_status": application.status, "tier": application.tier or application.proposed_tier}
        ),
        "sets_tier": reviews
        and application.status in (ApplicationStatus.SCHOOL_REVIEW, ApplicationStatus.DISTRICT_REVIEW),
        "records_details": reviews and application.status == ApplicationStatus.CLASS_EVALUATION,
        "details_form": DetailsForm(
            initial={
                "class_evaluation": application.class_evaluation,
                "visit_on": application.visit_on,
                "visit_by": application.visit_by,
                "visit_findings": application.visit_findings,
            }
        ),
        "attaches": reviews
        and application.status in (ApplicationStatus.CLASS_EVALUATION, ApplicationStatus.SCHOOL_REVIEW),
        "attachment_form": AttachmentForm(),
        "confirms_village": reviews and application.status == ApplicationStatus.SCHOOL_REVIEW,
        "village_form": VillageForm(
            initial={
                "confirmed_by": application.village_confirmed_by,
                "confirmed_on": application.village_confirmed_on or timezone.localdate(),
            }
        ),
        "proposes_adjustment": application.status == ApplicationStatus.IDENTIFIED
        and permissions.can(user, Action.TIER_ADJUST_PROPOSE, application),
        "adjustment_form": AdjustmentForm(),
        "decides_adjustment": permissions.can(user, Action.TIER_ADJUST_DECIDE, application),
        "adjustment_decision_form": AdjustmentDecisionForm(),
    }
    return render(request, "students/identification/application_detail.html", context)


@login_required
@require_POST
def application_decide_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision."))
        return _back_to(application)
    data = form.cleaned_data
    with service_messages(request, success=_("Decision recorded.")):
        workflow.application_decide(
            actor=request.user,
            application_id=application.pk,
            decision=data["decision"],
            reason=data["reason"],
            expected_status=data["expected_status"],
            tier=data["tier"],
        )
    return _back_to(application)


@login_required
@require_POST
def application_details_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk, action=Action.APPLICATION_CLASS_REVIEW)
    form = DetailsForm(request.POST)
    if form.is_valid():
        try:
            workflow.application_record_details(actor=request.user, application=application, **form.cleaned_data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Record the class committee's result."))
    return _back_to(application)


@login_required
@require_POST
def application_attach_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            workflow.attachment_add(
                actor=request.user,
                application=application,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Attached."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return _back_to(application)


@login_required
def attachment_view(request: HttpRequest, pk: str) -> FileResponse:
    """The evidence file, to those who may see its application (never a public URL)."""
    attachment = get_visible(Attachment, user=request.user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )


@login_required
@require_POST
def village_confirm_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk, action=Action.APPLICATION_SCHOOL_REVIEW)
    form = VillageForm(request.POST)
    if form.is_valid():
        try:
            workflow.village_confirm(actor=request.user, application=application, **form.cleaned_data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("The committee's confirmation is recorded."))
    else:
        form_errors_to_messages(request, form)
    return _back_to(application)


@login_required
@require_POST
def adjustment_propose_view(request: HttpRequest, pk: str) -> HttpResponse:
    application = get_visible(HardshipApplication, user=request.user, pk=pk, action=Action.TIER_ADJUST_PROPOSE)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            adjustments.tier_adjust_propose(actor=request.user, application=application, **form.cleaned_data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Proposed: the district decides."))
    else:
        form_errors_to_messages(request, form)
    return _back_to(application)


@login_required
@require_POST
def adjustment_decide_view(request: HttpRequest, pk: str) -> HttpResponse:
    adjustment = get_visible(TierAdjustment, user=request.user, pk=pk, action=Action.TIER_ADJUST_DECIDE)
    form = AdjustmentDecisionForm(request.POST)
    if form.is_valid():
        try:
            adjustments.tier_adjust_decide(actor=request.user, adjustment=adjustment, **form.cleaned_data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Decision recorded."))
    else:
        form_errors_to_messages(request, form)
    return redirect("students:application", pk=adjustment.application_id)


# --- Publicity ------------------------------------------------------------------------------------------


@login_required
@kept_page
def publicity_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.APPLICATION_VIEW)
    publicity.publicities_close_due(actor=request.user)
    schools = [s for s in school_list(user=request.user) if permissions.can(request.user, Action.PUBLICITY_MANAGE, s)]
    filterset = PublicityListFilter(request.GET or None, selectors.publicity_rows(user=request.user), user=request.user)
    if wants_export(request):
        return export_xlsx(selectors.publicity_counted(filterset.qs), PUBLICITY_COLUMNS, filename="公示名单.xlsx")
    return render(
        request,
        "students/identification/publicity_list.html",
        {
            **list_page(request, filterset, rows=selectors.publicity_counted, export=True),
            "schools": schools,
            "form": PublicityForm(),
        },
    )


PUBLICITY_COLUMNS = [
    Column(gettext_lazy("Title"), lambda p: p.title, width=36),
    Column(gettext_lazy("School"), lambda p: p.school.name, width=24),
    Column(gettext_lazy("Status"), lambda p: p.get_status_display()),
    Column(gettext_lazy("From"), lambda p: p.starts_on),
    Column(gettext_lazy("Until"), lambda p: p.ends_on),
    Column(gettext_lazy("Students"), lambda p: p.entry_count),
    Column(gettext_lazy("Open objections"), lambda p: p.open_objections),
]


@login_required
@require_POST
def publicity_new_view(request: HttpRequest, school_pk: str) -> HttpResponse:
    school = school_get_for_user(user=request.user, pk=school_pk, action=Action.PUBLICITY_MANAGE)
    form = PublicityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the academic year."))
        return redirect("students:publicities")
    try:
        created = publicity.publicity_create(
            actor=request.user, school=school, academic_year=form.cleaned_data["academic_year"]
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("students:publicities")
    return redirect("students:publicity", pk=created.pk)


@login_required
def publicity_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    item = get_visible(Publicity, user=request.user, pk=pk)
    publicity.publicities_close_due(actor=request.user, publicity_ids=[item.pk])
    item = selectors.publicity_detail(publicity=item)
    user = request.user
    return render(
        request,
        "students/identification/publicity_detail.html",
        {
            "publicity": item,
            "manages": permissions.can(user, Action.PUBLICITY_MANAGE, item),
            "signs": permissions.can(user, Action.PUBLICITY_SIGN, item),
            "objection_form": ObjectionForm(initial={"received_on": timezone.localdate()}),
            "record_held_form": RecordHeldForm(),
            "resolve_form": ResolveForm(),
            "today": timezone.localdate(),
            "notice": publicity.notice_window(starts_on=item.starts_on, ends_on=item.ends_on),
        },
    )


@login_required
@require_POST
def publicity_step_view(request: HttpRequest, pk: str, step: str) -> HttpResponse:
    """Sign (principal) or publish (officer) a list."""
    item = get_visible(Publicity, user=request.user, pk=pk)
    try:
        if step == "sign":
            publicity.publicity_sign(actor=request.user, publicity=item)
            messages.success(request, _("Signed."))
        elif step == "publish":
            published = publicity.publicity_publish(actor=request.user, publicity=item)
            messages.success(
                request,
                _("Published until %(date)s.") % {"date": date_format(published.ends_on)},
            )
        else:
            raise Http404
    except ValidationError as error:
        refusal_to_messages(request, error)
    return redirect("students:publicity", pk=item.pk)


@login_required
@require_POST
def publicity_record_held_view(request: HttpRequest, pk: str) -> HttpResponse:
    """补录: a list signed and public on paper before the district used the product."""
    item = get_visible(Publicity, user=request.user, pk=pk, action=Action.PUBLICITY_MANAGE)
    form = RecordHeldForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("students:publicity", pk=item.pk)
    try:
        held = publicity.publicity_record_held(actor=request.user, publicity=item, **form.cleaned_data)
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(
            request,
            _("Recorded as held from %(start)s to %(end)s, signed by %(name)s.")
            % {"start": date_format(held.starts_on), "end": date_format(held.ends_on), "name": held.signed_by_name},
        )
    return redirect("students:publicity", pk=item.pk)


@login_required
@require_POST
def objection_new_view(request: HttpRequest, pk: str) -> HttpResponse:
    item = get_visible(Publicity, user=request.user, pk=pk, action=Action.PUBLICITY_MANAGE)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        app_pk = data.pop("application")
        application = get_visible(HardshipApplication, user=request.user, pk=app_pk) if app_pk else None
        try:
            publicity.objection_record(actor=request.user, publicity=item, application=application, **data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Objection recorded."))
    else:
        messages.error(request, _("Say who raised the objection, when, and what it says."))
    return redirect("students:publicity", pk=item.pk)


@login_required
@require_POST
def objection_resolve_view(request: HttpRequest, pk: str) -> HttpResponse:
    objection = get_visible(Objection, user=request.user, pk=pk, action=Action.PUBLICITY_MANAGE)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            publicity.objection_resolve(actor=request.user, objection=objection, **form.cleaned_data)
        except ValidationError as error:
            refusal_to_messages(request, error)
        else:
            messages.success(request, _("Objection answered."))
    else:
        messages.error(request, _("Write down the decision and its grounds."))
    return redirect("students:publicity", pk=objection.publicity_id)


@login_required
def publicity_print_view(request: HttpRequest, pk: str) -> HttpResponse:
    """The A4 notice to pin on the school's board: the same snapshot as the public page."""
    item = get_visible(Publicity, user=request.user, pk=pk)
    notice = publicity.notice_of(item)
    if notice is None:
        raise Http404
    return render(request, "students/identification/notice_print.html", {"notice": notice})


def public_notice_view(request: HttpRequest, district: str, token: str) -> HttpResponse:
    """公示: the public page (no login), at /p/<district>/<token>/. Only the snapshot, only between its
    dates."""
    notice = publicity.notice_for_public(token, district=district)
    if notice is None:
        raise Http404
    return render(request, "students/identification/notice_public.html", {"notice": notice})


def public_notice_old_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """/p/<token>/, the address printed on notices before it carried the district: sends the reader to
    the notice's address with its district, while the notice is public."""
    notice = publicity.notice_for_public(token)
    if notice is None:
        raise Http404
    return redirect("public_notice", district=notice.tenant.slug, token=notice.token, permanent=True)


# --- The student's file -------------------------------------------------------------------------------


@login_required
def student_file_view(request: HttpRequest, pk: str) -> HttpResponse:
    """一生一档: the student's whole story — registration, status changes, guardians, applications
    and every decision with its reason, visits, adjustments."""
    student = student_get_for_user(user=request.user, pk=pk)
    context = selectors.student_file(user=request.user, student=student)
    can_nominate = permissions.can(request.user, Action.APPLICATION_NOMINATE, student)
    nomination_refusal = (
        selectors.nomination_refusal(student=student, academic_year=clock.current_school_year()) if can_nominate else ""
    )
    context.update(
        student=student,
        can_nominate=can_nominate,
        nomination_refusal=nomination_refusal,
        can_reveal=permissions.can(request.user, Action.STUDENT_VIEW_PII, student),
        sees_applications=permissions.can(request.user, Action.APPLICATION_VIEW, student),
        sees_funding=permissions.can(request.user, Action.FUNDING_VIEW, student),  # the 温馨告知书 link
        file_sections=student_file_sections(user=request.user, student=student),
    )
    return render(request, "students/student_detail.html", context)


# --- A whole class on one page: the class evaluation (班级评议), the village confirmation ------------------

_STEP_FORMSETS = {"class": ClassEvaluationFormSet, "village": VillageFormSet}


def _step_initial(application: HardshipApplication, step: str) -> dict:
    if step == "class":
        return {
            "application": application.pk,
            "class_evaluation": application.class_evaluation,
            "visit_on": application.visit_on,
            "visit_by": application.visit_by,
            "visit_findings": application.visit_findings,
        }
    return {
        "application": application.pk,
        "confirmed_by": application.village_confirmed_by,
        "confirmed_on": application.village_confirmed_on,
    }


@login_required
def applications_step_view(request: HttpRequest, step: str) -> HttpResponse:
    """GET: one row per pupil waiting at the step (`?klass=` narrows to a class); POST: record every
    filled row in one submit, all or nothing (a refused row is named, and nothing is recorded)."""
    if step not in selectors.CLASS_STEPS:
        raise Http404
    action, _status = selectors.CLASS_STEPS[step]
    permissions.require(request.user, action)
    klass_id = request.GET.get("klass") or None
    try:
        rows = list(
            selectors.applications_at_step(user=request.user, step=step, klass_id=klass_id)[: selectors.CLASS_STEP_ROWS]
        )
    except ValidationError as exc:  # a malformed ?klass=
        raise Http404 from exc
    formset_class = _STEP_FORMSETS[step]
    initial = [_step_initial(app, step) for app in rows]
    formset = formset_class(request.POST or None, initial=initial, prefix="rows")
    status = 200
    if request.method == "POST":
        if formset.is_valid():
            filled = [f.cleaned_data for f in formset if f.has_changed() and f.is_filled()]
            try:
                if step == "class":
                    workflow.applications_record_details_bulk(
                        actor=request.user,
                        rows=[
                            workflow.DetailsRow(
                                application_id=d["application"],
                                class_evaluation=d["class_evaluation"],
                                visit_on=d["visit_on"],
                                visit_by=d["visit_by"],
                                visit_findings=d["visit_findings"],
                            )
                            for d in filled
                        ],
                    )
                else:
                    workflow.applications_village_confirm_bulk(
                        actor=request.user,
                        rows=[
                            workflow.VillageRow(
                                application_id=d["application"],
                                confirmed_by=d["confirmed_by"],
                                confirmed_on=d["confirmed_on"],
                            )
                            for d in filled
                        ],
                    )
            except ValidationError as error:
                refusal_to_messages(request, error)
                status = 400
            else:
                messages.success(request, _("%(n)d rows recorded.") % {"n": len(filled)})
                return redirect(request.get_full_path())
        else:
            status = 400
    by_pk = {str(app.pk): app for app in rows}
    lines = [(by_pk.get(str(form["application"].value())), form) for form in formset]
    return render(
        request,
        "students/identification/applications_step.html",
        {"step": step, "formset": formset, "lines": lines, "truncated": len(rows) >= selectors.CLASS_STEP_ROWS},
        status=status,
    )
