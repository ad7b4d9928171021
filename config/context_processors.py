"""What the menu shows: the sections a user may open, decided by the permission module."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from schools import permissions
from schools.permissions import Action

from . import menu


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}, "menu": []}
    if getattr(request, "door_pending", False):
        # Before the second factor or a due password change: no menu (its pages are closed, and its
        # counts request would only be sent back to the door).
        return {"nav": {"door": True}, "menu": [], "menu_counts_known": True}
    can = permissions.can
    nav = {
        "schools": can(user, Action.SCHOOL_VIEW),
        "students": can(user, Action.STUDENT_VIEW),
        "applications": can(user, Action.APPLICATION_VIEW),
        "funding": can(user, Action.FUNDING_VIEW),
        "roster": can(user, Action.ROSTER_IMPORT),
        "registry": can(user, Action.REGISTRY_VIEW),
        "reconciliation": can(user, Action.RECONCILIATION_VIEW),
        "audit": can(user, Action.AUDIT_VIEW),
        "care": can(user, Action.CARE_VIEW),
        "admin": can(user, Action.ADMIN_ACCESS),
        "calendar": can(user, Action.CALENDAR_MANAGE),
        "api": user.tenant_id is not None,
        # The API's reference (Swagger, in English) is for whoever connects other systems: the district
        # center and the administrators, not a teacher.
        "api_docs": can(user, Action.ADMIN_ACCESS),
        "roles": [str(permissions.Role(r).label) for r in sorted(permissions.roles_of(user))],
        "platform": permissions.is_platform_operator(user),
        # A region's oversight account (市/省) works for its city or province, named where a district is.
        "tenant_name": user.tenant.name if user.tenant_id else (user.region.name if user.region_id else ""),
    }
    # The home page has computed the worklist already (same request): its counts cost nothing more.
    # Elsewhere the menu fetches them after the page (menu.py explains why).
    work = getattr(request, "_worklist_items", None)
    return {
        "nav": nav,
        # Built only when the template renders it: elsewhere than the home page, the rendered menu
        # usually comes from the cache (base.html), under `menu_key`.
        "menu": SimpleLazyObject(lambda: menu.menu_for(user, work=work)),
        "menu_key": _menu_key(user, request.path),
        "menu_counts_known": work is not None,
        "menu_here": menu.where(getattr(request, "resolver_match", None)),
    }


def _menu_key(user: object, path: str) -> str:
    """What the rendered side menu depends on, but for the language (the cache tag adds it): which
    entries show (decided by the permission module from the user's roles and kind of account alone, for
    an entry asks `can` without an object) and which one is the current page."""
    kind = ""
    if permissions.is_platform_operator(user):
        kind = "platform"
    elif permissions.is_region_account(user):
        kind = "region"
    current = menu.current_entry(path)
    return f"{menu.MENU_VERSION}:{kind}:{'+'.join(sorted(permissions.roles_of(user)))}:{current}"
