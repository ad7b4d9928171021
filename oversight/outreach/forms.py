from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OutreachKind


class OutreachForm(forms.Form):
    school = forms.UUIDField()
    klass = forms.UUIDField(required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=OutreachKind.choices)
    held_on = forms.DateField(label=_("Date"))
    audience = forms.IntegerField(label=_("People reached"), min_value=0, max_value=1_000_000)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    evidence = forms.FileField(label=_("Evidence (optional)"), required=False)
