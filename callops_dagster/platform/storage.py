"""Where the data lives: a local folder, or an object-storage URL such as ``s3://bucket/prefix``.

Plain Python, no dagster. Every path under the data dir is a ``upath.UPath``: for a local
folder that is a ``pathlib.Path`` (``PosixUPath``), so laptop mode behaves exactly as before;
for a URL it is the fsspec file system of its protocol (``s3://`` needs s3fs, the ``cluster``
extra; ``AWS_ENDPOINT_URL`` points botocore at an S3-compatible server).

Listings are never cached: fsspec caches directory listings (``dircache``) and file system
instances, so a remote data dir is opened with ``use_listings_cache=False`` and
``fresh_listing`` drops whatever a path's file system cached, before the landing sensor looks.

Failures of object storage are ``StorageError`` (an ``OSError``), raised by ``storage_errors``:
s3fs turns S3's own error replies into ``OSError`` but lets connection and credential errors
(botocore's ``EndpointConnectionError``, ``NoCredentialsError``, aiohttp's client errors) through
as they are. Every access of a remote path goes through ``storage_errors``, which names the
path (never credentials) and the cause; the command refuses with that line, the landing sensor
skips its tick with it, an asset fails with it.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import fsspec
from upath import UPath

# Protocols that are the local disk: the data dir is then a plain local path.
LOCAL_PROTOCOLS = ("", "file", "local")
CLUSTER_EXTRA = "pip install 'callops-dagster[cluster]'"


def is_url(text: str) -> bool:
    """True when ``text`` names a location by URL (``scheme://...``) rather than a local path."""
    return "://" in text


def is_local(path: os.PathLike | str) -> bool:
    """True for a path on the local disk (a ``pathlib.Path``, a local ``UPath`` or a plain string)."""
    if isinstance(path, str):
        return not is_url(path)
    protocol = getattr(path, "protocol", None)
    return protocol is None or protocol in LOCAL_PROTOCOLS  # None: a plain pathlib path


def url_problem(url: str) -> str | None:
    """Why the file system of ``url`` cannot be used here (unknown protocol, package missing), or None."""
    protocol = url.split("://", 1)[0].lower()
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError as exc:
        hint = f"; {CLUSTER_EXTRA}" if protocol in ("s3", "s3a") else ""
        return f"{protocol}:// needs a package that is not installed ({exc}){hint}"
    except ValueError:
        return f"{protocol}:// is not a storage protocol fsspec knows (a local folder, or e.g. s3://bucket/prefix)"
    return None


def data_path(location: os.PathLike | str) -> UPath:
    """The data dir (or a path under it) as a ``UPath``: a local path as it is, ``file://`` as a
    local path, any other URL as given, its listings never cached. ``ValueError`` when the URL's
    file system cannot be used (``url_problem``)."""
    if not isinstance(location, str) and not is_local(location):
        return location if isinstance(location, UPath) else UPath(location)
    text = str(location)
    if not is_url(text):
        return UPath(text)
    if text.lower().startswith(("file://", "local://")):
        return UPath(text.split("://", 1)[1])
    if problem := url_problem(text):
        raise ValueError(problem)
    return UPath(text, use_listings_cache=False)


class StorageError(OSError):
    """A location on object storage that could not be used (unreachable, no or wrong credentials,
    refused): the message names the location and the cause, in one line."""


# Not failures but answers: the callers handle them (a folder that is not there yet, say).
ANSWERS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError)
# The errors of the storage clients that are not ``OSError``, by module: looked up only in the
# modules already imported (an error of a client that was never loaded cannot happen), so
# botocore and aiohttp stay optional (the ``cluster`` extra).
CLIENT_ERRORS = (
    ("botocore.exceptions", "BotoCoreError"),  # EndpointConnectionError, NoCredentialsError, ...
    ("botocore.exceptions", "ClientError"),  # replies s3fs does not translate
    ("aiohttp", "ClientError"),
    ("google.auth.exceptions", "GoogleAuthError"),
    ("azure.core.exceptions", "AzureError"),
)


def client_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of the storage clients imported so far (``CLIENT_ERRORS``)."""
    found = (getattr(sys.modules.get(module), name, None) for module, name in CLIENT_ERRORS)
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException))


def is_client_error(exc: BaseException) -> bool:
    """True for a storage client's own (non-``OSError``) failure, such as a connection refused."""
    return isinstance(exc, client_errors())


# user:password@ up to the last "@": a password may hold "#", "/", "?" or "@" (which a URL
# parser reads as the start of the path, query or fragment); hiding too much is safe.
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*://[^:/?#@]*):.*@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&;]password=)[^&;#]*")


def redacted(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` query value) replaced by
    ``***``, for messages and logs: of a data dir, a database or a broker."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1:***@", url))


def shown(location: os.PathLike | str) -> str:
    """``location`` for a message, its password hidden."""
    return redacted(str(location))


def cause(exc: BaseException) -> str:
    """The class and text of an exception, on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def storage_errors(location: os.PathLike | str, doing: str) -> Iterator[None]:
    """Run the block that accesses ``location``; when it is on object storage, a failure of the
    storage (a client error, or an ``OSError`` other than not-found and the like) is raised as
    ``StorageError``: "<location>: cannot <doing> (<cause's class>: <its text>)". Local paths,
    the answers (``ANSWERS``) and a ``StorageError`` from an inner block pass as they are."""
    try:
        yield
    except (StorageError, *ANSWERS):
        raise
    except Exception as exc:
        if is_local(location) or not (isinstance(exc, OSError) or is_client_error(exc)):
            raise
        raise StorageError(f"{shown(location)}: cannot {doing} ({cause(exc)})") from exc


def path_kind(path: UPath | pathlib.Path) -> str | None:
    """``"file"``, ``"directory"`` or None when nothing is at ``path``. On object storage a failure
    is a ``StorageError``: fsspec's ``isfile``/``isdir`` (behind ``UPath.is_file``/``is_dir``)
    answer False when the storage cannot be reached, which would make a file look missing."""
    if is_local(path):
        return "file" if path.is_file() else "directory" if path.is_dir() else None
    with storage_errors(path, "read"):
        try:
            return path.fs.info(path.path).get("type")
        except ANSWERS:
            return None


def is_file(path: UPath | pathlib.Path) -> bool:
    """``path.is_file()``, except that a failure of object storage raises ``StorageError``."""
    return path_kind(path) == "file"


def is_dir(path: UPath | pathlib.Path) -> bool:
    """``path.is_dir()``, except that a failure of object storage raises ``StorageError``."""
    return path_kind(path) == "directory"


def fresh_listing(path: UPath | pathlib.Path) -> None:
    """Forget what the file system of ``path`` cached about listings (nothing to do locally)."""
    if not is_local(path):
        path.fs.invalidate_cache()


@dataclass(frozen=True)
class Entry:
    """One entry of a folder listing: a file's size and modification time, or a sub-folder."""

    name: str
    path: UPath | pathlib.Path
    is_dir: bool
    size: int = 0
    mtime_ns: int = 0
    etag: str = ""  # object storage: the object's ETag (changes with its content); "" locally


def list_folder(folder: UPath | pathlib.Path) -> list[Entry]:
    """The entries of ``folder`` from one fresh listing (remote: one request, no per-file stat).

    ``FileNotFoundError`` (or ``NotADirectoryError``) when there is no such folder.
    """
    if is_local(folder):
        with os.scandir(folder) as entries:
            return [_local_entry(folder, e) for e in entries]
    base = folder.path.rstrip("/")
    with storage_errors(folder, "list"):
        fresh_listing(folder)
        listed = folder.fs.ls(base, detail=True)
    return [_remote_entry(folder, info) for info in listed if info["name"].rstrip("/") != base]


def _local_entry(folder: UPath | pathlib.Path, entry: os.DirEntry) -> Entry:
    if entry.is_dir():
        return Entry(entry.name, folder / entry.name, True)
    try:
        info = entry.stat()
    except OSError:  # a dangling link, or removed since the listing
        return Entry(entry.name, folder / entry.name, False)
    return Entry(entry.name, folder / entry.name, False, info.st_size, info.st_mtime_ns)


def _remote_entry(folder: UPath, info: dict) -> Entry:
    name = info["name"].rstrip("/").rsplit("/", 1)[-1]
    if info.get("type") == "directory":
        return Entry(name, folder / name, True)
    modified = info.get("LastModified") or info.get("mtime") or info.get("created")
    if isinstance(modified, dt.datetime):
        mtime_ns = int(modified.timestamp() * 1_000_000_000)
    else:
        mtime_ns = int(float(modified or 0) * 1_000_000_000)
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    return Entry(name, folder / name, False, int(info.get("size") or 0), mtime_ns, etag)
