"""Files at rest: uploads kept only as long as their job needs them, and evidence kept encrypted.

- `EncryptedFileSystemStorage` (the default storage: evidence attached to applications) writes every
  file encrypted with the field-encryption keys (AES-256-GCM, `core.crypto.encrypt_bytes`), 0600 in
  0700 folders, and decrypts on open. A file written before it existed (in clear) is still read.
- `write_private` stores an upload that a background job will read (a roster, a department's list)
  0600 in 0700 folders; the job deletes it when it ends (`discard`), and `sweep_uploads` removes what
  a job that never ended left behind (a daily beat task).
- `ImportSheetStorage` keeps the sheet of an admin import between its preview and its confirmation
  (django-import-export), under MEDIA_ROOT and encrypted like evidence; swept like the uploads.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from import_export.tmp_storages import MediaStorage

from .crypto import FILE_MAGIC, decrypt_bytes, encrypt_bytes

FILE_MODE = 0o600
DIR_MODE = 0o700
_CONTEXT = "stored-file"


class EncryptedFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose files are encrypted at rest (and private to the app's user)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", FILE_MODE)
        kwargs.setdefault("directory_permissions_mode", DIR_MODE)
        super().__init__(**kwargs)

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


def makedirs_private(folder: Path) -> None:
    """`folder` and any missing parents, each 0700 (Path.mkdir gives its mode to the last one only)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=DIR_MODE, exist_ok=True)


def write_private(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write an upload to `path`, readable by the app's user only (0600 in 0700 folders)."""
    makedirs_private(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def discard(path: Path | None) -> None:
    """Delete an upload its job no longer needs (the row report, with masked numbers, stays)."""
    if path is not None:
        path.unlink(missing_ok=True)


#: Where each app keeps the uploads its jobs read, under MEDIA_ROOT: {folder: file names}. Apps register
#: in their AppConfig.ready() (the kernel knows none of them).
UPLOAD_FOLDERS: dict[str, frozenset[str]] = {}


def register_upload_folder(folder: str, *, names: Iterable[str]) -> None:
    UPLOAD_FOLDERS[folder] = frozenset(names)


def sweep_uploads(root: Path, *, names: Iterable[str], older_than_seconds: float) -> int:
    """Delete the uploads named `names` under `root` older than the limit (left by jobs that never
    ended); returns how many."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    wanted = set(names)
    if not root.is_dir():
        return 0
    for path in root.rglob("*"):
        upload = path.name in wanted or path.name.startswith("incoming-")
        if upload and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


#: Where an admin import keeps its sheet between the preview and the confirmation (under MEDIA_ROOT).
IMPORT_SHEETS_FOLDER = "import-sheets"
register_upload_folder(IMPORT_SHEETS_FOLDER, names=[])  # its files are named incoming-…


class ImportSheetStorage(MediaStorage):
    """django-import-export's temporary file (IMPORT_EXPORT_TMP_STORAGE_CLASS): kept inside the app,
    under MEDIA_ROOT through the default storage (encrypted at rest, 0600 in 0700 folders), named
    `incoming-…` so that sweep_uploads removes the sheet of a preview nobody confirmed."""

    name: str | None

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("MEDIA_FOLDER", IMPORT_SHEETS_FOLDER)
        super().__init__(**kwargs)

    def save(self, data: bytes | str) -> None:
        if not self.name:
            self.name = f"incoming-{uuid.uuid4().hex}"
        super().save(data)
