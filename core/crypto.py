"""Personal data at rest: field encryption, blind indexes, masking.

ID numbers (身份证号) and bank or funding-card account numbers of minors are stored encrypted with
AES-256-GCM (the `cryptography` package), found by exact match through a keyed hash (a blind index),
and handled in memory as `Sensitive` values whose text form is always the masked one. Code that
needs the full value must call `.reveal()`, and the services that do so write an audit row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@dataclass(frozen=True)
class _Keyring:
    current_id: str
    keys: dict[str, AESGCM]
    blind_key: bytes
    audit_key: bytes


def _derived(label: str) -> bytes:
    # Development only (DEBUG): keys derived from SECRET_KEY so that nothing needs configuring.
    # Elsewhere explicit keys are required (here and in core.checks), because rotating SECRET_KEY
    # must never make the register unreadable.
    return hashlib.sha256(f"{label}:{settings.SECRET_KEY}".encode()).digest()


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64 of 32 random bytes)")
    return raw


@cache
def keyring() -> _Keyring:
    """The configured keys, parsed once per process."""
    if not settings.DEBUG and not (
        settings.FIELD_ENCRYPTION_KEYS and settings.BLIND_INDEX_KEY and settings.AUDIT_HMAC_KEY
    ):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY and AUDIT_HMAC_KEY must be set outside DEBUG"
        )
    keys: dict[str, AESGCM] = {}
    entries = list(settings.FIELD_ENCRYPTION_KEYS) or [f"dev:{base64.b64encode(_derived('field')).decode()}"]
    for entry in entries:
        key_id, sep, text = entry.partition(":")
        if not sep or not key_id.isalnum():
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries look like 'k1:<base64 of 32 bytes>'")
        keys[key_id] = AESGCM(_decode_key(text, f"FIELD_ENCRYPTION_KEYS[{key_id}]"))
    current_id = entries[0].partition(":")[0]
    blind = _decode_key(settings.BLIND_INDEX_KEY, "BLIND_INDEX_KEY") if settings.BLIND_INDEX_KEY else None
    audit = _decode_key(settings.AUDIT_HMAC_KEY, "AUDIT_HMAC_KEY") if settings.AUDIT_HMAC_KEY else None
    return _Keyring(
        current_id=current_id,
        keys=keys,
        blind_key=blind or _derived("blind-index"),
        audit_key=audit or _derived("audit-chain"),
    )


def new_key() -> str:
    """A fresh random key in the settings' format (base64 of 32 bytes)."""
    return base64.b64encode(os.urandom(32)).decode()


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with the current key. `context` (the field's kind) is bound as associated data, so a
    ciphertext copied into another kind of field does not decrypt."""
    return encrypter()(plaintext, context)


def encrypter() -> Callable[[str, str], str]:
    """`encrypt(plaintext, context)` bound to the current key, for bulk work (a roster import encrypts
    hundreds of thousands of numbers): the same ciphertexts, without looking up the key and encoding
    the context for each value."""
    ring = keyring()
    key_id, aead = ring.current_id, ring.keys[ring.current_id]
    contexts: dict[str, bytes] = {}

    def encrypt_bound(plaintext: str, context: str) -> str:
        associated = contexts.get(context)
        if associated is None:
            associated = contexts[context] = context.encode()
        nonce = os.urandom(12)
        return f"{key_id}${base64.b64encode(nonce + aead.encrypt(nonce, plaintext.encode(), associated)).decode()}"

    return encrypt_bound


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value written by `encrypt`, with whichever configured key wrote it."""
    key_id, sep, body = token.partition("$")
    aead = keyring().keys.get(key_id)
    if not sep or aead is None:
        raise DecryptionError(f"no key {key_id!r} configured for this value")
    raw = base64.b64decode(body)
    try:
        return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
    except Exception as exc:  # InvalidTag: wrong key, wrong field, or tampered
        raise DecryptionError("value does not decrypt (wrong key or altered)") from exc


#: The first bytes of a file encrypted by `encrypt_bytes` (a file without them was written in clear).
FILE_MAGIC = b"SAENC1$"


def encrypt_bytes(data: bytes, *, context: str) -> bytes:
    """A file's bytes encrypted with the current key (AES-256-GCM, `context` bound as associated data):
    FILE_MAGIC, the key id, `$`, the nonce and the ciphertext."""
    ring = keyring()
    nonce = os.urandom(12)
    sealed = ring.keys[ring.current_id].encrypt(nonce, data, context.encode())
    return FILE_MAGIC + ring.current_id.encode() + b"$" + nonce + sealed


def decrypt_bytes(data: bytes, *, context: str) -> bytes:
    """The bytes `encrypt_bytes` sealed, with whichever configured key wrote them."""
    if not data.startswith(FILE_MAGIC):
        raise DecryptionError("not an encrypted file")
    key_id, sep, rest = data[len(FILE_MAGIC) :].partition(b"$")
    aead = keyring().keys.get(key_id.decode(errors="replace"))
    if not sep or aead is None:
        raise DecryptionError(f"no key {key_id!r} configured for this file")
    try:
        return aead.decrypt(rest[:12], rest[12:], context.encode())
    except Exception as exc:  # InvalidTag: wrong key, wrong context, or tampered
        raise DecryptionError("file does not decrypt (wrong key or altered)") from exc


def blind_index(value: str, *, kind: str) -> str:
    """Keyed hash for exact-match lookup: equal normalised values give equal indexes, per kind."""
    return keyed_hash(normalise(value, kind), kind=kind)


#: How many last characters of an ID number its tail index keeps: the four the masked form shows.
ID_TAIL = 4


def tail_index(value: str, *, kind: str, length: int = ID_TAIL) -> str:
    """Keyed hash of the last `length` characters of a normalised value (an ID number's last digits,
    for the search box): its own key space (`<kind>_tail<length>`), never equal to a whole-value index."""
    return keyed_hash(normalise(value, kind)[-length:], kind=f"{kind}_tail{length}")


def keyed_hash(text: str, *, kind: str) -> str:
    """HMAC-SHA-256 under the blind-index key of `kind ␟ text`, 32 hex digits (the keyed state of the
    prefix is computed once per kind: imports hash hundreds of thousands of values)."""
    digest = _blind_prefix(kind).copy()
    digest.update(text.encode())
    return digest.hexdigest()[:32]


@cache
def _blind_prefix(kind: str) -> hmac.HMAC:
    return hmac.new(keyring().blind_key, f"{kind}\x1f".encode(), hashlib.sha256)


def platform_hasher() -> Callable[[str], str]:
    """`hash(id_number)`: the PLATFORM's keyed hash of a normalised ID number (HMAC-SHA-256 under
    PLATFORM_MATCH_KEY, 64 hex digits), for finding one pupil in two districts
    (`audits.crossdistrict`). A key of its own, not the blind-index key: its values are kept only in the
    platform's table, which no district's session can read, so a district's database holds neither
    another district's values nor its own (docs/architecture.md, "Duplicates across districts")."""
    prefix = hmac.new(_platform_key(), b"id_number\x1f", hashlib.sha256)

    def platform_hash(id_number: str) -> str:
        digest = prefix.copy()
        digest.update(id_number.encode())
        return digest.hexdigest()

    return platform_hash


@cache
def _platform_key() -> bytes:
    if settings.PLATFORM_MATCH_KEY:
        return _decode_key(settings.PLATFORM_MATCH_KEY, "PLATFORM_MATCH_KEY")
    if not settings.DEBUG:
        raise ImproperlyConfigured("PLATFORM_MATCH_KEY must be set outside DEBUG")
    return _derived("platform-match")


def normalise(value: str, kind: str) -> str:
    """The canonical text form: no spaces; ID numbers in upper case (the check character X)."""
    text = "".join(value.split())
    return text.upper() if kind in ("id_number", "student_no") else text


def mask(value: str, kind: str) -> str:
    """The form shown to everyone who has no need for the full value.

    ID numbers keep the region's first four and the last four characters (4106**********123X), and so
    do registration numbers (学籍号, "G" + the ID number);
    account numbers keep the last four; names keep the family name (张*, 欧阳**); phones keep 3+4.
    """
    if not value:
        return value
    if kind == "id_number":
        return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else "*" * len(value)
    if kind == "student_no":
        # 学籍号 is usually "G" + the ID number: masked like one, its letter prefix kept.
        head = len(value) - len(value.lstrip("GJLgjl"))
        return value[:head] + mask(value[head:], "id_number")
    if kind == "account":
        return "*" * max(len(value) - 4, 0) + value[-4:]
    if kind == "phone":
        return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)
    if kind == "name":
        keep = 2 if len(value) >= 4 else 1
        return value[:keep] + "*" * (len(value) - keep)
    return "*" * len(value)


class Sensitive:
    """A personal value in memory. Its str(), repr() and format() are the masked form, so templates,
    logs, serializers and audit snapshots can never print it in full by accident."""

    __slots__ = ("_kind", "_value")

    def __init__(self, value: str, kind: str) -> None:
        self._value = value
        self._kind = kind

    def reveal(self) -> str:
        """The full value. Callers on a user's behalf go through an audited service."""
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value, self._kind)

    @property
    def kind(self) -> str:
        return self._kind

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Sensitive({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sensitive):
            return self._kind == other._kind and hmac.compare_digest(self._value, other._value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._kind, self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
