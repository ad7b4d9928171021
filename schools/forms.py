"""Forms of the schools pages: the platform operator's upload of a year of the official calendar; the name
of a new API token."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .official_calendar.files import MAX_BYTES

ACCEPT = ".csv,text/csv"


class OfficialCalendarForm(forms.Form):
    year = forms.IntegerField(label=_("Calendar year"), min_value=2000, max_value=2100)
    file = forms.FileField(
        label=_("The State Council's schedule (.csv: date, kind, name)"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_file(self) -> UploadedFile:
        upload: Any = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:  # refused before it is read
            raise forms.ValidationError(_("The file is too large for one year's schedule (at most 64 KB)."))
        return upload


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Device or program"),
        max_length=60,
        help_text=_('So that you recognise the token in this list, e.g. "roster sync on the office PC".'),
    )
