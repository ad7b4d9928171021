"""Forms of the registry pages: the upload, the sample file of a mapping, and the mapping itself."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import RegistrySource
from .fields import FIELDS, SOURCE_DEFAULT_CATEGORY
from .selectors import mapping_list

ACCEPT = ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"


class RegistryUploadForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=RegistrySource.choices)
    mapping = forms.ModelChoiceField(
        label=_("Column mapping"), queryset=None, required=False, empty_label=_("The usual column headers")
    )
    taken_on = forms.DateField(label=_("As of"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label=_("List (.xlsx or .csv)"), widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = mapping_list(user=user)
        self.fields["taken_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mapping = data.get("mapping")
        if mapping is not None and mapping.source != data.get("source"):
            self.add_error("mapping", _("This column mapping belongs to another source."))
        return data


class SampleForm(forms.Form):
    """Step 1 of a mapping: the source and a sample of its file, whose header row is read."""

    source = forms.ChoiceField(label=_("Source"), choices=RegistrySource.choices)
    sample = forms.FileField(
        label=_("Sample file (.xlsx or .csv)"), widget=forms.ClearableFileInput(attrs={"accept": ACCEPT})
    )


class MappingForm(forms.Form):
    """Step 2: one select per field of a registry row, offering the sample's headers."""

    source = forms.ChoiceField(choices=RegistrySource.choices, widget=forms.HiddenInput)
    headers = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Mapping name"), max_length=60)
    default_category = forms.ChoiceField(label=_("Category when the file has none"), required=False)

    def __init__(self, *args: Any, headers: list[str], categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_category"].choices = [("", "—"), *categories]
        offered = [("", "—"), *((h, h) for h in headers)]
        for f in FIELDS:
            self.fields[f"col_{f.key}"] = forms.ChoiceField(label=f.label, choices=offered, required=f.required)

    @classmethod
    def headers_from(cls, data: Any) -> list[str]:
        """The sample's headers carried by the form (step 2 posts them back)."""
        try:
            headers = json.loads(data.get("headers") or "[]")
        except ValueError:
            return []
        return [str(h) for h in headers if isinstance(h, str)][:200] if isinstance(headers, list) else []

    @classmethod
    def initial_for(cls, *, source: str, headers: list[str], suggested: dict[str, str]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "source": source,
            "headers": json.dumps(headers, ensure_ascii=False),
            "default_category": SOURCE_DEFAULT_CATEGORY[RegistrySource(source)],
        }
        initial.update({f"col_{key}": header for key, header in suggested.items()})
        return initial

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{f.key}"] for f in FIELDS]

    def columns(self) -> dict[str, str]:
        return {f.key: self.cleaned_data.get(f"col_{f.key}") or "" for f in FIELDS}
