"""Pages of the outreach records (宣传): the semester's coverage per school and kind, the records and the
form (the school), the evidence (permission-checked, decrypted when served), and the letter to families
printable per class (致家长一封信: one letter per pupil and a sign-off sheet; names only, never an ID
number). Thin: access helper → form → one service call."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pagecache import kept_page
from core.web import form_errors_to_messages, service_messages
from funding import selectors as funding_selectors
from schools import permissions
from schools.access import class_get_for_user, get_visible, school_get_for_user
from schools.models import School, SchoolClass
from schools.permissions import Action

from . import selectors, services
from .forms import OutreachForm
from .models import OutreachKind, OutreachRecord


@login_required
@kept_page
def outreach_view(request: HttpRequest) -> HttpResponse:
    """The semester's outreach: which school did which kind, the records, the form for one's school."""
    permissions.require(request.user, Action.OUTREACH_VIEW)
    semester = funding_selectors.semester_from_request(request)
    records = selectors.record_list(user=request.user, semester=semester)
    recording_schools = School.objects.visible_to(request.user, Action.OUTREACH_RECORD).order_by("code", "pk")
    classes = (
        SchoolClass.objects.visible_to(request.user, Action.OUTREACH_VIEW)
        .select_related("school", "grade")
        .order_by("school__code", "grade__entry_year", "number", "pk")
    )
    return render(
        request,
        "oversight/outreach.html",
        {
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "kinds": OutreachKind.choices,
            "coverage": selectors.coverage(user=request.user, semester=semester),
            "records": records[:300],
            "recording_schools": list(recording_schools),
            "classes": list(classes),
        },
    )


@login_required
@require_POST
def outreach_record_view(request: HttpRequest) -> HttpResponse:
    """Record one piece of outreach of the user's school."""
    permissions.require(request.user, Action.OUTREACH_RECORD)
    semester = funding_selectors.semester_from_request(request)
    form = OutreachForm(request.POST, request.FILES)
    if not form.is_valid() or semester is None:
        form_errors_to_messages(request, form)
        return redirect("oversight:outreach")
    data = form.cleaned_data
    school = school_get_for_user(user=request.user, pk=data["school"], action=Action.OUTREACH_RECORD)
    klass = class_get_for_user(user=request.user, pk=data["klass"]) if data["klass"] else None
    with service_messages(request, success=_("Recorded.")):
        services.outreach_record(
            actor=request.user, school=school, semester=semester, klass=klass, kind=data["kind"],
            held_on=data["held_on"], audience=data["audience"], note=data["note"], upload=data["evidence"],
        )  # fmt: skip
    return redirect(f"{reverse('oversight:outreach')}?semester={semester.pk}")


@login_required
def outreach_evidence_view(request: HttpRequest, pk) -> FileResponse:
    """A record's evidence, to those who see the record (never a public URL)."""
    record = get_visible(OutreachRecord, user=request.user, pk=pk)
    if not record.evidence:
        raise Http404
    try:
        handle = record.evidence.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=record.evidence_name or "evidence", content_type=record.evidence_type
    )


@login_required
def outreach_letter_view(request: HttpRequest, class_pk) -> HttpResponse:
    """致家长一封信 for every attending pupil of a class (A4, one per page), and the class's sign-off sheet."""
    klass = class_get_for_user(user=request.user, pk=class_pk, action=Action.OUTREACH_VIEW)
    return render(
        request,
        "oversight/outreach_letter.html",
        {
            "klass": klass,
            "school": klass.school,
            "pupils": list(selectors.letter_pupils(user=request.user, klass=klass)),
            "programs": selectors.letter_programs(user=request.user, klass=klass),
            "semester": funding_selectors.semester_from_request(request),
        },
    )
