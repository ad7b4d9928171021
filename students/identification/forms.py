"""Forms of the identification pages. Validation of input only; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import clock
from core.web import StyledForm

from ..models import AttachmentKind, HardshipCategory, Tier

DECISION_CHOICES = [
    ("approve", _("Approve")),
    ("return", _("Return to the step before")),
    ("reject", _("Reject")),
    ("withdraw", _("Withdraw")),
]


#: The browser's date picker wants ISO dates whatever the language of the page.
DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class NominationForm(StyledForm):
    """申请/推荐. The school year is chosen (the current one first), so that an earlier year's list can be
    recorded without moving the clock. Ticking a special category selects the tenant's tier for it
    (static/js/nominate.js, visibly, before the teacher submits); a tier the teacher then chooses stands."""

    academic_year = forms.TypedChoiceField(label=_("School year"), coerce=int)
    proposed_tier = forms.ChoiceField(
        label=_("Proposed tier"),
        required=False,
        choices=[("", _("— as the special category says —")), *Tier.choices],
    )
    categories = forms.MultipleChoiceField(
        label=_("Special categories"), required=False, widget=forms.CheckboxSelectMultiple
    )
    family_situation = forms.CharField(label=_("Family situation"), widget=forms.Textarea(attrs={"rows": 4}))
    visit_on = forms.DateField(label=_("Home visit date"), required=False, widget=DATE)
    visit_by = forms.CharField(label=_("Visited by"), required=False, max_length=100)
    visit_findings = forms.CharField(
        label=_("Home visit findings"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, special_tier: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(HardshipCategory.objects.filter(is_active=True).order_by("sort_order", "code"))
        self.fields["categories"].choices = [
            (c.code, f"{c.name}{'（特殊困难，免证明）' if c.is_special else ''}") for c in categories
        ]
        self.fields["academic_year"].choices = clock.school_year_choices()
        self.fields["academic_year"].initial = clock.current_school_year()
        # What the page's script needs to apply the policy where the teacher sees it.
        self.special_codes = ",".join(c.code for c in categories if c.is_special)
        self.special_tier = special_tier
        self.special_tier_label = Tier(special_tier).label if special_tier else ""


class DetailsForm(StyledForm):
    class_evaluation = forms.CharField(
        label=_("Class evaluation (the class committee's result)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    visit_on = forms.DateField(label=_("Home visit date"), required=False, widget=DATE)
    visit_by = forms.CharField(label=_("Visited by"), required=False, max_length=100)
    visit_findings = forms.CharField(
        label=_("Home visit findings"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AttachmentForm(StyledForm):
    kind = forms.ChoiceField(label=pgettext_lazy("attachment", "Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("File"))

    MAX_BYTES = 10 * 1024 * 1024
    ALLOWED = {"application/pdf", "image/jpeg", "image/png"}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        head = upload.read(8)
        upload.seek(0)
        if not (head.startswith(b"%PDF") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")):
            raise forms.ValidationError(_("Upload a PDF, JPEG or PNG file."))
        return upload


class VillageForm(StyledForm):
    confirmed_by = forms.CharField(label=_("Confirmed by (village or community committee)"), max_length=100)
    confirmed_on = forms.DateField(label=_("Confirmed on"), widget=DATE)


class DecisionForm(StyledForm):
    decision = forms.ChoiceField(choices=DECISION_CHOICES)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    expected_status = forms.CharField(widget=forms.HiddenInput)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", "—"), *Tier.choices])


class BulkDecisionForm(StyledForm):
    decision = forms.ChoiceField(choices=DECISION_CHOICES[:3])
    reason = forms.CharField(label=_("Reason"), required=False)
    ids = forms.CharField(widget=forms.MultipleHiddenInput, required=False)


class RecordHeldForm(StyledForm):
    """补录 of a publicity held on paper: its dates and the principal who signed it."""

    starts_on = forms.DateField(label=_("Public from"), widget=DATE)
    ends_on = forms.DateField(label=_("Public until"), widget=DATE)
    signed_by_name = forms.CharField(label=_("Signed by (principal, as on the paper list)"), max_length=100)


class PublicityForm(StyledForm):
    academic_year = forms.TypedChoiceField(label=_("School year"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].choices = clock.school_year_choices()
        self.fields["academic_year"].initial = clock.current_school_year()


class ObjectionForm(StyledForm):
    application = forms.UUIDField(required=False)  # rendered as a select of the list's students
    raised_by = forms.CharField(label=_("Raised by"), max_length=100, initial="匿名")
    channel = forms.CharField(label=_("How (letter, phone, in person)"), max_length=50, required=False)
    content = forms.CharField(label=_("What"), widget=forms.Textarea(attrs={"rows": 3}))
    received_on = forms.DateField(label=_("Received on"), widget=DATE)


class ResolveForm(StyledForm):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Upheld: take the student off the list")), ("0", _("Dismissed"))],
    )
    decision = forms.CharField(label=_("Grounds"), widget=forms.Textarea(attrs={"rows": 2}))


class AdjustmentForm(StyledForm):
    to_tier = forms.ChoiceField(label=_("New tier"), choices=Tier.choices)
    reason = forms.CharField(label=_("What changed"), widget=forms.Textarea(attrs={"rows": 2}))


class AdjustmentDecisionForm(StyledForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"), coerce=lambda v: v == "1", choices=[("1", _("Approve")), ("0", _("Reject"))]
    )
    reason = forms.CharField(label=_("Reason"), required=False)


class ClassEvaluationRowForm(StyledForm):
    """One pupil's row of the class page (班级评议): left empty, the row is not recorded."""

    application = forms.UUIDField(widget=forms.HiddenInput)
    class_evaluation = forms.CharField(label=_("Class evaluation"), required=False, max_length=2000)
    visit_on = forms.DateField(label=_("Home visit date"), required=False, widget=DATE)
    visit_by = forms.CharField(label=_("Visited by"), required=False, max_length=100)
    visit_findings = forms.CharField(label=_("Home visit findings"), required=False, max_length=2000)

    def is_filled(self) -> bool:
        data = self.cleaned_data
        return any(data.get(name) for name in ("class_evaluation", "visit_on", "visit_by", "visit_findings"))


class VillageRowForm(StyledForm):
    """One pupil's row of the school's page (村委会确认): both fields, or neither."""

    application = forms.UUIDField(widget=forms.HiddenInput)
    confirmed_by = forms.CharField(label=_("Confirmed by"), required=False, max_length=100)
    confirmed_on = forms.DateField(label=_("Confirmed on"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if bool(data.get("confirmed_by", "").strip()) != bool(data.get("confirmed_on")):
            raise forms.ValidationError(_("Give both the committee and the date, or neither."))
        return data

    def is_filled(self) -> bool:
        return bool(self.cleaned_data.get("confirmed_on"))


ClassEvaluationFormSet = forms.formset_factory(ClassEvaluationRowForm, extra=0, max_num=300, absolute_max=300)
VillageFormSet = forms.formset_factory(VillageRowForm, extra=0, max_num=300, absolute_max=300)
