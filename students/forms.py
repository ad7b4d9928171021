from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EnrollmentStatus


class StudentFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or ID number"), required=False, max_length=50)
    school = forms.UUIDField(required=False, widget=forms.HiddenInput)
    grade = forms.UUIDField(required=False, widget=forms.HiddenInput)
    klass = forms.UUIDField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Enrollment status"), required=False, choices=[("", _("All")), *EnrollmentStatus.choices]
    )
