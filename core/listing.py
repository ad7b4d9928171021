"""Lists people can work with: a FilterSet per list, status tabs counted in one query, a pager with the
total, whitelisted sorting and an export of what is shown.

Every list page builds its `ListFilterSet` (the app's `filters.py`) and hands it to `list_page`, which
returns the context the shared includes read (`includes/list_bar.html`: search, filters, tabs, export;
`includes/list_pager.html`: total and pager; `includes/sort_th.html`: a sortable column head). The
filter state lives only in the GET query string: links are made with Django's `{% querystring %}`, so
nothing parses the query string by hand and a page is bookmarkable and back-button safe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext_lazy as _

from .xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter

#: The query parameter that names the status tab, the sort and the export.
STATUS, SORT, EXPORT = "status", "sort", "export"


class SortFilter(django_filters.OrderingFilter):
    """django-filter's whitelisted ordering, with the primary key last so that pages never overlap."""

    def filter(self, qs: Any, value: Any) -> Any:
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(v) for v in value), "pk")


#: Django's select and its option template; a select drawn with them is drawn with `INLINE_SELECT`
#: instead, the same markup without a template include per option.
_STOCK_SELECT = ("django/forms/widgets/select.html", "django/forms/widgets/select_option.html")
INLINE_SELECT = "core/forms/select.html"


class ListFilterSet(django_filters.FilterSet):
    """The base of every list's FilterSet.

    `user` is the person the list is for: filters that offer rows (schools, programs, semesters) take
    their choices from what that person may see, so another tenant's or unit's id is an invalid
    choice. An invalid filter shows no rows (never silently all of them). `q` is the search box.
    """

    search_label: Any = _("Search")
    status_field: str | None = None  # the model field the status tabs count, if the list has tabs
    status_choices: Sequence[tuple[str, Any]] = ()
    #: Values of `status` that stand for several statuses (the home page's "in review", "open"): accepted
    #: in the URL so that a count links to exactly its rows, but not shown as tabs of their own.
    status_groups: Sequence[tuple[str, Any, Sequence[str]]] = ()
    #: Why the search box found nothing on purpose (a search this person may not make), if it did.
    search_refusal: Any = None

    def __init__(self, data: Any = None, queryset: Any = None, *, user: Any, request: Any = None) -> None:
        self.user = user
        super().__init__(data, queryset, request=request)
        for f in self.filters.values():
            # Choices of rows are the user's: a filter's queryset callable takes the user, not the request.
            if isinstance(f, django_filters.ModelChoiceFilter) and callable(f.queryset):
                f.queryset = f.queryset(user)
        for name, field in self.form.fields.items():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
            if (widget.template_name, getattr(widget, "option_template_name", None)) == _STOCK_SELECT:
                widget.template_name = INLINE_SELECT
            widget.attrs.setdefault("class", css)
            widget.attrs.setdefault("aria-label", str(field.label or name))
            if str(getattr(field, "empty_label", "") or "").startswith("---"):
                field.empty_label = _("All")  # not django-filter's "---------"
            if name == "q":
                widget.input_type = "search"
                widget.attrs.setdefault("placeholder", str(self.search_label))

    @property
    def qs(self) -> Any:
        if not hasattr(self, "_qs"):
            if self.is_bound and not self.is_valid():
                self._qs = self.queryset.none()
            else:
                self._qs = super().qs
        return self._qs

    def queryset_without(self, *names: str) -> Any:
        """The rows filtered by every filter but `names` (the tabs count the other filters' rows)."""
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        qs = self.queryset.all()
        if not self.is_bound:
            return qs
        for name, value in self.form.cleaned_data.items():
            if name in names or name in (SORT,):
                continue
            qs = self.filters[name].filter(qs, value)
        return qs

    def extra_tabs(self) -> list[tuple[str, Any, Q]]:
        """Tabs before "all" that are not a status: (value, label, the rows' condition)."""
        return []

    def values(self) -> dict[str, Any]:
        """The filters' cleaned values; empty when unbound or invalid."""
        if not (self.is_bound and self.is_valid()):
            return {}
        return dict(self.form.cleaned_data)

    @property
    def visible_fields(self) -> list[Any]:
        """The bar's fields: the search box and the selects, not the status (tabs) nor hidden ones."""
        return [f for f in self.form.visible_fields() if f.name not in (STATUS, SORT)]

    @property
    def hidden_fields(self) -> list[Any]:
        return [f for f in self.form.hidden_fields() if f.value() not in (None, "")]


@dataclass(frozen=True)
class Tab:
    value: str
    label: Any
    count: int
    active: bool


def status_tabs(filterset: ListFilterSet, *, cache_for: int | None = None) -> list[Tab]:
    """An "all" tab, the list's own tabs (`extra_tabs`) and one per status, each with its number of
    rows under the other filters.

    One query for all tabs (a COUNT … FILTER per tab in one SELECT), never a count per tab. `cache_for`
    (seconds) keeps the counts per user and filter for a list whose aggregate reads a district's whole
    register (the student list)."""
    field = filterset.status_field
    if not field:
        return []
    active = filterset.values().get(STATUS) or ""
    extras = filterset.extra_tabs()

    def count() -> dict[str, int]:
        counts = {f"t{i}": Count("pk", filter=q) for i, (_v, _l, q) in enumerate(extras)}
        counts |= {f"s{i}": Count("pk", filter=Q(**{field: v})) for i, (v, _l) in enumerate(filterset.status_choices)}
        counts["all"] = Count("pk")
        return filterset.queryset_without(STATUS).order_by().aggregate(**counts)

    if cache_for:
        key = state_key(filterset, "list-tabs", without=(STATUS, SORT))
        counts = cache.get(key)
        if counts is None:
            counts = count()
            cache.set(key, counts, cache_for)
    else:
        counts = count()
    tabs = [Tab(v, label, counts[f"t{i}"], active == v) for i, (v, label, _q) in enumerate(extras)]
    tabs.append(Tab("", _("All"), counts["all"], active == ""))
    tabs += [Tab(v, label, counts[f"s{i}"], active == v) for i, (v, label) in enumerate(filterset.status_choices)]
    return tabs


def state_key(filterset: ListFilterSet, prefix: str, *, without: Sequence[str] = (SORT,)) -> str:
    """A cache key for what the list's user sees under its filters (but `without`): their tenant, the
    user (whose scope decides the rows), the list and a digest of the filters' values."""
    state = sorted((k, str(v)) for k, v in filterset.values().items() if k not in without)
    digest = hashlib.sha256(repr(state).encode()).hexdigest()[:16]
    return f"{prefix}:{filterset.user.tenant_id}:{filterset.user.pk}:{type(filterset).__name__}:{digest}"


class StatusFilter(django_filters.ChoiceFilter):
    """The status tab: a value of the list's `status_field`, or one of its `extra_tabs` ("mine")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", self._choices)
        super().__init__(**kwargs)

    def _choices(self) -> list[tuple[str, Any]]:
        parent = self.parent
        groups = [(v, label) for v, label, _s in parent.status_groups]
        return [(v, label) for v, label, _q in parent.extra_tabs()] + list(parent.status_choices) + groups

    def filter(self, qs: Any, value: Any) -> Any:
        if not value:
            return qs
        for v, _label, q in self.parent.extra_tabs():
            if v == value:
                return qs.filter(q)
        for v, _label, statuses in self.parent.status_groups:
            if v == value:
                return qs.filter(**{f"{self.parent.status_field}__in": list(statuses)})
        return qs.filter(**{self.parent.status_field: value})


def list_page(
    request: HttpRequest,
    filterset: ListFilterSet,
    *,
    per_page: int = 50,
    paginator: Callable[[Any, int], Paginator] = Paginator,
    tabs: list[Tab] | None = None,
    export: bool = False,
    rows: Callable[[Any], Any] | None = None,
    page_rows: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """The context of a list page: the filter set, the page of rows, the tabs and whether it exports.

    `rows` adds what only the shown rows need (per-row counts as annotations) after the filters, so
    the tabs' aggregate and the count do not carry it. `page_rows` does the same once the page is cut:
    it takes the page's rows and adds their figures with one grouped query over them all (where a
    correlated subquery per row and figure would read each row's children once per figure)."""
    pages = paginator(rows(filterset.qs) if rows else filterset.qs, per_page)
    if rows and type(pages) is Paginator:
        pages.count = filterset.qs.count()  # counted without the rows' own counts (no GROUP BY)
    page: Page = pages.get_page(request.GET.get("page"))
    if page_rows is not None:
        page.object_list = page_rows(list(page.object_list))
    return {
        "filter": filterset,
        "page": page,
        "tabs": status_tabs(filterset) if tabs is None else tabs,
        "can_export": export,
        # A tab is not a filter: an empty tab says what to do next, emptied filters offer their clearing.
        "filtered": any(v not in (None, "", []) for k, v in filterset.values().items() if k not in (SORT, STATUS)),
    }


def wants_export(request: HttpRequest) -> bool:
    return request.GET.get(EXPORT) == "xlsx"


@dataclass(frozen=True)
class Column:
    """One column of an export: its heading, how to read it from a row, its width and format."""

    heading: Any
    value: Callable[[Any], Any]
    width: float = 14
    text: bool = False


#: An export holds at most this many rows (a district's register is 100,000 pupils).
EXPORT_LIMIT = 200_000


def export_xlsx(rows: QuerySet[Any], columns: Sequence[Column], *, filename: str) -> FileResponse:
    """The filtered rows (all pages, not only the one shown) as an xlsx file, streamed row by row.

    Personal numbers are written as the page shows them: a `Sensitive` value's str() is masked."""
    buffer = io.BytesIO()
    with (
        XlsxWriter(buffer) as book,
        book.sheet("Sheet1", [ColumnFormat(c.width, text=c.text) for c in columns]) as sheet,
    ):
        sheet.row([str(c.heading) for c in columns], style=STYLE_BOLD)
        for row in rows[:EXPORT_LIMIT].iterator(chunk_size=2000):
            sheet.row([_cell(c.value(row)) for c in columns])
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    return str(value)  # a Sensitive value's str() is its masked form
