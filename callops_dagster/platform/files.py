"""Files replaced whole: readers see the old file or the new one, never half of one.

The one writer of the platform: the report files, the Parquet warehouse, the Slack ledger,
the landed days and the generated mock days all go through ``write_atomic`` (or, locally,
``atomic_path``). What "replaced whole" takes depends on where the file is:

- on the local disk, a temporary file beside it, flushed, then renamed onto it (a rename is
  atomic on one file system);
- on object storage (``s3://...``), one PUT of the whole body: an object is only visible once
  its upload has completed, so no temporary object and no rename (which S3 does as copy and
  delete, neither atomic nor cheap). Bodies over s3fs's chunk size go as a multipart upload,
  which likewise appears whole when it completes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from upath import UPath

from callops_dagster.platform.storage import is_local, storage_errors

FILE_MODE = 0o644  # mkstemp makes 0600; reports and tables are for people
DIR_MODE = 0o755


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside the local ``path`` to write to; renamed onto ``path`` (mode
    0644) when the block ends without error, removed when it raises. Local paths only: for any
    path use ``write_atomic``."""
    if not is_local(path):
        raise ValueError(f"atomic_path is for local files; write {path} with write_atomic")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path | UPath, *chunks: str | bytes | memoryview) -> Path | UPath:
    """Write ``chunks`` (text as UTF-8) to ``path`` whole: locally a temporary file flushed to
    disk and renamed; on object storage one put of the whole body (``StorageError`` naming
    ``path`` when the storage fails). Returns ``path``."""
    if not is_local(path):
        body = b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in chunks)
        with storage_errors(path, "write"):
            path.fs.pipe_file(path.path, body)
        return path
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path) if isinstance(path, str) else path
