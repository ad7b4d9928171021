"""Forms of the pairing pages. They read input only; the services decide."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import RiskKind

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"})


def _text(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "form-control"})


class UUIDListField(forms.Field):
    """Ids posted under one name (ticked checkboxes): a list of UUIDs, malformed ones refused."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [uuid.UUID(str(v)) for v in (value or [])]
        except ValueError:
            raise forms.ValidationError(_("The form names a pupil that does not exist.")) from None


class PairingAssignForm(forms.Form):
    """结对 in bulk: one teacher, the pupils ticked."""

    teacher = forms.UUIDField(label=_("Teacher"))
    students = UUIDListField(label=_("Pupils"), required=False)


class VisitForm(forms.Form):
    """走访: what a paired teacher records from a phone after a visit."""

    visited_on = forms.DateField(label=_("Visit date"), widget=DATE)
    met = forms.CharField(
        label=_("Who was met"), max_length=200, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    situation = forms.CharField(label=_("The family's situation"), required=False, widget=_text(4))
    needs = forms.CharField(label=_("Needs"), required=False, widget=_text())
    follow_ups = forms.CharField(label=_("Follow-ups"), required=False, widget=_text())
    next_due_on = forms.DateField(
        label=_("Next visit due"), required=False, widget=DATE, help_text=_("empty: the district's usual interval")
    )


class RiskFlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Risk"), choices=RiskKind.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
