"""The valid rows of a registry written set-based: encrypted and blind-indexed like the register,
then COPY into a TEMP table and one INSERT … SELECT (PostgreSQL, in a second thread while the next
chunk is validated) or one executemany (SQLite)."""

from __future__ import annotations

import os
import uuid
from base64 import b64encode
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection
from django.utils import timezone

from core.crypto import keyed_hash, keyring
from core.tenancy.context import current_tenant_id

from ...models import RegistryEntry, RegistrySnapshot


class _Sealer:
    """crypto.encrypt and crypto.blind_index of ID numbers, with the cipher looked up once: the same
    AES-GCM (a fresh 12-byte random nonce per value, the field's kind as associated data) and the same
    keyed hash of the normalised number (which idcard.parse has already produced)."""

    KIND = "id_number"

    def __init__(self) -> None:
        ring = keyring()
        self.prefix = f"{ring.current_id}$"
        self.aead = ring.keys[ring.current_id]
        self.context = self.KIND.encode()

    def seal(self, numbers: list[str]) -> tuple[list[str], list[str]]:
        """(ciphertexts, blind indexes) of normalised ID numbers."""
        encrypt, context, prefix, kind = self.aead.encrypt, self.context, self.prefix, self.KIND
        nonces = os.urandom(12 * len(numbers))
        sealed, hashes = [], []
        for i, number in enumerate(numbers):
            plain = number.encode()
            nonce = nonces[12 * i : 12 * i + 12]
            sealed.append(prefix + b64encode(nonce + encrypt(nonce, plain, context)).decode())
            hashes.append(keyed_hash(number, kind=kind))
        return sealed, hashes


class EntryWriter:
    """Encrypts and blind-indexes a chunk of rows and writes it in a few statements. On PostgreSQL the
    statements of a chunk run in a second thread on the same connection and transaction, while the
    next chunk is read and validated (psycopg lets the other thread run while the server works)."""

    #: Written per row; the tenant, timestamps and snapshot are the same for all and passed once.
    ROW_COLUMNS = (
        "row_number", "name", "id_number", "id_number_hash", "household_id_number", "household_id_number_hash",
        "category", "township", "village",
    )  # fmt: skip
    CONSTANT_COLUMNS = ("tenant_id", "created_at", "updated_at", "snapshot_id")
    COLUMNS = CONSTANT_COLUMNS + ROW_COLUMNS

    def __init__(self, snapshot: RegistrySnapshot) -> None:
        self.snapshot = snapshot
        self.tenant_id = current_tenant_id()
        self.now = timezone.now()
        self.vendor = connection.vendor
        self.table = RegistryEntry._meta.db_table
        self.qn = connection.ops.quote_name
        self.sealer = _Sealer()
        prefix = uuid.uuid4().hex
        self.id_prefix = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self.pending: Future[None] | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.staged = False

    def _rows(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        persons, person_hashes = self.sealer.seal([row[2] for row in chunk])
        heads = [row[3] for row in chunk if row[3]]
        sealed_heads, head_hashes = self.sealer.seal(heads) if heads else ([], [])
        h = 0
        out = []
        for (number, name, _person, household, category, township, village), id_number, id_hash in zip(
            chunk, persons, person_hashes, strict=True
        ):
            if household:
                head, head_hash = sealed_heads[h], head_hashes[h]
                h += 1
            else:
                head = head_hash = None
            out.append((number, name, id_number, id_hash, head, head_hash, category, township, village))
        return out

    def write(self, chunk: list[tuple[Any, ...]]) -> None:
        rows = self._rows(chunk)
        if self.vendor != "postgresql":
            self._insert(rows)
            return
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-copy")
        raw = connection.connection  # the connection (and open transaction) Django holds
        self.pending = self.pool.submit(self._copy, raw, rows)

    def wait(self) -> None:
        """Until the chunk being written is in (its error, if any, raised here)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown()
                self.pool = None

    def _copy(self, raw: Any, rows: list[tuple[Any, ...]]) -> None:
        qn = self.qn
        cols = ", ".join(qn(c) for c in self.ROW_COLUMNS)
        constants = ", ".join(qn(c) for c in self.CONSTANT_COLUMNS)
        with connection.wrap_database_errors, raw.cursor() as cursor:
            if not self.staged:
                stage = f"SELECT {cols} FROM {qn(self.table)} WHERE 1 = 0"  # noqa: S608
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS registry_entry_stage AS {stage}")
                self.staged = True
            cursor.execute("TRUNCATE registry_entry_stage")
            with cursor.copy(f"COPY registry_entry_stage ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # The ids rise with the row number (a random prefix per import, the row number in the last
            # 12 hex digits): the primary key grows at its right edge instead of at a million random
            # places. The join proves, once for the chunk, that the snapshot is this tenant's (row-level
            # security hides any other), which a per-row foreign key would check a million times.
            cursor.execute(
                f"INSERT INTO {qn(self.table)} (id, {constants}, {cols}) "  # noqa: S608
                f"SELECT (%s || lpad(to_hex(e.row_number), 12, '0'))::uuid, %s, %s, %s, s.id, "
                f"{', '.join('e.' + qn(c) for c in self.ROW_COLUMNS)} "
                f"FROM registry_entry_stage e JOIN {qn(RegistrySnapshot._meta.db_table)} s "
                "ON s.tenant_id = %s AND s.id = %s",
                [self.id_prefix, self.tenant_id, self.now, self.now, self.tenant_id, self.snapshot.pk],
            )
            if cursor.rowcount != len(rows):
                raise RuntimeError("registry rows must belong to a snapshot of the importing tenant")
            cursor.execute("TRUNCATE registry_entry_stage")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        qn = self.qn
        cols = ", ".join(qn(c) for c in self.COLUMNS)
        # UUIDs as Django stores them on SQLite: 32 hex digits.
        constants = (uuid.UUID(str(self.tenant_id)).hex, self.now, self.now, self.snapshot.pk.hex)
        marks = ", ".join(["%s"] * (len(self.COLUMNS) + 1))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {qn(self.table)} (id, {cols}) VALUES ({marks})",  # noqa: S608
                [(uuid.uuid4().hex, *constants, *row) for row in rows],
            )
