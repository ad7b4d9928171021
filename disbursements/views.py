"""Pages of the money: batches (build, the schools' enrollment check, release, the payment roster, the
bank's return, leaving out refused lines), corrections and recoveries, the ledger, the letters to
families. Thin: access helper → one service call → redirect with a message."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from core.listing import Column, export_xlsx, list_page, wants_export
from core.pagecache import kept_page
from core.web import refusal_to_messages, service_messages
from funding import selectors as funding_selectors
from schools import jobs, permissions
from schools.access import class_get_for_user, job_get_for_user, school_get_for_user
from schools.permissions import Action
from students.access import student_get_for_user

from . import forms, selectors
from . import ledger as ledger_mod
from .access import award_get_for_correction, batch_get_for_user, correction_get_for_user, recovery_get_for_user
from .filters import BatchFilter, CorrectionFilter, LineFilter, RecoveryFilter
from .services import batches, corrections


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


# --- Batches --------------------------------------------------------------------------------------------


@login_required
@kept_page
def batch_list_view(request: HttpRequest) -> HttpResponse:
    """The semester's batches, the build buttons, and the progress of the build job `?job=`."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    filterset = BatchFilter(
        request.GET or None, selectors.batch_rows(user=request.user, semester=semester), user=request.user
    )

    def counted(qs: Any) -> Any:
        return selectors.batch_counted(qs, **filterset.line_filters())

    if wants_export(request):
        return export_xlsx(counted(filterset.qs), BATCH_COLUMNS, filename="发放批次.xlsx")
    job_pk = request.GET.get("job")
    job = job_get_for_user(user=request.user, pk=job_pk, kind=batches.BUILD_JOB_KIND) if job_pk else None
    return render(
        request,
        "disbursements/batch_list.html",
        {
            **list_page(
                request,
                filterset,
                page_rows=lambda batches: selectors.batch_figures(batches, **filterset.line_filters()),
                export=True,
            ),
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "manages": permissions.can(request.user, Action.BATCH_MANAGE),
            "job": jobs.job_live(job) if job else None,
        },
    )


BATCH_COLUMNS = [
    Column(_lazy("Number"), lambda b: b.number, width=8),
    Column(_lazy("Kind"), lambda b: b.get_kind_display()),
    Column(_lazy("Status"), lambda b: b.get_status_display(), width=30),
    Column(_lazy("Lines"), lambda b: b.line_count),
    Column(_lazy("Amount"), lambda b: b.total),
]

CORRECTION_COLUMNS = [
    Column(_lazy("Kind"), lambda c: c.get_kind_display()),
    Column(_lazy("Student"), lambda c: c.award.student.name),
    Column(_lazy("School"), lambda c: c.school.name, width=24),
    Column(_lazy("Program"), lambda c: c.award.program.name, width=24),
    Column(_lazy("Amount"), lambda c: c.amount),
    Column(_lazy("Reason"), lambda c: c.reason, width=40),
    Column(_lazy("Status"), lambda c: c.get_status_display()),
]

LINE_COLUMNS = [
    Column(_lazy("Student"), lambda line: line.student.name),
    Column(_lazy("School"), lambda line: line.school.name, width=24),
    Column(_lazy("Class"), lambda line: line.klass, width=16),
    Column(_lazy("Program"), lambda line: line.program.name, width=24),
    Column(_lazy("Amount"), lambda line: line.amount),
    Column(_lazy("Bank"), lambda line: line.bank),
    Column(_lazy("Account number"), lambda line: line.account, width=24, text=True),
    Column(_lazy("Status"), lambda line: line.get_status_display()),
    Column(_lazy("Bank's reason"), lambda line: line.bank_message, width=30),
]

#: The recovery cases shown below the corrections (filtered by the same search and school).
RECOVERIES_SHOWN = 300


@login_required
@require_POST
def batch_build_view(request: HttpRequest) -> HttpResponse:
    semester = funding_selectors.semester_from_request(request)
    form = forms.BatchBuildForm(request.POST)
    if semester is None or not form.is_valid():
        raise Http404
    # A background job: the batch is built by a worker while the page shows its progress; a second
    # click while it runs lands on the same job.
    job = batches.batch_build_start(actor=request.user, semester=semester, kind=form.cleaned_data["kind"])
    return redirect(f"{reverse('disbursements:batches')}?semester={semester.pk}&job={job.pk}")


@login_required
def batch_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = batch_get_for_user(user=request.user, pk=pk)
    lines = LineFilter(request.GET or None, selectors.line_rows(user=request.user, batch=batch), user=request.user)
    if wants_export(request):
        return export_xlsx(lines.qs, LINE_COLUMNS, filename=f"发放明细-{batch.semester.code}-{batch.number}.xlsx")
    overview = selectors.batch_overview(user=request.user, batch=batch)
    return render(
        request,
        "disbursements/batch.html",
        {
            **list_page(request, lines, export=True),
            "batch": batch,
            "schools": overview.schools,
            "manages": permissions.can(request.user, Action.BATCH_MANAGE, batch),
            "failed": overview.failed,
            "banks": overview.banks,
            "returns": overview.returns,
        },
    )


@login_required
@require_POST
def batch_confirm_view(request: HttpRequest, pk: str, school_pk: str) -> HttpResponse:
    batch = batch_get_for_user(user=request.user, pk=pk)
    school = school_get_for_user(user=request.user, pk=school_pk, action=Action.ENROLLMENT_CONFIRM)
    form = forms.NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    with service_messages(request, success=_("Confirmed.")):
        batches.batch_confirm_school(actor=request.user, batch=batch, school=school, note=note)
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
@require_POST
def batch_release_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = batch_get_for_user(user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    with service_messages(request, success=_("Released: export the payment roster for the bank.")):
        batches.batch_release(actor=request.user, batch=batch)
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
def roster_export_view(request: HttpRequest, pk: str) -> FileResponse:
    """The payment roster (发放名册) in the bank's layout, as xlsx or CSV (audited: it holds full numbers)."""
    from .services import exports

    batch = batch_get_for_user(user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    form = forms.RosterExportForm(request.GET)
    if not form.is_valid():
        raise Http404
    fmt, bank = form.cleaned_data["format"], form.cleaned_data["bank"]
    buffer = io.BytesIO()
    try:
        exports.payment_roster(actor=request.user, batch=batch, bank=bank or None, source=None, fmt=fmt, target=buffer)
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("disbursements:batch", pk=batch.pk)
    buffer.seek(0)
    name = f"发放名册-{batch.semester.code}-{batch.number}{'-' + bank if bank else ''}.{fmt}"
    return FileResponse(buffer, as_attachment=True, filename=name)


@login_required
@require_POST
def return_import_view(request: HttpRequest, pk: str) -> HttpResponse:
    """The bank's return file: each line paid or failed, with the bank's code and reason."""
    from .services import returns

    batch = batch_get_for_user(user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    form = forms.ReturnUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("disbursements:batch", pk=batch.pk)
    upload = form.cleaned_data["file"]
    try:
        # The service copies the upload into a working directory of its own, and reads it by content.
        result = returns.bank_return_import(actor=request.user, batch=batch, path_or_file=upload, file_name=upload.name)
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("disbursements:batch", pk=batch.pk)
    messages.success(request, str(result))
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
@require_POST
def lines_exclude_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = batch_get_for_user(user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    form = forms.LinesExcludeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("disbursements:batch", pk=batch.pk)
    try:
        n = batches.batch_exclude_lines(
            actor=request.user, batch=batch, line_ids=form.cleaned_data["lines"], reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("%(n)d lines left the batch.") % {"n": n})
    return redirect("disbursements:batch", pk=batch.pk)


# --- Corrections ------------------------------------------------------------------------------------------


@login_required
@kept_page
def corrections_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.FUNDING_VIEW)
    user = request.user
    filterset = CorrectionFilter(request.GET or None, selectors.correction_rows(user=user), user=user)
    if wants_export(request):
        return export_xlsx(filterset.qs, CORRECTION_COLUMNS, filename="停发与追回.xlsx")
    recoveries = RecoveryFilter(request.GET or None, selectors.recovery_rows(user=user), user=user)
    return render(
        request,
        "disbursements/corrections.html",
        {
            **list_page(request, filterset, export=True),
            "recoveries": recoveries.qs[:RECOVERIES_SHOWN],
            "recovery_filter": recoveries,
            "decides": permissions.can(user, Action.CORRECTION_APPROVE),
            "proposes": permissions.can(user, Action.CORRECTION_PROPOSE),
        },
    )


@login_required
@require_POST
def correction_propose_view(request: HttpRequest, award_pk: str) -> HttpResponse:
    award = award_get_for_correction(user=request.user, pk=award_pk)
    form = forms.CorrectionProposeForm(request.POST)
    form.is_valid()
    with service_messages(request, success=_("Proposed: a second person approves it.")):
        corrections.correction_propose(
            actor=request.user,
            award=award,
            reason=form.cleaned_data.get("reason", ""),
            evidence=form.cleaned_data.get("evidence", ""),
        )
    return redirect("disbursements:corrections")


@login_required
@require_POST
def correction_decide_view(request: HttpRequest, pk: str) -> HttpResponse:
    correction = correction_get_for_user(user=request.user, pk=pk, action=Action.CORRECTION_APPROVE)
    form = forms.DecisionForm(request.POST)
    form.is_valid()
    with service_messages(request, success=_("Decision recorded.")):
        corrections.correction_decide(
            actor=request.user,
            correction=correction,
            approve=form.cleaned_data.get("approve", False),
            reason=form.cleaned_data.get("reason", ""),
        )
    return redirect("disbursements:corrections")


@login_required
@require_POST
def correction_reverse_view(request: HttpRequest, pk: str) -> HttpResponse:
    correction = correction_get_for_user(user=request.user, pk=pk, action=Action.CORRECTION_PROPOSE)
    form = forms.ReasonForm(request.POST)
    form.is_valid()
    with service_messages(request, success=_("Proposed: a second person approves it.")):
        corrections.correction_reverse_propose(
            actor=request.user, correction=correction, reason=form.cleaned_data.get("reason", "")
        )
    return redirect("disbursements:corrections")


@login_required
@require_POST
def recovery_record_view(request: HttpRequest, pk: str) -> HttpResponse:
    recovery = recovery_get_for_user(user=request.user, pk=pk, action=Action.CORRECTION_PROPOSE)
    form = forms.RecoveryRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("disbursements:corrections")
    with service_messages(request, success=_("Recorded.")):
        corrections.recovery_record(
            actor=request.user, recovery=recovery, amount=form.cleaned_data["amount"], note=form.cleaned_data["note"]
        )
    return redirect("disbursements:corrections")


@login_required
@require_POST
def recovery_write_off_view(request: HttpRequest, pk: str) -> HttpResponse:
    recovery = recovery_get_for_user(user=request.user, pk=pk, action=Action.CORRECTION_APPROVE)
    form = forms.ReasonForm(request.POST)
    form.is_valid()
    with service_messages(request, success=_("Written off.")):
        corrections.recovery_write_off(
            actor=request.user, recovery=recovery, reason=form.cleaned_data.get("reason", "")
        )
    return redirect("disbursements:corrections")


# --- Ledger and letters -------------------------------------------------------------------------------------


@login_required
@kept_page
def ledger_view(request: HttpRequest) -> HttpResponse:
    """台账 of a semester; `?format=xlsx` downloads it."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    if semester is None:
        return render(request, "disbursements/ledger.html", {"semester": None, "semesters": []})
    ledger = ledger_mod.semester_ledger(user=request.user, semester=semester)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        ledger_mod.ledger_xlsx(ledger, buffer)
        buffer.seek(0)
        return FileResponse(buffer, as_attachment=True, filename=f"台账-{semester.code}.xlsx")
    return render(
        request,
        "disbursements/ledger.html",
        {"semester": semester, "semesters": funding_selectors.semester_list(user=request.user), "ledger": ledger},
    )


@login_required
@kept_page
def letters_view(request: HttpRequest) -> HttpResponse:
    """温馨告知书 from the menu: the classes of the user's units, each a link to its printable letters."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    return render(
        request,
        "disbursements/letters_index.html",
        {
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "classes": selectors.letter_classes(user=request.user),
        },
    )


@login_required
def letter_student_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    """温馨告知书 for one funded student (printable)."""
    student = student_get_for_user(user=request.user, pk=student_pk, action=Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    return render(
        request,
        "disbursements/letters.html",
        {"letters": selectors.letters(user=request.user, semester=semester, students=[student]), "semester": semester},
    )


@login_required
def letter_class_view(request: HttpRequest, class_pk: str) -> HttpResponse:
    """温馨告知书 for every funded student of a class, one per page."""
    klass = class_get_for_user(user=request.user, pk=class_pk, action=Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    students = klass.students.all()
    return render(
        request,
        "disbursements/letters.html",
        {"letters": selectors.letters(user=request.user, semester=semester, students=students), "semester": semester},
    )
