"""The side menu, grouped by the year's work (学生管理 / 困难认定 / 资助发放 / 比对核查 / 控辍保学 / 统计报表 /
系统管理) as in the national student-aid information system the offices know.

One data structure (MENU) says everything: which groups, which entries, the Action an entry needs
(asked of `schools.permissions.can`, the one permission module) and which page's waiting work is
counted beside it. Templates only loop over what `menu_for` returns; no entry is written in markup.

Counts come from the home page's worklist (core.worklist), never from a query of their own: an entry
shows the sum of the "todo" items whose link leads to the entry's page. The worklist is computed at
most once per request (`work_for_request`), and ordinary pages do not compute it at all while they
render: the menu fetches its counts afterwards from `menu_counts` (one small htmx request), so a list
page's query count and speed stay what they were. The home page, which computes the worklist anyway,
renders its counts inline.

The counts request comes after every page view, so it is the dearest request of a session: for the
district center the worklist reads the whole register (about 0.3 s at 100,000 pupils). Its counts are
therefore kept MENU_COUNTS_TTL seconds per user in the cache (`counts_for_request`): the home page
computes the worklist afresh and refreshes them, and any POST of the user (their own work done)
forgets them (`config.middleware.MenuCountsMiddleware`). Someone else's work shows in the menu at
most that many seconds late; the home page itself is never late.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core import worklist
from schools import permissions
from schools.permissions import Action


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str | Promise
    action: Action
    icon: str  # a Bootstrap icon's name
    counted: bool = False  # shows the waiting work that leads to this page (home page's worklist)

    @property
    def key(self) -> str:
        """A stable name for tests and for the count's element id: "students-applications"."""
        return self.url_name.replace(":", "-").replace("_", "-")


@dataclass(frozen=True)
class Group:
    key: str
    label: str | Promise
    icon: str
    entries: tuple[Entry, ...]


MENU: tuple[Group, ...] = (
    Group(
        "students",
        _("Student management"),  # 学生管理
        "people",
        (
            Entry("schools:list", _("Schools"), Action.SCHOOL_VIEW, "building"),
            Entry("students:list", _("Students"), Action.STUDENT_VIEW, "person-vcard", counted=True),
            Entry("students:roster", _("Roster import"), Action.ROSTER_IMPORT, "upload"),
        ),
    ),
    Group(
        "identification",
        _("Hardship identification"),  # 困难认定
        "clipboard-check",
        (
            Entry(
                "students:applications", _("Hardship applications"), Action.APPLICATION_VIEW, "ui-checks", counted=True
            ),
            Entry("students:publicities", _("Publicity"), Action.APPLICATION_VIEW, "megaphone", counted=True),
        ),
    ),
    Group(
        "funding",
        _("Aid disbursement"),  # 资助发放
        "cash-coin",
        (
            Entry("funding:award_lists", _("Award lists"), Action.FUNDING_VIEW, "list-check", counted=True),
            Entry("funding:budgets", _("Budgets"), Action.FUNDING_VIEW, "piggy-bank"),
            Entry("disbursements:batches", _("Disbursements"), Action.FUNDING_VIEW, "bank", counted=True),
            Entry(
                "disbursements:corrections",
                _("Stops and recoveries"),
                Action.FUNDING_VIEW,
                "arrow-counterclockwise",
                counted=True,
            ),
            Entry("funding:emergency_index", _("Temporary emergency aid"), Action.FUNDING_VIEW, "life-preserver"),
            Entry("disbursements:letters", _("Letters to families"), Action.FUNDING_VIEW, "envelope-paper"),
            Entry("oversight:checks", _("Post-payment checks"), Action.FUNDING_VIEW, "telephone", counted=True),
        ),
    ),
    Group(
        "checks",
        _("Reconciliation checks"),  # 比对核查
        "intersect",
        (
            Entry("registry:index", _("Department lists"), Action.REGISTRY_VIEW, "journal-text"),
            Entry("reconciliation:runs", _("Reconciliation"), Action.RECONCILIATION_VIEW, "shuffle"),
        ),
    ),
    Group(
        "care",
        _("Dropout control"),  # 控辍保学
        "house-heart",
        (
            Entry("care:attendance", _("Record absences"), Action.ATTENDANCE_RECORD, "calendar-check"),
            Entry("care:cases", _("Absence and dropout cases"), Action.CARE_VIEW, "person-exclamation", counted=True),
            Entry("care:my_pupils", _("My paired pupils"), Action.VISIT_RECORD, "house-door", counted=True),
            Entry("care:pairing", _("Pairing coverage"), Action.PAIRING_MANAGE, "people-fill", counted=True),
            Entry("care:watch", _("Watch list"), Action.CARE_VIEW, "eye"),
            Entry("care:weekly", _("Weekly returns"), Action.WEEKLY_RETURN_VIEW, "calendar-week", counted=True),
            Entry("care:weekly_summary", _("Dropout control statistics"), Action.WEEKLY_RETURN_VIEW, "table"),
        ),
    ),
    Group(
        "reports",
        _("Statistics and reports"),  # 统计报表
        "bar-chart",
        (
            Entry("oversight:dashboard", _("Dashboard"), Action.DASHBOARD_VIEW, "graph-up"),  # 数据看板
            # 市/省: a region's oversight account sees this entry and no other (REGION_ACTIONS).
            Entry("oversight:region", _("Region overview"), Action.REGION_VIEW, "map"),
            Entry("disbursements:ledger", _("Ledger"), Action.FUNDING_VIEW, "journal-bookmark"),
            Entry("oversight:reports", _("Periodic reports"), Action.REPORT_VIEW, "file-earmark-bar-graph"),
            Entry("oversight:outreach", _("Policy outreach"), Action.OUTREACH_VIEW, "megaphone-fill"),
        ),
    ),
    Group(
        "system",
        _("System management"),  # 系统管理
        "gear",
        (
            Entry("audits:list", _("Audit trail"), Action.AUDIT_VIEW, "shield-check"),
            Entry("schools:calendar", _("Official calendar"), Action.CALENDAR_MANAGE, "calendar3"),
            Entry("admin:index", _("Reference data and accounts"), Action.ADMIN_ACCESS, "sliders"),
            Entry("door:accounts", _("Account unlock"), Action.ACCOUNT_UNLOCK, "unlock"),
        ),
    ),
)


@dataclass
class VisibleEntry:
    key: str
    label: str | Promise
    url: str
    icon: str
    counted: bool
    count: int | None = None  # None: not known on this render (fetched afterwards)


@dataclass
class VisibleGroup:
    key: str
    label: str | Promise
    icon: str
    entries: list[VisibleEntry]


#: Seconds the side menu's counts are kept per user (see the module's docstring).
MENU_COUNTS_TTL = 30


def menu_for(
    user: Any, *, work: list[worklist.WorkItem] | None = None, counts: dict[str, int] | None = None
) -> list[VisibleGroup]:
    """The groups the user may use, each with only its permitted entries; a group with none is left out.
    With `work` (the user's worklist) or its `counts` (`counts_by_page`), counted entries carry their count."""
    if counts is None and work is not None:
        counts = counts_by_page(work)
    urls = _urls()
    groups = []
    for group in MENU:
        entries = [
            VisibleEntry(
                key=e.key,
                label=e.label,
                url=urls[e.url_name],
                icon=e.icon,
                counted=e.counted,
                count=counts.get(e.url_name, 0) if counts is not None and e.counted else None,
            )
            for e in group.entries
            if permissions.can(user, e.action)
        ]
        if entries:
            groups.append(VisibleGroup(key=group.key, label=group.label, icon=group.icon, entries=entries))
    return groups


_reversed: dict[str, str] = {}


def _urls() -> dict[str, str]:
    """Every entry's URL, reversed once per process (the URLconf does not change while it runs)."""
    if not _reversed:
        _reversed.update({e.url_name: reverse(e.url_name) for group in MENU for e in group.entries})
    return _reversed


def current_entry(path: str) -> str:
    """The URL name of the menu entry whose page `path` is ("home" for the home page), else ""."""
    if path == "/":
        return "home"
    return next((name for name, url in _urls().items() if url == path), "")


def _menu_version() -> str:
    """Changes when the rendered menu may: its structure, its templates or its translations. Part of the
    rendered menu's cache key, so that a deploy that changes any of them does not serve the old menu
    from a shared cache."""
    shape = [(g.key, [(e.key, e.url_name, e.icon, str(e.action), e.counted) for e in g.entries]) for g in MENU]
    digest = hashlib.sha256(repr(shape).encode())
    base = Path(settings.BASE_DIR)
    for part in ("templates/includes/side_menu.html", "templates/includes/menu_count.html"):
        digest.update((base / part).read_bytes())
    for catalog in sorted(base.glob("locale/*/LC_MESSAGES/django.mo")):
        digest.update(catalog.read_bytes())
    return digest.hexdigest()[:12]


MENU_VERSION = _menu_version()


def _counts_key(user: Any) -> str:
    return f"menu-counts:{user.tenant_id}:{user.pk}"


def counts_for_request(request: Any) -> dict[str, int]:
    """The menu's counts for the request's user: kept MENU_COUNTS_TTL seconds, else from the worklist."""
    key = _counts_key(request.user)
    counts = cache.get(key)
    if counts is None:
        counts = remember_counts(request.user, work_for_request(request))
    return counts


def remember_counts(user: Any, work: list[worklist.WorkItem]) -> dict[str, int]:
    """Keep the counts of a worklist just computed (the home page's), so the menu agrees with it."""
    counts = counts_by_page(work)
    cache.set(_counts_key(user), counts, MENU_COUNTS_TTL)
    return counts


def forget_counts(user: Any) -> None:
    cache.delete(_counts_key(user))


def counts_by_page(work: list[worklist.WorkItem]) -> dict[str, int]:
    """The waiting work ("todo" items only: "info" items are worth knowing, not work) summed by the page
    (URL name) each item leads to."""
    counts: dict[str, int] = {}
    for item in work:
        if item.kind != "todo":
            continue
        try:
            name = resolve(urlsplit(item.url).path).view_name
        except Resolver404:
            continue
        counts[name] = counts.get(name, 0) + item.count
    return counts


def work_for_request(request: Any) -> list[worklist.WorkItem]:
    """The user's worklist, computed once per request however many parts of the page ask for it."""
    work = getattr(request, "_worklist_items", None)
    if work is None:
        work = request._worklist_items = worklist.items_for(request.user)
    return work


def where(match: Any) -> tuple[Group, Entry] | None:
    """The menu group and entry of the page a request resolved to, for its default breadcrumb
    (首页 › 资助发放 › 发放批次); None for a page the menu does not list."""
    view_name = getattr(match, "view_name", None)
    for group in MENU:
        for entry in group.entries:
            if entry.url_name == view_name:
                return group, entry
    return None
