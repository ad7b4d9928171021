"""The audit trail as pages: the event list, and a check of the tenant's chain."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from schools import permissions
from schools.permissions import Action

from .selectors import action_names, event_list
from .verify import verify_tenant_chain


@login_required
def event_list_view(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, Action.AUDIT_VIEW)
    action = request.GET.get("action", "")[:64]
    object_id = request.GET.get("object", "")[:64]
    events = event_list(user=request.user, action=action, object_id=object_id)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audits/event_list.html",
        {"page": page, "actions": action_names(user=request.user), "action": action, "object_id": object_id},
    )


@login_required
@require_POST
def verify_view(request: HttpRequest) -> HttpResponse:
    """htmx: verify the user's own tenant's chain and show the result."""
    permissions.require(request.user, Action.AUDIT_VIEW)
    problems = verify_tenant_chain(request.user.tenant_id)
    return render(request, "audits/_verify_result.html", {"problems": problems})
