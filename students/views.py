"""Pages of the student register: the list a user may see, one student, and the audited reveal."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.listing import Column, export_xlsx, list_page, status_tabs, wants_export
from core.pagecache import kept_page
from core.paging import LookaheadPaginator
from schools import permissions
from schools.permissions import Action

from .access import student_get_for_user
from .filters import StudentListFilter
from .selectors import STUDENT_COUNTS_TTL, student_list
from .services import REVEALABLE, student_reveal


@login_required
@kept_page
def student_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.STUDENT_VIEW)
    filterset = StudentListFilter(request.GET or None, student_list(user=request.user), user=request.user)
    if wants_export(request):
        return export_xlsx(filterset.qs, EXPORT_COLUMNS, filename="学生名册.xlsx")
    # The register is the one list whose rows are a district's 100,000 pupils: the total is counted
    # only ten pages ahead, and the status tabs' one GROUP BY is kept half a minute per user and filter.
    tabs = status_tabs(filterset, cache_for=STUDENT_COUNTS_TTL)
    context = list_page(request, filterset, paginator=LookaheadPaginator, tabs=tabs, export=True, rows=_shown_columns)
    context["can_import"] = permissions.can(request.user, Action.ROSTER_IMPORT)
    template = "students/_student_table.html" if request.htmx else "students/student_list.html"
    return render(request, template, context)


def _shown_columns(qs: Any) -> Any:
    """Only what the table shows is read: one encrypted number (the masked ID; three more decryptions a
    row were a twentieth of the page's time), and of the school, grade and class their names' parts
    (every column read is a value set and converted on 200 model instances a page)."""
    return qs.only(
        "tenant",
        "name",
        "id_number",
        "gender",
        "enrollment_status",
        "is_boarding",
        "hukou",
        "school__name",
        "grade__stage",
        "grade__entry_year",
        "klass__number",
        "klass__grade__stage",
        "klass__grade__entry_year",
    )


EXPORT_COLUMNS = [
    Column(_("Name"), lambda s: s.name),
    Column(_("ID number"), lambda s: s.id_number, width=22, text=True),
    Column(_("School"), lambda s: s.school.name, width=24),
    Column(_("Class"), lambda s: s.klass, width=16),
    Column(_("Gender"), lambda s: s.get_gender_display(), width=8),
    Column(_("Enrollment status"), lambda s: s.get_enrollment_status_display()),
    Column(_("Household registration"), lambda s: s.get_hukou_display()),
]


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
