"""Input of the money's pages: types and shapes only; the rules (who, when, how much) are the services'.

Fields the services check themselves (a reason that must be given, an amount within what is owed)
are optional here, so the person reads the service's own message."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BatchKind

MSG_AMOUNT = _("Give the amount in yuan, e.g. 125.50.")


class BatchBuildForm(forms.Form):
    kind = forms.ChoiceField(choices=BatchKind.choices, required=False)

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or BatchKind.FIRST


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000)


class CorrectionProposeForm(ReasonForm):
    evidence = forms.CharField(required=False, max_length=4000)


class DecisionForm(ReasonForm):
    approve = forms.CharField(required=False)

    def clean_approve(self) -> bool:
        return self.cleaned_data["approve"] == "1"


class IdListField(forms.Field):
    """Ids ticked in a list (checkboxes named alike): any number of UUIDs. Which of them may be acted on
    is the service's question (only the batch's own lines that may still leave it)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[uuid.UUID]:
        try:
            return [uuid.UUID(str(v)) for v in value or []]
        except ValueError:
            raise forms.ValidationError(_("The list names a line that does not exist.")) from None


class LinesExcludeForm(ReasonForm):
    lines = IdListField(required=False)


class RecoveryRecordForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, error_messages={"invalid": MSG_AMOUNT, "required": MSG_AMOUNT}
    )
    note = forms.CharField(required=False, max_length=2000)


class RosterExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "CSV")], required=False)
    bank = forms.CharField(required=False, max_length=50)

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or "xlsx"


class ReturnUploadForm(forms.Form):
    file = forms.FileField(error_messages={"required": _("Choose the bank's return file.")})
