"""Pages of the student register: the list a user may see, one student, and the audited reveal."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.paging import LookaheadPaginator
from schools import permissions
from schools.permissions import Action

from .access import student_get_for_user
from .forms import StudentFilterForm
from .selectors import StudentFilter, student_list
from .services import REVEALABLE, student_reveal


@login_required
def student_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.STUDENT_VIEW)
    form = StudentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = StudentFilter(
        school_id=data.get("school"),
        grade_id=data.get("grade"),
        klass_id=data.get("klass"),
        status=data.get("status", ""),
        q=data.get("q", ""),
    )
    students = student_list(user=request.user, filters=filters)
    page = LookaheadPaginator(students, 50).get_page(request.GET.get("page"))
    template = "students/_student_table.html" if request.htmx else "students/student_list.html"
    return render(request, template, {"form": form, "page": page})


@login_required
@require_POST
def student_reveal_view(request: HttpRequest, pk: str, field: str) -> HttpResponse:
    """htmx: swap the masked number for the full one; the view is written to the audit trail."""
    if field not in REVEALABLE:
        raise Http404
    student = student_get_for_user(user=request.user, pk=pk, action=Action.STUDENT_VIEW_PII)
    value = student_reveal(student=student, field=field, actor=request.user)
    element_id = {"id_number": "id-number", "card_account": "card-account"}[field]
    return render(
        request, "students/_revealed.html", {"value": value, "label": REVEALABLE[field], "element_id": element_id}
    )
