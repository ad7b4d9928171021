"""The S3-compatible backend (FILE_STORAGE=s3): django-storages' S3Storage with the same encryption as
the disk (core.storage.EncryptedStorageMixin), so the bucket never holds a byte in clear. Kept apart
from core.storage so that the local default never imports boto3."""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from .storage import EncryptedStorageMixin


class EncryptedS3Storage(EncryptedStorageMixin, S3Storage):
    """An S3 bucket (or an S3-compatible store: MinIO, Ceph, a cloud's object storage) whose objects
    are sealed before upload and opened after download."""
