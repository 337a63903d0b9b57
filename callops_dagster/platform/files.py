"""Files replaced atomically: readers see the old file or the new one, never half of one.

The one atomic writer of the platform: the report files, the Parquet warehouse, the Slack
ledger and the generated mock days all go through ``atomic_path``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # mkstemp makes 0600; reports and tables are for people
DIR_MODE = 0o755


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` (mode 0644) when
    the block ends without error, removed when it raises."""
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


def write_atomic(path: Path, *chunks: str | bytes | memoryview) -> Path:
    """Write ``chunks`` (text as UTF-8) to ``path`` atomically, flushed to disk first."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)
