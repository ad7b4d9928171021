"""市/省: the region's page (a chart per view of the figures, its table, its xlsx), for region accounts
only. Thin: the region's districts and figures from the selectors, one audit service call per view."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from schools import permissions
from schools.permissions import Action

from ..views import board_xlsx
from . import selectors, services


@login_required
def region_view(request: HttpRequest) -> HttpResponse:
    """区域看板: the region's districts per program for `?semester=<code>` (default: the latest), with the
    previous semester beside the pupils; `?format=xlsx` downloads every chart, `&chart=<key>` one."""
    permissions.require(request.user, Action.REGION_VIEW)
    region = selectors.region_of(user=request.user)
    districts = selectors.region_districts(user=request.user)
    codes = selectors.region_semesters(user=request.user)
    code = request.GET.get("semester") or (codes[0] if codes else "")
    if code and code not in codes:
        raise Http404
    board = selectors.region_board(user=request.user, semester_code=code) if code else None
    wants_xlsx = board is not None and request.GET.get("format") == "xlsx"
    if board is not None:
        services.region_view_record(
            user=request.user, region=region, district_ids=[d.pk for d in districts], semester_code=code,
            form="xlsx" if wants_xlsx else "page",
        )  # fmt: skip
    if wants_xlsx:
        return board_xlsx(request, board, f"{region.name}-{code}")
    return render(
        request,
        "oversight/region.html",
        {
            "region": region,
            "districts": districts,
            # `semester.pk` names the semester in the chart's xlsx link (oversight/_chart.html): here its code.
            "semester": {"pk": code, "label": selectors.semester_label(code)} if code else None,
            "semesters": [(c, selectors.semester_label(c)) for c in codes],
            "board": board,
            "data": board.as_json() if board else None,
            "refreshed_at": selectors.region_refreshed_at(user=request.user),
        },
    )
