"""Small helpers of the pages, shared by every app's views (imports no app)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest

#: The browser's date picker wants ISO dates whatever the language of the page.
DATE_INPUT_FORMAT = "%Y-%m-%d"


class StyledForm(forms.Form):
    """Bootstrap's classes on the widgets, so templates can render fields plainly (and a field never
    comes out at the browser's default width, which on a phone is wider than the column it sits in)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput | forms.MultipleHiddenInput):
                continue
            widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


def refusal_to_messages(request: HttpRequest, error: ValidationError) -> None:
    """A service's refusal, shown on the next page as the error messages it carries."""
    for message in error.messages:
        messages.error(request, message)


@contextmanager
def service_messages(request: HttpRequest, *, success: str = "") -> Iterator[None]:
    """Run a service call for the person: a refusal (ValidationError) is shown on the next page as its
    messages and goes no further; otherwise `success` is shown. The view redirects either way.

        with service_messages(request, success=_("Confirmed.")):
            batches.batch_confirm_school(actor=request.user, batch=batch, school=school)
    """
    try:
        yield
    except ValidationError as error:
        refusal_to_messages(request, error)
    else:
        if success:
            messages.success(request, success)


def form_errors_to_messages(request: HttpRequest, form: BaseForm) -> None:
    """A posted form that did not validate, shown on the next page as what is missing or wrong, field by
    field ("Confirmed by: This field is required."): a page that redirects after a POST has nowhere
    else to show them, and silence reads as success."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
