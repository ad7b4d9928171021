"""Files at rest, through Django's storage API: uploads kept only as long as their job needs them,
reports and evidence kept, every byte encrypted before it leaves the app.

Two named storages (settings.STORAGES):
- `default`: evidence attached to applications (and the admin's import sheets);
- `uploads` (`UPLOADS`): what a job reads (a roster, a department's list) and the row report it
  writes, under `<folder>/<tenant>/<job>/`.
Both are the local disk (`EncryptedFileSystemStorage`, under MEDIA_ROOT) unless FILE_STORAGE=s3, when
they are an S3-compatible bucket (`core.storage_s3.EncryptedS3Storage`). Either way every file is
encrypted with the field-encryption keys (AES-256-GCM, `core.crypto.encrypt_bytes`) as it is saved and
decrypted as it is opened, so neither the disk nor the bucket holds a number in clear; on disk files
are 0600 in 0700 folders. A file written before encryption (in clear) is still read.

A reader that needs a path (calamine, the roster pipeline's subprocess) gets a private scratch copy
(`scratch_folder` + `fetch`: 0600 in a 0700 temporary folder, deleted when the job's step ends); the
job deletes its stored upload when it ends (`discard`), and `sweep_uploads` removes, through the
storage (listdir + get_modified_time, on both backends), what a job that never ended left behind.
- `ImportSheetStorage` keeps the sheet of an admin import between its preview and its confirmation
  (django-import-export) in the default storage, encrypted like evidence; swept like the uploads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils import timezone
from import_export.tmp_storages import MediaStorage

from .crypto import FILE_MAGIC, decrypt_bytes, encrypt_bytes

FILE_MODE = 0o600
DIR_MODE = 0o700
_CONTEXT = "stored-file"
#: The named storage of uploads and the reports of their jobs (settings.STORAGES).
UPLOADS = "uploads"


class EncryptedStorageMixin:
    """Encrypts on save and decrypts on open, whatever the backend below: the bytes that leave the app
    (for the disk or a bucket) are sealed."""

    def _save(self, name: str, content: Any) -> str:
        content.seek(0)
        sealed = encrypt_bytes(content.read(), context=_CONTEXT)
        return super()._save(name, ContentFile(sealed))  # type: ignore[misc]  # not in django-stubs

    def _open(self, name: str, mode: str = "rb") -> File:
        with super()._open(name, "rb") as stored:  # type: ignore[misc]  # not in django-stubs
            data = stored.read()
        if data.startswith(FILE_MAGIC):
            data = decrypt_bytes(data, context=_CONTEXT)
        return File(io.BytesIO(data), name=name)


class EncryptedFileSystemStorage(EncryptedStorageMixin, FileSystemStorage):
    """FileSystemStorage whose files are encrypted at rest (and private to the app's user)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", FILE_MODE)
        kwargs.setdefault("directory_permissions_mode", DIR_MODE)
        super().__init__(**kwargs)


def uploads() -> Storage:
    """The storage of uploads and reports."""
    return storages[UPLOADS]


def makedirs_private(folder: Path) -> None:
    """`folder` and any missing parents, each 0700 (Path.mkdir gives its mode to the last one only)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=DIR_MODE, exist_ok=True)


def write_private(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write bytes to a scratch file `path`, readable by the app's user only (0600 in 0700 folders)."""
    makedirs_private(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


@contextlib.contextmanager
def scratch_folder(prefix: str = "upload-") -> Iterator[Path]:
    """A private temporary folder (0700) for the copies a reader needs as paths; deleted with all it
    holds when the block ends, whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))  # mkdtemp: 0700, only the app's user
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def store(name: str, path: Path) -> str:
    """Save the scratch file `path` in the uploads storage as `name` (encrypted); the stored name."""
    with path.open("rb") as f:
        return uploads().save(name, File(f, name=path.name))


def fetch(name: str, path: Path) -> Path:
    """Copy the stored file `name` (decrypted) to the scratch file `path` (0600) for a reader that needs
    a path; the caller's scratch_folder deletes it."""
    with uploads().open(name, "rb") as stored:
        return write_private(path, iter(lambda: stored.read(1 << 20), b""))


def discard(name: str | None) -> None:
    """Delete a stored upload its job no longer needs (the row report, with masked numbers, stays)."""
    if name:
        uploads().delete(name)


def job_folder(folder: str, job: Any) -> str:
    """Where a job's upload and report live in the uploads storage: <folder>/<tenant>/<job> (never
    served directly)."""
    return f"{folder}/{job.tenant_id}/{job.pk}"


#: Where each app keeps the uploads its jobs read: {folder: (storage alias, file names)}. Apps register
#: in their AppConfig.ready() (the kernel knows none of them).
UPLOAD_FOLDERS: dict[str, tuple[str, frozenset[str]]] = {}


def register_upload_folder(folder: str, *, names: Iterable[str], storage: str = UPLOADS) -> None:
    UPLOAD_FOLDERS[folder] = (storage, frozenset(names))


def _walk(backend: Storage, folder: str) -> Iterator[str]:
    """Every file name under `folder` (recursively): listdir works on both backends."""
    try:
        folders, files = backend.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _walk(backend, f"{folder}/{sub}")


def sweep_uploads(folder: str, *, names: Iterable[str], older_than_seconds: float, storage: str = UPLOADS) -> int:
    """Delete the uploads named `names` (or `incoming-…`) under `folder` of the storage older than the
    limit (left by jobs that never ended); returns how many."""
    backend = storages[storage]
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    wanted = set(names)
    removed = 0
    for name in list(_walk(backend, folder)):
        base = name.rsplit("/", 1)[-1]
        if (base in wanted or base.startswith("incoming-")) and backend.get_modified_time(name) < cutoff:
            backend.delete(name)
            removed += 1
    return removed


#: Where an admin import keeps its sheet between the preview and the confirmation (default storage).
IMPORT_SHEETS_FOLDER = "import-sheets"
register_upload_folder(IMPORT_SHEETS_FOLDER, names=[], storage="default")  # its files are named incoming-…


class ImportSheetStorage(MediaStorage):
    """django-import-export's temporary file (IMPORT_EXPORT_TMP_STORAGE_CLASS): kept inside the app,
    in the default storage (encrypted at rest, 0600 in 0700 folders on disk), named `incoming-…` so
    that sweep_uploads removes the sheet of a preview nobody confirmed."""

    name: str | None

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("MEDIA_FOLDER", IMPORT_SHEETS_FOLDER)
        super().__init__(**kwargs)

    def save(self, data: bytes | str) -> None:
        if not self.name:
            self.name = f"incoming-{uuid.uuid4().hex}"
        super().save(data)
