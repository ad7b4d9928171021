"""Forms of the weekly return. They read input only; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class WeeklyReturnForm(forms.Form):
    """The officer's submit: the week, a note, and the counts they reviewed (the service refuses if the
    cases moved meanwhile)."""

    week = forms.DateField(label=_("Week"))
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)
    seen_dropouts = forms.IntegerField(min_value=0)
    seen_suspected = forms.IntegerField(min_value=0)
