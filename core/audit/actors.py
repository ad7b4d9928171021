"""Who is acting, and what the rows being written mean: the context the trail's rows are written in.

Set by the request's middleware and the task base (`acting_as`) and by services (`labelled`); read by
the trail when it writes rows (core.audit.trail, core.audit.append).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (web, api, admin) or the system (a task or command on someone's behalf)."""

    user_id: uuid.UUID | None
    label: str
    source: str
    request_id: str = ""


@dataclass(frozen=True)
class Label:
    """What the rows written inside labelled() mean: a state transition and its reason."""

    action: str
    reason: str


_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_label: ContextVar[Label | None] = ContextVar("audit_label", default=None)

SYSTEM = Actor(user_id=None, label="system", source="system")


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute the audit rows written inside to `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def actor_for(user: Any, *, source: str, request_id: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user_id=None, label="anonymous", source=source, request_id=request_id)
    return Actor(user_id=user.pk, label=user.get_username(), source=source, request_id=request_id)


def current_actor() -> Actor:
    return _actor.get() or SYSTEM


@contextmanager
def labelled(action: str, reason: str = "") -> Iterator[None]:
    """Name the rows written inside: a state transition (`application.approve`) and its reason,
    instead of the generic `<model>.update`."""
    token = _label.set(Label(action=action, reason=reason))
    try:
        yield
    finally:
        _label.reset(token)


def current_label() -> Label | None:
    """The label of the rows being written (see labelled), if any."""
    return _label.get()
