"""Pages of the money: batches (build, the schools' enrollment check, release, the payment roster, the
bank's return, leaving out refused lines), corrections and recoveries, the ledger, the letters to
families. Thin: access helper → one service call → redirect with a message."""

from __future__ import annotations

import io
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.web import refusal_to_messages
from core.xlsx import ColumnFormat, XlsxWriter
from funding import selectors as funding_selectors
from funding.models import Award
from schools import permissions
from schools.access import class_get_for_user, get_visible, school_get_for_user
from schools.models import School
from schools.permissions import Action
from students.access import student_get_for_user

from . import ledger as ledger_mod
from .models import Batch, BatchKind, BatchStatus, Correction, LineStatus, PaymentLine, Recovery
from .services import batches, corrections

# --- Batches --------------------------------------------------------------------------------------------


@login_required
def batch_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    items = (
        Batch.objects.visible_to(request.user)
        .filter(semester=semester)
        .annotate(
            line_count=Count("lines", filter=~Q(lines__status=LineStatus.REMOVED)),
            total=Sum("lines__amount", filter=~Q(lines__status=LineStatus.REMOVED)),
        )
        .order_by("number")
        if semester
        else []
    )
    return render(
        request,
        "disbursements/batch_list.html",
        {
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "batches": items,
            "manages": permissions.can(request.user, Action.BATCH_MANAGE),
        },
    )


@login_required
@require_POST
def batch_build_view(request: HttpRequest) -> HttpResponse:
    semester = funding_selectors.semester_from_request(request)
    kind = request.POST.get("kind", BatchKind.FIRST)
    if semester is None or kind not in BatchKind.values:
        raise Http404
    try:
        result = batches.batch_build(actor=request.user, semester=semester, kind=kind)
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("disbursements:batches")
    for _pk, why in result.skipped[:10]:
        messages.warning(request, why)
    if result.batch is None:
        messages.info(request, _("Nothing to pay: no batch was made."))
        return redirect("disbursements:batches")
    messages.success(request, _("%(n)d lines in the batch.") % {"n": result.lines})
    return redirect("disbursements:batch", pk=result.batch.pk)


@login_required
def batch_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = get_visible(Batch, user=request.user, pk=pk)
    user = request.user
    lines = PaymentLine.objects.visible_to(user).filter(batch=batch)
    by_school = (
        lines.values("school_id", "school__name")
        .annotate(
            count=Count("pk", filter=~Q(status=LineStatus.REMOVED)),
            total=Sum("amount", filter=~Q(status=LineStatus.REMOVED)),
            paid=Sum("amount", filter=Q(status=LineStatus.PAID)),
            failed=Sum("amount", filter=Q(status=LineStatus.FAILED)),
        )
        .order_by("school__name")
    )
    confirmed = set(batch.confirmations.values_list("school_id", flat=True))
    schools = [dict(row, confirmed=row["school_id"] in confirmed) for row in by_school]
    confirmable = set(
        School.objects.visible_to(user, Action.ENROLLMENT_CONFIRM)
        .filter(pk__in=[row["school_id"] for row in schools])
        .values_list("pk", flat=True)
    )
    for row in schools:
        row["may_confirm"] = (
            batch.status == BatchStatus.FROZEN and not row["confirmed"] and row["school_id"] in confirmable
        )
    return render(
        request,
        "disbursements/batch.html",
        {
            "batch": batch,
            "schools": schools,
            "manages": permissions.can(user, Action.BATCH_MANAGE, batch),
            "failed": lines.filter(status=LineStatus.FAILED).select_related("student", "school")[:200],
            "banks": sorted(set(lines.exclude(status=LineStatus.REMOVED).values_list("bank", flat=True))),
            "returns": batch.returns.order_by("-created_at"),
        },
    )


@login_required
@require_POST
def batch_confirm_view(request: HttpRequest, pk: str, school_pk: str) -> HttpResponse:
    batch = get_visible(Batch, user=request.user, pk=pk)
    school = school_get_for_user(user=request.user, pk=school_pk, action=Action.ENROLLMENT_CONFIRM)
    try:
        batches.batch_confirm_school(actor=request.user, batch=batch, school=school, note=request.POST.get("note", ""))
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Confirmed."))
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
@require_POST
def batch_release_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = get_visible(Batch, user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    try:
        batches.batch_release(actor=request.user, batch=batch)
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Released: export the payment roster for the bank."))
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
def roster_export_view(request: HttpRequest, pk: str) -> FileResponse:
    """The payment roster (发放名册) in the bank's layout, as xlsx or CSV (audited: it holds full numbers)."""
    from .services import exports

    batch = get_visible(Batch, user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    buffer = io.BytesIO()
    try:
        exports.payment_roster(
            actor=request.user, batch=batch, bank=request.GET.get("bank") or None, source=None, fmt=fmt, target=buffer
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
        return redirect("disbursements:batch", pk=batch.pk)
    buffer.seek(0)
    bank = request.GET.get("bank", "")
    name = f"发放名册-{batch.semester.code}-{batch.number}{'-' + bank if bank else ''}.{fmt}"
    return FileResponse(buffer, as_attachment=True, filename=name)


@login_required
@require_POST
def return_import_view(request: HttpRequest, pk: str) -> HttpResponse:
    """The bank's return file: each line paid or failed, with the bank's code and reason."""
    from .services import returns

    batch = get_visible(Batch, user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the bank's return file."))
        return redirect("disbursements:batch", pk=batch.pk)
    suffix = Path(upload.name).suffix.lower()[:8]
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        try:
            result = returns.bank_return_import(
                actor=request.user, batch=batch, path_or_file=handle.name, file_name=upload.name
            )
        except ValidationError as error:
            refusal_to_messages(request, error)
            return redirect("disbursements:batch", pk=batch.pk)
    messages.success(request, str(result))
    return redirect("disbursements:batch", pk=batch.pk)


@login_required
@require_POST
def lines_exclude_view(request: HttpRequest, pk: str) -> HttpResponse:
    batch = get_visible(Batch, user=request.user, pk=pk, action=Action.BATCH_MANAGE)
    try:
        n = batches.batch_exclude_lines(
            actor=request.user,
            batch=batch,
            line_ids=request.POST.getlist("lines"),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("%(n)d lines left the batch.") % {"n": n})
    return redirect("disbursements:batch", pk=batch.pk)


# --- Corrections ------------------------------------------------------------------------------------------


@login_required
def corrections_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.FUNDING_VIEW)
    user = request.user
    return render(
        request,
        "disbursements/corrections.html",
        {
            "corrections": Correction.objects.visible_to(user)
            .select_related("award__student", "award__program", "proposed_by", "decided_by", "school")
            .order_by("-created_at")[:300],
            "recoveries": Recovery.objects.visible_to(user)
            .select_related("line__student", "line__program", "school")
            .order_by("status", "-created_at")[:300],
            "decides": permissions.can(user, Action.CORRECTION_APPROVE),
            "proposes": permissions.can(user, Action.CORRECTION_PROPOSE),
        },
    )


@login_required
@require_POST
def correction_propose_view(request: HttpRequest, award_pk: str) -> HttpResponse:
    award = get_visible(Award, user=request.user, pk=award_pk, action=Action.CORRECTION_PROPOSE)
    try:
        corrections.correction_propose(
            actor=request.user,
            award=award,
            reason=request.POST.get("reason", ""),
            evidence=request.POST.get("evidence", ""),
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Proposed: a second person approves it."))
    return redirect("disbursements:corrections")


@login_required
@require_POST
def correction_decide_view(request: HttpRequest, pk: str) -> HttpResponse:
    correction = get_visible(Correction, user=request.user, pk=pk, action=Action.CORRECTION_APPROVE)
    try:
        corrections.correction_decide(
            actor=request.user,
            correction=correction,
            approve=request.POST.get("approve") == "1",
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("disbursements:corrections")


@login_required
@require_POST
def correction_reverse_view(request: HttpRequest, pk: str) -> HttpResponse:
    correction = get_visible(Correction, user=request.user, pk=pk, action=Action.CORRECTION_PROPOSE)
    try:
        corrections.correction_reverse_propose(
            actor=request.user, correction=correction, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Proposed: a second person approves it."))
    return redirect("disbursements:corrections")


@login_required
@require_POST
def recovery_record_view(request: HttpRequest, pk: str) -> HttpResponse:
    recovery = get_visible(Recovery, user=request.user, pk=pk, action=Action.CORRECTION_PROPOSE)
    try:
        amount = Decimal(request.POST.get("amount", ""))
        corrections.recovery_record(
            actor=request.user, recovery=recovery, amount=amount, note=request.POST.get("note", "")
        )
    except InvalidOperation:
        messages.error(request, _("Give the amount in yuan, e.g. 125.50."))
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Recorded."))
    return redirect("disbursements:corrections")


@login_required
@require_POST
def recovery_write_off_view(request: HttpRequest, pk: str) -> HttpResponse:
    recovery = get_visible(Recovery, user=request.user, pk=pk, action=Action.CORRECTION_APPROVE)
    try:
        corrections.recovery_write_off(actor=request.user, recovery=recovery, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        messages.success(request, _("Written off."))
    return redirect("disbursements:corrections")


# --- Ledger and letters -------------------------------------------------------------------------------------


@login_required
def ledger_view(request: HttpRequest) -> HttpResponse:
    """台账 of a semester; `?format=xlsx` downloads it."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    if semester is None:
        return render(request, "disbursements/ledger.html", {"semester": None, "semesters": []})
    ledger = ledger_mod.semester_ledger(user=request.user, semester=semester)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        with XlsxWriter(buffer) as book, book.sheet("台账", [ColumnFormat(width=18)] * 10) as sheet:
            sheet.row(ledger_mod.LEDGER_HEADERS, style=1)
            for row in ledger_mod.ledger_rows_for_export(ledger):
                sheet.row(row)
        buffer.seek(0)
        return FileResponse(buffer, as_attachment=True, filename=f"台账-{semester.code}.xlsx")
    return render(
        request,
        "disbursements/ledger.html",
        {"semester": semester, "semesters": funding_selectors.semester_list(user=request.user), "ledger": ledger},
    )


def _letters(user, semester, students) -> list[dict]:
    awards = (
        Award.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester, student__in=students, status="APPROVED")
        .select_related("student", "school", "klass", "program")
        .order_by("student__name", "program__sort_order")
    )
    letters: dict = {}
    for award in awards:
        letter = letters.setdefault(award.student_id, {"student": award.student, "school": award.school, "awards": []})
        letter["awards"].append(award)
    return list(letters.values())


@login_required
def letter_student_view(request: HttpRequest, student_pk: str) -> HttpResponse:
    """温馨告知书 for one funded student (printable)."""
    student = student_get_for_user(user=request.user, pk=student_pk, action=Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    return render(
        request,
        "disbursements/letters.html",
        {"letters": _letters(request.user, semester, [student]), "semester": semester},
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
        {"letters": _letters(request.user, semester, students), "semester": semester},
    )
