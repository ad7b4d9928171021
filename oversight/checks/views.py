"""Pages of the post-payment checks (回访): the semester's samples with each school's progress and the
draw form (the district), a sample's lines with the record form (the school), the follow-ups (the
district settles them). Thin: access helper → form → one service call → redirect with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pagecache import kept_page
from core.web import form_errors_to_messages, service_messages
from disbursements.models import Batch
from funding import selectors as funding_selectors
from schools import permissions
from schools.access import get_visible
from schools.permissions import Action

from . import selectors, services
from .access import check_line_get_for_user, follow_up_get_for_user, sample_get_for_user
from .forms import DrawForm, FollowUpForm, RecordForm
from .models import CheckMethod, CheckResult


@login_required
@kept_page
def checks_view(request: HttpRequest) -> HttpResponse:
    """The semester's samples, each school's progress and results, the discrepancies still open."""
    permissions.require(request.user, Action.FUNDING_VIEW)
    semester = funding_selectors.semester_from_request(request)
    samples = list(selectors.sample_list(user=request.user, semester=semester))
    progress = selectors.progress_by_school(user=request.user, samples=samples)
    for sample in samples:
        sample.schools = [row for row in progress if row["sample_id"] == sample.pk]
    draws = permissions.can(request.user, Action.SPOT_CHECK_DRAW)
    return render(
        request,
        "oversight/checks.html",
        {
            "semester": semester,
            "semesters": funding_selectors.semester_list(user=request.user),
            "samples": samples,
            "draws": draws,
            "batches": selectors.batches_to_sample(user=request.user, semester=semester) if draws else [],
            "follow_ups": selectors.open_follow_ups(user=request.user)[:200],
            "resolves": permissions.can(request.user, Action.SPOT_CHECK_RESOLVE),
        },
    )


@login_required
@require_POST
def check_draw_view(request: HttpRequest) -> HttpResponse:
    """Draw a paid batch's sample (a second click finds the first sample)."""
    permissions.require(request.user, Action.SPOT_CHECK_DRAW)
    form = DrawForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("oversight:checks")
    batch = get_visible(Batch, user=request.user, pk=form.cleaned_data["batch"], action=Action.SPOT_CHECK_DRAW)
    with service_messages(request):
        sample, created = services.spot_check_draw(
            actor=request.user,
            batch=batch,
            size=form.cleaned_data["size"],
            percent=form.cleaned_data["percent"],
            seed=form.cleaned_data["seed"],
        )
        if created:
            messages.success(
                request, _("Sample drawn: %(n)s lines, seed %(seed)s.") % {"n": sample.size, "seed": sample.seed}
            )
        else:
            messages.info(request, _("This batch already has its sample (seed %(seed)s).") % {"seed": sample.seed})
        return redirect("oversight:check", pk=sample.pk)
    return redirect("oversight:checks")


@login_required
def check_view(request: HttpRequest, pk) -> HttpResponse:
    """One sample: the lines the user sees, with the record form where the user's school asks."""
    sample = sample_get_for_user(user=request.user, pk=pk)
    lines = list(selectors.sample_lines(user=request.user, sample=sample))
    recordable = {line.pk for line in lines if permissions.can(request.user, Action.SPOT_CHECK_RECORD, line)}
    return render(
        request,
        "oversight/check.html",
        {
            "sample": sample,
            "lines": lines,
            "recordable": recordable,
            "results": CheckResult.choices,
            "methods": CheckMethod.choices,
            "resolves": permissions.can(request.user, Action.SPOT_CHECK_RESOLVE),
        },
    )


@login_required
@require_POST
def check_record_view(request: HttpRequest, pk) -> HttpResponse:
    """The school records what the family said about one sampled line."""
    line = check_line_get_for_user(user=request.user, pk=pk, action=Action.SPOT_CHECK_RECORD)
    form = RecordForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
    else:
        with service_messages(request, success=_("Recorded.")):
            services.spot_check_record(actor=request.user, check_line=line, **form.cleaned_data)
    return redirect(f"{reverse('oversight:check', kwargs={'pk': line.sample_id})}#line-{line.pk}")


@login_required
@require_POST
def follow_up_decide_view(request: HttpRequest, pk) -> HttpResponse:
    """The district settles a discrepancy, or proposes a correction of the award."""
    follow_up = follow_up_get_for_user(user=request.user, pk=pk, action=Action.SPOT_CHECK_RESOLVE)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect("oversight:checks")
    text = form.cleaned_data["text"]
    if form.cleaned_data["decision"] == "resolve":
        with service_messages(request, success=_("Settled.")):
            services.follow_up_resolve(actor=request.user, follow_up=follow_up, resolution=text)
    else:
        with service_messages(request, success=_("Correction proposed: a second person approves it.")):
            services.follow_up_correct(actor=request.user, follow_up=follow_up, reason=text)
    return redirect("oversight:checks")
