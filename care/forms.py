"""Forms of dropout control. They read input only; the services decide."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.web import StyledForm

from .models import AbsenceReason, ChiefRole, NoticeLevel, Placement, StepKind

#: A pupil's row in the class form is the field `r_<pupil id>`: empty = present.
ROW_PREFIX = "r_"


class AttendanceForm(forms.Form):
    """The class's day: a date, and one reason per absent pupil (posted as r_<id>)."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.absences: dict[uuid.UUID, str] = {}

    def clean(self):
        data = super().clean()
        for key, value in self.data.items():
            if not key.startswith(ROW_PREFIX) or not value:
                continue
            if value not in AbsenceReason.values:
                raise forms.ValidationError(_("Unknown absence reason: %(reason)s.") % {"reason": value})
            try:
                self.absences[uuid.UUID(key[len(ROW_PREFIX) :])] = value
            except ValueError:
                raise forms.ValidationError(_("The form names a pupil that does not exist.")) from None
        return data


class TransitionForm(StyledForm):
    name = forms.CharField(max_length=30)
    expected_status = forms.CharField(max_length=12, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    placement = forms.ChoiceField(label=_("Placement"), choices=[("", "—"), *Placement.choices], required=False)


class StepForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("What was done"), choices=[(k, v) for k, v in StepKind.choices if k != StepKind.STATUS]
    )
    done_on = forms.DateField(label=_("Date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    next_on = forms.DateField(
        label=_("Next step due"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), required=False
    )
    notice_level = forms.TypedChoiceField(
        label=_("Notice"), choices=[("", "—"), *NoticeLevel.choices], coerce=int, empty_value=None, required=False
    )


class ResponsibleForm(StyledForm):
    role = forms.ChoiceField(label=_("Responsibility"), choices=ChiefRole.choices)
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
