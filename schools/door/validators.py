"""Password rule of 等保 level 3: characters from at least three of the four classes."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digits and other characters `password` uses."""
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def generated_password(length: int = 16) -> str:
    """A random password that always passes the rule: the commands that print one for a new account
    (create_tenant, create_region) must never fail on their own draw, as a bare `token_urlsafe` did once
    in a few dozen (no digit, say, or no symbol)."""
    while True:
        password = secrets.token_urlsafe(length)[:length]
        if character_classes(password) >= 3:
            return password


class CharacterClassesValidator:
    """At least `min_classes` of the four classes (upper case, lower case, digits, symbols)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                ngettext(
                    "The password must mix at least %(n)d kind of characters: upper case letters, lower case "
                    "letters, digits, symbols.",
                    "The password must mix at least %(n)d of these kinds of characters: upper case letters, "
                    "lower case letters, digits, symbols.",
                    self.min_classes,
                )
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("At least %(n)d of: upper case letters, lower case letters, digits, symbols.") % {
            "n": self.min_classes
        }
