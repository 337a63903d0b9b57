"""What was posted to Slack, and whether a day's message should be posted now.

The ledger is one small JSON file per day, ``<data_dir>/slack/posted/<YYYY-MM-DD>.json``,
replaced atomically after each successful post. It lives outside ``reports/<day>/`` on
purpose: that folder is a symlink to a content-versioned folder that is swapped (and the old
one removed) whenever the day's reports change, which is exactly when the ledger matters.
On object storage (``s3://...``) the ledger is one object, replaced by one put.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from upath import UPath

from callops_dagster.platform.files import write_atomic
from callops_dagster.platform.storage import data_path, is_file, storage_errors

# Per-run choices (the run tag ``callops/slack_post``): post a day that is not the newest,
# or post even when the same content was already posted.
BACKFILL = "backfill"
FORCE = "force"
POST_MODES = (BACKFILL, FORCE)

POSTED = "posted"
CORRECTION = "correction"
REPOST = "repost"


class LedgerError(ValueError):
    """The ledger file exists but cannot be read: what was posted is unknown."""


@dataclass(frozen=True)
class Post:
    """One message that Slack accepted."""

    day: str
    content_hash: str
    posted_at: str  # ISO 8601, UTC
    kind: str  # posted | correction | repost
    run_id: str = ""
    text: str = ""  # what was posted (older ledgers: empty), for a later correction's changed lines


@dataclass(frozen=True)
class Decision:
    kind: str | None  # posted | correction | repost; None: nothing is sent
    reason: str

    @property
    def post(self) -> bool:
        return self.kind is not None

    @property
    def correction(self) -> bool:
        return self.kind == CORRECTION


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ledger_path(data_dir: Path | UPath, day: str) -> Path | UPath:
    return data_path(data_dir) / "slack" / "posted" / f"{day}.json"


def read_posts(path: Path | UPath) -> list[Post]:
    """Every post of the day, oldest first; none when the file does not exist."""
    with storage_errors(path, "read"):
        if not is_file(path):
            return []
        body = path.read_bytes()
    try:
        data = json.loads(body.decode("utf-8"))
        return [Post(**entry) for entry in data["posts"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(
            f"Slack ledger {path} is unreadable ({type(exc).__name__}: {exc}); "
            "fix or delete it (deleting it lets the day post again)"
        ) from None


def record_post(path: Path | UPath, post: Post) -> list[Post]:
    """Append ``post`` to the day's ledger (atomic replace) and return the whole list."""
    posts = [*read_posts(path), post]
    write_atomic(path, json.dumps({"posts": [asdict(p) for p in posts]}, indent=2) + "\n")
    return posts


def decide(
    day: str,
    newest_day: str | None,
    digest: str,
    last: Post | None,
    *,
    post_backfill: bool = False,
    force: bool = False,
) -> Decision:
    """Whether ``day``'s message (``digest``) goes out, and whether as a correction.

    - Only the newest landed day posts a first time, unless backfills are allowed or forced.
    - The same content as the last post is not posted again unless forced.
    - Different content for a day already posted goes out as a correction, newest or not: a
      corrected earlier day refreshed by automation tells Slack once what changed, so no posted
      text keeps claiming figures the reports no longer hold.
    """
    newest = newest_day is None or day >= newest_day
    if last is not None and last.content_hash != digest:
        return Decision(CORRECTION, f"correction of the post of {last.posted_at}")
    if not (newest or post_backfill or force):
        return Decision(None, f"backfill day: only the newest landed day ({newest_day}) posts")
    if last is None:
        return Decision(POSTED, "first post of the day")
    if last.content_hash == digest:
        if force:
            return Decision(REPOST, f"forced re-post (same content as the post of {last.posted_at})")
        return Decision(None, f"already posted with the same content at {last.posted_at}")
    return Decision(CORRECTION, f"correction of the post of {last.posted_at}")


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
