"""Pages of the school structure: the schools a user may see, and one school's grades and classes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from schools import jobs, permissions
from schools.access import get_visible, school_get_for_user
from schools.models import Job
from schools.permissions import Action
from schools.selectors import class_list, school_list, student_counts


@login_required
def school_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.SCHOOL_VIEW)
    sees_students = permissions.can(request.user, Action.STUDENT_VIEW)
    schools = list(school_list(user=request.user))
    counts = student_counts(user=request.user, by="school") if sees_students else {}
    for school in schools:
        school.student_count = counts.get(school.pk, 0) if sees_students else None
    return render(request, "schools/school_list.html", {"schools": schools, "sees_students": sees_students})


@login_required
def school_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    school = school_get_for_user(user=request.user, pk=pk)
    sees_students = permissions.can(request.user, Action.STUDENT_VIEW, school)
    classes = list(class_list(user=request.user, school=school))
    counts = student_counts(user=request.user, by="klass") if sees_students else {}
    for klass in classes:
        klass.student_count = counts.get(klass.pk, 0) if sees_students else None
    return render(
        request,
        "schools/school_detail.html",
        {"school": school, "classes": classes, "sees_students": sees_students},
    )


@login_required
def job_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    """htmx: the progress bar of a background job, polled until the job finishes, then its result."""
    job = jobs.job_live(get_visible(Job, user=request.user, pk=pk))
    return render(request, "jobs/_progress.html", {"job": job, "result_template": f"jobs/{job.kind}.html"})
