"""Authorisation hooks: the kernel asks, the product's permission module answers.

The one scoping helper (`TenantQuerySet.visible_to`) and the API's permission adapter need answers
from the permission module (`schools.permissions`: roles, their units, the policy), which stands
above the kernel. So that the kernel imports no app, that module installs itself here when its app is
ready (`SchoolsConfig.ready`). Until it has, every question raises: a missing policy is a
configuration error, never "allowed" and never silently "nothing".
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q


class Policy(Protocol):
    def can(self, user: Any, action: Any, obj: Any = None) -> bool: ...

    def scope_q(self, user: Any, action: Any, model: type[Model]) -> Q: ...


_policy: Policy | None = None


def install(policy: Policy) -> None:
    """Make `policy` the one that answers (called once, by the permission module's app)."""
    global _policy
    _policy = policy


def _installed() -> Policy:
    if _policy is None:
        raise ImproperlyConfigured("no permission policy is installed (is the schools app in INSTALLED_APPS?)")
    return _policy


def can(user: Any, action: Any, obj: Any = None) -> bool:
    """May `user` perform `action` (on `obj`, if given)?"""
    return _installed().can(user, action, obj)


def scope_q(user: Any, action: Any, model: type[Model]) -> Q:
    """The rows of `model` that `user` may perform `action` on, as a filter."""
    return _installed().scope_q(user, action, model)
