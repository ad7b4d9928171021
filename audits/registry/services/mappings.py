"""A department's column mappings: which header names which field, and which cell text which
category. The district saves one per department and reuses it for the next month's file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from schools import permissions
from schools.permissions import Action
from students.models import HardshipCategory

from ...models import ColumnMapping, RegistrySource
from ..fields import CATEGORY_ALIASES, FIELD_KEYS, FIELDS, SOURCE_DEFAULT_CATEGORY, normalise_header

MSG_MAPPING_SOURCE = _("This column mapping belongs to another source.")
MSG_MAPPING_COLUMNS = _("Map at least the columns %(fields)s.")


def mapping_save(
    *,
    actor: Any,
    source: str,
    name: str,
    columns: dict[str, str],
    category_values: dict[str, str] | None = None,
    default_category: str = "",
) -> ColumnMapping:
    """Create or change the named mapping of a source (the district sets it once and reuses it)."""
    permissions.require(actor, Action.REGISTRY_IMPORT)
    source = RegistrySource(source)
    columns = {k: v.strip() for k, v in columns.items() if k in FIELD_KEYS and v and v.strip()}
    missing = [str(f.label) for f in FIELDS if f.required and f.key not in columns]
    if missing:
        raise ValidationError(MSG_MAPPING_COLUMNS % {"fields": "、".join(missing)})
    codes = set(HardshipCategory.objects.values_list("code", flat=True))
    values = {k.strip(): v for k, v in (category_values or {}).items() if k.strip() and v in codes}
    if default_category and default_category not in codes:
        raise ValidationError(_("Unknown category: %(code)s") % {"code": default_category})
    with transaction.atomic(), trail.labelled("registry.mapping_save"):
        mapping = ColumnMapping.objects.filter(source=source, name=name.strip()).first() or ColumnMapping(
            source=source, name=name.strip()[:60], created_by=actor
        )
        mapping.columns, mapping.category_values, mapping.default_category = columns, values, default_category
        mapping.save()
    return mapping


def default_mapping(source: str) -> ColumnMapping:
    """An unsaved mapping using the usual header words, for files without a saved mapping."""
    return ColumnMapping(
        source=source,
        name="",
        columns={f.key: f.aliases[0] for f in FIELDS if f.key in ("name", "id_number", "category")},
        default_category=SOURCE_DEFAULT_CATEGORY[RegistrySource(source)],
    )


def category_lookup(mapping: ColumnMapping) -> dict[str, str]:
    """Cell text (normalised) → category code: the mapping's own words first, then the categories'
    names and codes, then the words departments commonly use."""
    lookup = {normalise_header(k): v for k, v in CATEGORY_ALIASES.items()}
    for code, name in HardshipCategory.objects.values_list("code", "name"):
        lookup[normalise_header(code)] = code
        lookup[normalise_header(name)] = code
    lookup.update({normalise_header(k): v for k, v in (mapping.category_values or {}).items()})
    return lookup
