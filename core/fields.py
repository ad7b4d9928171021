"""Model fields for personal data: encrypted at rest, masked in memory, found by blind index."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from .crypto import Sensitive, blind_index, decrypt, encrypt, normalise, tail_index


class _EncryptedDescriptor:
    """Wraps assigned text in `Sensitive`, so a value is masked from the moment it is assigned."""

    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.field.attname)

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = self.field.to_python(value)


#: PostgreSQL's byte-order collation, for text that is a code rather than language.
BYTE_ORDER = "C"


class CodeField(models.CharField):
    """Text that is a code, not language: keyed hashes, action names, object ids. On PostgreSQL its
    collation is "C", so its values and indexes are compared byte by byte instead of by the database's
    locale (C.UTF-8, zh_CN.UTF-8, …), several times cheaper: a roster import of 100,000 pupils puts
    about a million hashes and ids into indexes (docs/benchmarks.md). Equality is unchanged, and so is
    the order of ASCII text. Elsewhere (SQLite compares bytes anyway) nothing differs.

    Columns compared with each other must share a collation: every blind index is a CodeField."""

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql" and not getattr(self, "db_collation", None):
            params["collation"] = BYTE_ORDER
        return params


class BlindIndexField(CodeField):
    """The keyed hash of an encrypted field's value, recomputed whenever the row is written.

    Computed in pre_save (which save() and bulk_create both call), so it can never disagree with the
    value it indexes. Compute a lookup key with `core.crypto.blind_index(text, kind=...)`.
    """

    def __init__(self, *args: Any, source: str, tail: int | None = None, **kwargs: Any) -> None:
        self.source = source
        self.tail = tail  # index only the last `tail` characters (core.crypto.tail_index)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.tail:
            kwargs["tail"] = self.tail
        kwargs.pop("editable", None)
        if kwargs.get("max_length") == 32:
            kwargs.pop("max_length")
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        source: Any = model_instance._meta.get_field(self.source)  # an EncryptedField
        value = getattr(model_instance, source.attname)
        if not value:
            digest = None
        elif self.tail:
            digest = tail_index(value.reveal(), kind=source.kind, length=self.tail)
        else:
            digest = blind_index(value.reveal(), kind=source.kind)
        setattr(model_instance, self.attname, digest)
        return digest


class EncryptedField(models.TextField):
    """Text encrypted with AES-256-GCM; the Python value is a `Sensitive` (masked when printed).

    No lookups: the ciphertext is randomised. Query a `BlindIndexField` over it instead, e.g.
    `Student.objects.filter(id_number_hash=blind_index(text, kind="id_number"))`.
    """

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _EncryptedDescriptor(self))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sensitive | None:
        if value is None or value == "":
            return None
        return Sensitive(decrypt(value, context=self.kind), self.kind)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Sensitive):
            return value
        text = normalise(str(value), self.kind)
        return Sensitive(text, self.kind) if text else None

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        plain = value.reveal() if isinstance(value, Sensitive) else normalise(str(value), self.kind)
        return encrypt(plain, context=self.kind)

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, admin history) never carries the full value.
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted; query its blind index instead")
