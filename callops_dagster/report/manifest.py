"""A report folder's last-written marker: ``manifest.json`` lists each file with its sha256 and
size, so a reader can tell a complete set from one being written or tampered with.

Plain Python, no dagster. ``publish.publish_reports`` writes the manifest after every other
file of the set (a day's ``reports/<day>/``, a week's ``reports/weeks/<week start>/``), on the
local disk and on object storage alike. The format (docs/object-storage.md)::

    {
      "day": "2025-04-28",                     # the folder's day (for a week: its first day)
      "written_at": "2025-04-29T04:00:12+00:00",  # when this content was first published (UTC)
      "reflects": {"2025-04-22/call_logs.csv": "<sha256>", …},  # a day's set: the landing files read
      "files": [{"name": "agent_summary.png", "sha256": "…", "size": 48213}, …]  # by name
    }

``reflects`` (a day's set only) names the landing files the reports were computed from and
the sha256 each had when it was read: the day's three files (the roster of the day whose roster
was in force) and the call logs of the six days before (the seven-day window). A set refreshed
after an earlier day was corrected names that day's new sha256.

``manifest_problems`` is the pure check (a manifest against the bytes found);
``verify_reports`` reads a folder and applies it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from upath import UPath

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY
from callops_dagster.platform.storage import is_file, list_folder, storage_errors

MANIFEST_FILE = "manifest.json"


def file_entry(name: str, data: bytes) -> dict[str, str | int]:
    """One file of the manifest: its name, sha256 (hex) and size in bytes."""
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def build_manifest(
    day: str, files: Mapping[str, bytes], written_at: str | None = None, reflects: Mapping[str, str] | None = None
) -> dict:
    """The manifest of ``files`` (name -> bytes), files sorted by name; ``written_at`` now (UTC)
    unless given; ``reflects`` (landing file -> sha256, see ``files_read``) when given."""
    when = written_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    manifest: dict = {"day": day, "written_at": when}
    if reflects:
        manifest["reflects"] = dict(sorted(reflects.items()))
    manifest["files"] = [file_entry(name, files[name]) for name in sorted(files)]
    return manifest


def files_read(window: Sequence[str], day: str, roster_day: str) -> list[tuple[str, str]]:
    """The landing files a day's reports are computed from, as ``(day, file name)`` sorted: the
    call logs of every day of its seven-day ``window`` (day-6 .. day), its disposition summary,
    and the roster of ``roster_day`` (the day whose roster was in force: the day itself, or the
    earlier day a missing roster was carried forward from)."""
    read = {(d, CALL_LOGS.file_name) for d in window}
    read |= {(day, DISPOSITION_SUMMARY.file_name), (roster_day, AGENT_ROSTER.file_name)}
    return sorted(read)


def reflects_entries(versions: Mapping[tuple[str, str], str | None]) -> dict[str, str]:
    """``{"<day>/<file name>": sha256}`` from ``(day, file name) -> sha256``; a file never read
    (a day of the window that did not land: None) is left out."""
    return {f"{day}/{name}": sha for (day, name), sha in sorted(versions.items()) if sha}


def manifest_text(manifest: Mapping) -> str:
    """The manifest as written: indented JSON, keys in a fixed order, a final line end."""
    return json.dumps(manifest, indent=2) + "\n"


def parse_manifest(text: str) -> dict:
    """A manifest read back; ``ValueError`` when it is not one."""
    data = json.loads(text)
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and {"name", "sha256", "size"} <= e.keys() for e in entries
    ):
        raise ValueError("not a report manifest (no list of files with name, sha256 and size)")
    return data


def manifest_problems(manifest: Mapping, found: Mapping[str, bytes | None]) -> list[str]:
    """What differs between ``manifest`` and the folder's files (``found``: name -> bytes, None
    for a listed file that is absent); empty when the set is complete and unchanged.

    A listed file that is missing or whose size or sha256 differs is a problem, and so is a
    file in the folder that the manifest does not list.
    """
    problems = []
    listed = {entry["name"]: entry for entry in manifest["files"]}
    for name, entry in sorted(listed.items()):
        data = found.get(name)
        if data is None:
            problems.append(f"{name}: missing")
        elif file_entry(name, data) != {"name": name, "sha256": entry["sha256"], "size": entry["size"]}:
            problems.append(f"{name}: {len(data)} bytes with another sha256 than the manifest's ({entry['size']} bytes)")
    problems.extend(f"{name}: not in the manifest" for name in sorted(set(found) - set(listed)))
    return problems


def verify_reports(folder: Path | UPath) -> list[str]:
    """Read ``folder``'s manifest and files and return ``manifest_problems`` (a missing or
    unreadable manifest is the one problem); empty when the set is complete. ``StorageError``
    naming the folder when object storage fails."""
    with storage_errors(folder, "read"):
        return _verify(folder)


def _verify(folder: Path | UPath) -> list[str]:
    manifest_file = folder / MANIFEST_FILE
    if not is_file(manifest_file):
        return [f"{MANIFEST_FILE}: missing (the set is not written yet, or was written before manifests)"]
    try:
        manifest = parse_manifest(manifest_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{MANIFEST_FILE}: unreadable ({exc})"]
    present = {e.name for e in list_folder(folder) if e.name != MANIFEST_FILE and not e.is_dir}
    listed = {entry["name"] for entry in manifest["files"]}
    found = {name: (folder / name).read_bytes() if name in present else None for name in listed}
    found |= {name: b"" for name in present - listed}  # only their presence matters
    return manifest_problems(manifest, found)
