"""API tokens: only a digest is stored, every token expires, and a dumped row signs nobody in.

The table is django-rest-knox's (`knox.AuthToken`: the SHA-512 digest of the key, its owner, when it
expires). Two departures from knox's own issue and lookup, both so that the row holds no part of the
key: knox keeps the key's first 15 characters in clear (`token_key`) to find the row; here the row is
found by its digest (the primary key), which a database dump cannot turn back into a key, and
`token_key` stays empty (knox's own authentication therefore never matches one of these rows). An
expired token is refused, not deleted: revoking and listing are the owner's (schools.services).
"""

from __future__ import annotations

import binascii
import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken, get_digest_token
from knox.settings import knox_settings
from rest_framework.exceptions import AuthenticationFailed

INVALID_TOKEN = _("Invalid or expired token.")


def token_ttl() -> dt.timedelta:
    """How long a new token lives (settings.REST_KNOX["TOKEN_TTL"])."""
    ttl: dt.timedelta = knox_settings.TOKEN_TTL
    return ttl


def token_issue(*, user: Any) -> tuple[AuthToken, str]:
    """A new token row for `user` and its key. The key exists only in the return value: the row holds
    its digest and nothing else of it."""
    digest, key = get_digest_token()
    row = AuthToken(digest=digest, token_key="", user=user, expiry=timezone.now() + token_ttl())
    row.save(force_insert=True)
    return row, key


def token_find(key: str) -> AuthToken | None:
    """The unexpired row of `key`, with its user; None for an unknown, revoked or expired key."""
    try:
        digest = hash_token(key)
    except (TypeError, ValueError, binascii.Error):
        return None
    alive = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return AuthToken.objects.select_related("user").filter(alive, digest=digest).first()


def token_locked(*, digest: str) -> AuthToken | None:
    """The row of `digest`, locked for its revocation; None if it is gone already."""
    return AuthToken.objects.select_for_update().filter(digest=digest).first()


class HashedTokenAuthentication(TokenAuthentication):
    """knox's `Authorization: Token <key>` scheme, finding the row by the key's digest."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed(INVALID_TOKEN) from exc
        row = token_find(key)
        if row is None:
            raise AuthenticationFailed(INVALID_TOKEN)
        found: tuple[Any, AuthToken] = self.validate_user(row)
        return found


class HashedTokenScheme(KnoxTokenScheme):
    """The API schema's description of the scheme: knox's (`Authorization: Token <key>`)."""

    target_class = "core.tokens.HashedTokenAuthentication"
    name = "tokenAuth"
