"""Small helpers of the pages, shared by every app's views (imports no app)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def refusal_to_messages(request: HttpRequest, error: ValidationError) -> None:
    """A service's refusal, shown on the next page as the error messages it carries."""
    for message in error.messages:
        messages.error(request, message)
