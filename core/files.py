"""Uploaded or named files on disk, within a size limit, with the SHA-256 of their bytes (the
fingerprint that makes re-importing the same file a no-op)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

_CHUNK = 1 << 20


class TooLarge(Exception):
    """The file is larger than the limit."""


def on_disk(source: str | Path | IO[bytes], *, workdir: Path | None, name: str, limit: int) -> tuple[Path, str]:
    """A path as it is (its size checked), or an upload copied into `workdir` as `name` a megabyte at a
    time, stopping as soon as it passes `limit`; and the SHA-256 of the bytes."""
    digest = hashlib.sha256()
    if isinstance(source, str | Path):
        path = Path(source)
        if path.stat().st_size > limit:
            raise TooLarge
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
        return path, digest.hexdigest()
    if workdir is None:
        raise ValueError("an upload needs a working directory to be copied into")
    path = workdir / name
    size = 0
    if hasattr(source, "seek"):
        source.seek(0)
    with path.open("wb") as out:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            size += len(chunk)
            if size > limit:
                raise TooLarge
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()
