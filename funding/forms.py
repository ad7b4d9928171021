"""Forms of the funding pages: computing and adjusting budgets, and the decision to approve without one."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.budgets import RURAL_RESERVE


class BudgetComputeForm(forms.Form):
    """The rural tilt as a percentage on top of what a rural school's identified pupils need."""

    rural_reserve = forms.DecimalField(
        label=_("Rural reserve (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        initial=RURAL_RESERVE * 100,
    )

    def reserve(self) -> Decimal:
        return self.cleaned_data["rural_reserve"] / 100


class BudgetAdjustForm(forms.Form):
    adjustment = forms.DecimalField(label=_("District adjustment"), max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=200)


class BudgetWaiverForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
