from django import forms
from django.utils.translation import gettext_lazy as _

from core import clock

from .services import academic_years


class MigrationUploadForm(forms.Form):
    academic_year = forms.TypedChoiceField(label=_("Academic year of the list"), coerce=int, choices=())
    file = forms.FileField(
        label=_("Identified list (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Chosen explicitly, never assumed: a district often brings last year's list as well.
        self.fields["academic_year"].choices = [
            ("", "---------"),
            *((y, clock.school_year_label(y)) for y in academic_years(today=clock.today())),
        ]
