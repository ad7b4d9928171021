"""Paginators for long lists whose exact total costs more than their page: one counts only as far as it
shows (the requested page and a few after it), the other keeps its total for a while."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
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


class CachedCountPaginator(Paginator):
    """Django's paginator, with the total kept `ttl` seconds under `key` (the list, the user, the filters).

    For a list whose exact total reads more than its page: the watch list's pupils are found by walking
    the user's pupils in the list's order and stopping at the page, but counting them all tests every
    pupil of a district (about 100 ms at 100,000). The total may lag the rows by `ttl`; a page is never
    cut short by a total that lags (its rows are the query's, not the count's)."""

    def __init__(
        self, object_list: Any, per_page: int, *, key: str, ttl: int, count: Callable[[], int] | None = None
    ) -> None:
        super().__init__(object_list, per_page)
        self.key = key
        self.ttl = ttl
        self.count_rows = count  # counts the same rows another way (cheaper to count than the page's)

    @cached_property
    def count(self) -> int:
        found = cache.get(self.key)
        if found is None:
            found = self.count_rows() if self.count_rows else super().count
            cache.set(self.key, found, self.ttl)
        return found

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)  # type: ignore[attr-defined]
