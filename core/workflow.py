"""One way to change a status: django-fsm-2 transitions declared on the model, fired by the owning
app's services.

Every workflow with a status (applications, publicity, award lists, awards, batches, payment lines,
corrections, recoveries) declares its states and transitions once, on its model, with django-fsm's
`@transition` over a protected `FSMField`: the field cannot be assigned, only transitioned. Services
fire them in two ways, both from that one declaration:

- **one row**: call the transition method (its conditions and permission apply), then `save()`;
- **many rows** (a batch's lines, a list's awards): `bulk_transition(queryset, "release")`, one
  `UPDATE … SET status = <target> WHERE status IN (<sources>)` whose sources and target are read from
  the same declaration, so set-based work cannot do what the one-row path forbids. The update goes
  through the tenant queryset, so every changed row is audited as usual.

`transition_named` gives the declared transition (sources, target, permission) through django-fsm's
public API, for questions like "may this user fire it?" asked before firing.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django_fsm import Transition


def _field(model: type[models.Model], field: str) -> Any:
    return model._meta.get_field(field)


def transitions_named(model: type[models.Model], name: str, *, field: str = "status") -> list[Transition]:
    """Every declared transition of the method `name` (one per source state)."""
    found = [t for t in _field(model, field).get_all_transitions(model) if t.name == name]
    if not found:
        raise LookupError(f"{model.__name__} declares no transition {name!r} on {field}")
    return found


def transition_named(instance: models.Model, name: str, *, field: str = "status") -> Transition | None:
    """The transition `name` from the instance's current state, or None if it cannot start there."""
    state = getattr(instance, field)
    for t in transitions_named(type(instance), name, field=field):
        if t.source in ("*", state) or (t.source == "+" and t.target != state):
            return t
    return None


def bulk_transition(queryset: models.QuerySet, name: str, *, field: str = "status", **values: Any) -> int:
    """Fire the transition `name` on every row of `queryset` that may take it, in one UPDATE (with
    `values` set too). Transitions with conditions are per-row decisions and are refused here."""
    model = queryset.model
    declared = transitions_named(model, name, field=field)
    targets = {t.target for t in declared}
    if len(targets) != 1 or any(t.conditions for t in declared):
        raise ValueError(f"{model.__name__}.{name} cannot be fired in bulk")
    target = targets.pop()
    sources = {t.source for t in declared}
    if "+" in sources:  # django-fsm: any state but the target
        queryset = queryset.exclude(**{field: target})
    elif "*" not in sources:
        queryset = queryset.filter(**{f"{field}__in": sorted(str(s) for s in sources)})
    if any(f.name == "updated_at" for f in model._meta.concrete_fields) and "updated_at" not in values:
        values["updated_at"] = timezone.now()  # an UPDATE skips auto_now: say when the state changed
    return queryset.update(**{field: target, **values})
