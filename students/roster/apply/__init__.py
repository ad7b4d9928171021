"""Writing one chunk of valid roster rows: set-based, all or nothing, audited.

Inside the caller's tenant transaction, for one chunk of rows:

1. one query finds which pupils are registered already (by the ID number's blind index) and their
   fingerprints: a row whose fingerprint matches is unchanged and costs nothing more;
2. the rest are decided in Python: a pupil registered (在校 or 休学) at another school is rejected
   (在籍不在校 / 在校不在籍: never moved silently); a registration number that belongs to another pupil is
   rejected; the others are created or updated. The rows to update, and their guardians, are locked
   (SELECT … FOR UPDATE) and compared field by field;
3. the prepared rows go into TEMP staging tables (PostgreSQL: COPY; SQLite: executemany), and a few
   statements write them: INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING (a pupil registered by
   someone else meanwhile is reported, never half-written), UPDATE … FROM, for students, guardians and
   status changes;
4. one `trail.append` writes the audit rows of every row written, before/after as the ORM hooks would
   (personal numbers masked): one event per pupil created or changed, its guardians recorded inside it
   (`guardians`: each guardian's values with its id), as one roster row is one change of the register;
   a status change has its own event, as it is a row of the pupil's history.

Ciphertexts and blind indexes are computed here with core.crypto, exactly as the model fields
compute them, so a pupil written here reads back through the ORM like any other. Blank optional cells
mean "keep what the register holds": an import never erases a phone or a funding card.

The package, by concept: `context` (the importer's context, outcomes, what a chunk writes), `tables`
(a model's rows as its fields compute them), `new` (a new pupil's rows, also as COPY text), `changes`
(an existing pupil compared with the register), `stage` (the statements), `chunk` (one chunk, start
to end).
"""

from __future__ import annotations

from .chunk import apply_chunk
from .context import CREATED, REJECTED, STATUS_SOURCE, STILL_REGISTERED, UNCHANGED, UPDATED, ApplyContext
from .new import NewPupil, prepare_new_pupil
from .tables import GUARDIANS, GUARDIANS_KEY, SHARED_COLUMNS, STATUS_CHANGES, STUDENTS

__all__ = [
    "CREATED", "GUARDIANS", "GUARDIANS_KEY", "REJECTED", "SHARED_COLUMNS", "STATUS_CHANGES", "STATUS_SOURCE",
    "STILL_REGISTERED", "STUDENTS", "UNCHANGED", "UPDATED", "ApplyContext", "NewPupil", "apply_chunk",
    "prepare_new_pupil",
]  # fmt: skip
