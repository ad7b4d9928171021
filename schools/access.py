"""Permission-checked lookups: one object for one user, or 404.

Not visible to the user (another tenant's, outside their unit, or missing) answers exactly like a
missing row: 404. Visible but the action is not allowed: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404

from core import storage

from . import permissions
from .models import ApiToken, Grade, Job, School, SchoolClass
from .permissions import Action

M = TypeVar("M", bound=Model)


def get_visible(model: type[M], *, user: Any, pk: Any, action: Action | None = None) -> M:
    """The row if `user` may see it (and perform `action` on it, if given); else 404 / 403."""
    try:
        obj = model.objects.visible_to(user).get(pk=pk)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    if action is not None and not permissions.can(user, action, obj):
        raise PermissionDenied
    return obj


def school_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> School:
    return get_visible(School, user=user, pk=pk, action=action)


def grade_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Grade:
    return get_visible(Grade, user=user, pk=pk, action=action)


def class_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> SchoolClass:
    return get_visible(SchoolClass, user=user, pk=pk, action=action)


def job_get_for_user(*, user: Any, pk: Any, kind: str | None = None) -> Job:
    """A background job the user may see (who started it, or those who read the audit trail), of
    `kind` if given; 404 otherwise. The one lookup of a job for every page that shows one."""
    job = get_visible(Job, user=user, pk=pk)
    if kind is not None and job.kind != kind:
        raise Http404
    return job


def job_report_get_for_user(
    *, user: Any, pk: Any, kind: str, folder: Callable[[Job], str], default_name: str, suffix: str
) -> tuple[str, str]:
    """(stored name in the uploads storage, download name) of a job's row report, if the user may see
    the job and the report exists; 404 otherwise. The name must lie in the job's own `folder`: a job's
    result never points elsewhere."""
    job = job_get_for_user(user=user, pk=pk, kind=kind)
    relative = (job.result or {}).get("report")
    if not relative:
        raise Http404
    parent, _sep, base = str(relative).rpartition("/")
    if parent != folder(job) or base in {"", ".", ".."} or not storage.uploads().exists(relative):
        raise Http404
    name = Path(job.params.get("name") or default_name).stem
    return relative, f"{name}-{suffix}.xlsx"


def api_token_get_for_user(*, user: Any, pk: Any) -> ApiToken:
    """An API token the user may revoke: their own, or (for whoever manages the accounts of a tenant) one
    of an account of their tenant. 404 otherwise, also for another tenant's."""
    try:
        token = ApiToken.objects.select_related("token__user").get(pk=pk)
    except (ApiToken.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
    owner = token.token.user
    # can() refuses an owner of another tenant (and anyone without a tenant): the one check.
    if owner.pk == user.pk or permissions.can(user, Action.USER_MANAGE, owner):
        return token
    raise Http404
