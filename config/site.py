"""Project-level pages: the role-aware home page, the health check, the audited password change."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import clock
from core.pagecache import kept_page
from schools import permissions
from schools.door import services as door_services

from . import dashboards, health, menu
from . import home as home_panels


class AuditedPasswordChangeView(PasswordChangeView):
    """Django's password change, with an audit row (the password itself never enters the trail)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        door_services.password_changed(user=self.request.user)
        return response


class SigningInView(LoginView):
    """Django's sign-in, remembering when the person signed in before (the auditor's home page shows
    what changed since then); Django moves `last_login` on as it signs them in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        previous = form.get_user().last_login
        response = super().form_valid(form)
        if previous is not None:
            self.request.session[PREVIOUS_VISIT] = previous.isoformat()
        return response


PREVIOUS_VISIT = "previous_login_at"


@login_required
@kept_page
def home(request: HttpRequest) -> HttpResponse:
    """Each person's start page: what waits for them, their role's blocks (each count a link to its
    rows), and the units they are responsible for. A region's oversight account (市/省) has one page:
    its region's figures."""
    if permissions.is_region_account(request.user):
        return redirect("oversight:region")
    work = menu.work_for_request(request)
    menu.remember_counts(request.user, work)
    today = clock.today()
    return render(
        request,
        "home.html",
        {
            "home": home_panels.for_user(request.user, today=today, work=work),
            "board": dashboards.for_user(request.user, today=today, previous_visit=request.session.get(PREVIOUS_VISIT)),
            "today": today,
        },
    )


@never_cache
@login_required
@require_GET
def menu_counts(request: HttpRequest) -> HttpResponse:
    """The side menu's counts of waiting work, swapped into the menu out of band after the page loaded
    (one request per page view; the counts are kept briefly per user: config/menu.py)."""
    groups = menu.menu_for(request.user, counts=menu.counts_for_request(request))
    entries = [e for group in groups for e in group.entries if e.counted]
    # Rendered without the request: the fragment needs none of the layout's context (the context
    # processors would build the whole menu again, a third of this answer's time).
    return HttpResponse(render_to_string("includes/menu_counts.html", {"entries": entries}))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the state of the database and the broker; 503 if either does not answer."""
    report = health.check()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
