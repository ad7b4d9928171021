from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CheckMethod, CheckResult
from .services import MAX_SEED


class DrawForm(forms.Form):
    """How many paid lines to check: a number, or a share; the seed if the district chooses one."""

    batch = forms.UUIDField()
    size = forms.IntegerField(label=_("Lines to check"), required=False, min_value=1, max_value=1_000_000)
    percent = forms.DecimalField(
        label=_("or a share (%)"), required=False, min_value=Decimal("0.01"), max_value=Decimal(100), decimal_places=2
    )
    seed = forms.IntegerField(label=_("Seed (optional)"), required=False, min_value=0, max_value=MAX_SEED)

    def clean(self):
        data = super().clean()
        if (data.get("size") is None) == (data.get("percent") is None):
            raise forms.ValidationError(
                _("Say how many lines to check (a number) or what share of them (a percentage up to 100).")
            )
        return data


class RecordForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=CheckResult.choices)
    method = forms.ChoiceField(label=_("How"), choices=CheckMethod.choices)
    checked_on = forms.DateField(label=_("Date"))
    contact = forms.CharField(label=_("Who was asked, by whom"), max_length=100)
    received_amount = forms.DecimalField(
        label=_("Amount received"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class FollowUpForm(forms.Form):
    decision = forms.ChoiceField(choices=[("resolve", "resolve"), ("correct", "correct")])
    text = forms.CharField(max_length=2000)
