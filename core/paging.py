"""A paginator for long lists that counts only as far as it shows: the requested page and a few after it."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property


class LookaheadPaginator(Paginator):
    """Django's paginator, but `count` stops `lookahead` pages past the requested one.

    An exact COUNT(*) over a district's 100,000 pupils under row-level security costs more than the
    page itself (docs/benchmarks.md, "List pages under load"); counting at most (page + lookahead) ×
    per_page rows through the list's own ordered index costs what showing them does. `exact` tells
    the template whether `count` is the total or a lower bound ("more than …"). Give it a queryset
    whose ordering an index serves, or the bounded count sorts everything anyway.
    """

    def __init__(self, object_list: Any, per_page: int, *, lookahead: int = 10) -> None:
        super().__init__(object_list, per_page)
        self.lookahead = lookahead
        self.exact = True
        self._limit = per_page * (1 + lookahead)

    def get_page(self, number: Any) -> Page:
        try:
            requested = max(int(number), 1)
        except (TypeError, ValueError):
            requested = 1
        self._limit = self.per_page * (requested + self.lookahead)
        return super().get_page(number)

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list[: self._limit + 1]  # a queryset: COUNT(*) over a LIMIT subquery
        found = rows.count()
        if found > self._limit:
            self.exact = False
            return self._limit
        return found
