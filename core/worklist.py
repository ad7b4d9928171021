"""What waits for whom: each app registers providers of work items for the home page.

A provider takes the user and returns the items waiting for them (reads through the scoping helper
only). Apps register in their AppConfig.ready(), so the home page knows nothing of their models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkItem:
    label: str
    count: int
    url: str
    hint: str = ""
    kind: str = "todo"  # "todo": someone must act; "info": worth knowing


Provider = Callable[[Any], list[WorkItem]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def items_for(user: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    for provider in _providers:
        items.extend(provider(user))
    return items
