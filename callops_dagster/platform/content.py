"""A landed file's content hash: the one formula the landing assets' data version and the
landing sensor's "same bytes?" question share (sha256 of the file's bytes, 64 hex digits)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from upath import UPath

from callops_dagster.platform.storage import storage_errors

CHUNK = 1 << 20


def bytes_sha256(data: bytes | memoryview) -> str:
    """sha256 of ``data``, hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path | UPath) -> str:
    """sha256 of the file's bytes, read in 1 MiB chunks (local or object storage); equals
    ``bytes_sha256`` of the whole file. ``StorageError`` naming the object when storage fails."""
    digest = hashlib.sha256()
    with storage_errors(path, "read"), path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
