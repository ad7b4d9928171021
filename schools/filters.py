"""The schools page's list filter (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter

from .models import Area, School


class SchoolFilter(ListFilterSet):
    """学校: by name or code, area and township."""

    search_label = _("School name or code")

    q = django_filters.CharFilter(method="search", label=_("School name or code"), max_length=50)
    area = django_filters.ChoiceFilter(label=_("Area"), choices=Area.choices)
    township = django_filters.CharFilter(
        field_name="township", lookup_expr="contains", label=_("Township"), max_length=50
    )
    sort = SortFilter(fields=(("code", "code"), ("name", "name"), ("township", "township")))

    class Meta:
        model = School
        fields: list[str] = []

    def search(self, qs: Any, _name: str, value: str) -> Any:
        value = value.strip()
        return qs.filter(Q(name__contains=value) | Q(code__startswith=value)) if value else qs
