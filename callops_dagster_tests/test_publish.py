"""A publish stopped between its writes leaves the day's previous reports whole (layer 1).

The failure is injected at each point of ``publish_reports`` where a killed process could stop:
before or after each report file is written to the staging folder, before the manifest is
written after them, before the staging folder is renamed into place, and before the day's link
is swapped. ``test_hardening`` keeps one real
SIGKILL of a whole run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from callops_dagster.report import publish
from callops_dagster.report.manifest import MANIFEST_FILE, build_manifest, files_read, reflects_entries, verify_reports

DAY = "2025-04-28"
OLD = {"slack_message.txt": "old message\n", "agent_performance_summary.csv": "a\n1\n", "rejected_rows.csv": "r\n"}
NEW = {"slack_message.txt": "new message\n", "agent_performance_summary.csv": "a\n2\n", "rejected_rows.csv": "r\nx\n"}


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


def shown(reports_root: Path) -> dict[str, str]:
    """The day's report files as a reader sees them, once its manifest has verified them."""
    folder = reports_root / DAY
    assert verify_reports(folder) == []
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.name != MANIFEST_FILE}


@pytest.mark.parametrize(
    ("files_written", "rename_dies"),
    [(0, None), (1, None), (2, None), (3, None), (3, "staging folder"), (3, "day link")],
    ids=["before-first-file", "after-one-file", "after-two-files", "before-manifest", "before-folder-rename",
         "before-link-swap"],
)
def test_a_publish_killed_part_way_leaves_the_old_reports(tmp_path, monkeypatch, files_written, rename_dies):
    root = tmp_path / "reports"
    publish.publish_reports(root, DAY, OLD)
    real_write, real_replace = publish.write_atomic, os.replace
    written = []

    def write(path, content):
        if len(written) == files_written and (rename_dies is None or Path(path).name != MANIFEST_FILE):
            raise Killed
        if Path(path).name != MANIFEST_FILE:
            written.append(path)
        return real_write(path, content)

    def replace(src, dst):
        staging = Path(src).name.startswith(".staging-")
        if (rename_dies == "staging folder" and staging) or (rename_dies == "day link" and Path(dst) == root / DAY):
            raise Killed
        return real_replace(src, dst)

    monkeypatch.setattr(publish, "write_atomic", write)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Killed):
        publish.publish_reports(root, DAY, NEW)
    monkeypatch.undo()

    assert len(written) == files_written
    assert shown(root) == OLD
    publish.publish_reports(root, DAY, NEW)  # the next run publishes the new set whole
    assert shown(root) == NEW


def test_csv_text_quotes_a_bare_carriage_return_and_parses_back():
    """A name holding a bare ``\\r`` stays one cell (Python 3.11's csv writer would not quote it)."""
    import csv
    import io

    import pandas as pd

    from callops_dagster.report.publish import csv_text

    frame = pd.DataFrame({"name": ["a\rb", "p,q", 'say "hi"', "", None], "calls": [1, 2, 3, 4, 5]})
    text = csv_text(frame, numeric=["calls"])
    assert text.startswith('name,calls\n"a\rb",1\n"p,q",2\n"say ""hi""",3\n,4\n,5\n')
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["a\rb", "1"], ["p,q", "2"], ['say "hi"', "3"], ["", "4"], ["", "5"]]


def test_rejected_rows_csv_of_tables_with_empty_parts_is_the_rows_text():
    """Rejected rows put together from per-file tables some of which are empty (Arrow columns of
    several chunks, one empty: what a run passing tables in memory hands on) are written as
    their text; pyarrow's writer alone wrote NUL bytes for them."""
    import pandas as pd

    from callops_dagster.ingest.validation import empty_rejected
    from callops_dagster.report.day import rejected_table
    from callops_dagster.report.publish import rejected_rows_csv_text

    row = empty_rejected().reindex([0])
    row = row.assign(source="call_logs.csv", row_number=3, reason="missing_call_id", call_id="  ", agent_id="A1")
    row["row_number"] = row["row_number"].astype("int64")
    table = rejected_table([empty_rejected(), row, empty_rejected()])
    assert table["call_id"].array._pa_array.num_chunks > 1  # the shape that broke the writer

    text = rejected_rows_csv_text(table)
    assert "\x00" not in text
    assert text.splitlines()[1].startswith('"call_logs.csv",3,"missing_call_id","  ","A1"')


def test_a_days_set_reflects_the_window_call_logs_its_disposition_and_the_roster_in_force():
    window = [f"2025-04-{d}" for d in range(22, 29)]
    read = files_read(window, "2025-04-28", roster_day="2025-04-26")
    assert read == sorted(
        [(d, "call_logs.csv") for d in window] + [("2025-04-28", "disposition_summary.csv"), ("2025-04-26", "agent_roster.csv")]
    )
    versions = {key: "ab" * 32 for key in read} | {("2025-04-22", "call_logs.csv"): None}  # a day that never landed
    entries = reflects_entries(versions)
    assert "2025-04-22/call_logs.csv" not in entries and entries["2025-04-26/agent_roster.csv"] == "ab" * 32
    assert list(entries) == sorted(entries) and len(entries) == len(read) - 1


def test_the_manifest_names_what_the_set_reflects_and_a_refresh_that_read_another_file_says_so(tmp_path):
    files = {"slack_message.txt": "hello\n"}
    before = {"2025-04-22/call_logs.csv": "a" * 64}
    folder = publish.publish_reports(tmp_path, "2025-04-23", files, reflects=before)
    first = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert list(first) == ["day", "written_at", "reflects", "files"] and first["reflects"] == before
    publish.publish_reports(tmp_path, "2025-04-23", files, reflects=before)
    assert json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")) == first  # same content: unchanged
    after = {"2025-04-22/call_logs.csv": "b" * 64}
    publish.publish_reports(tmp_path, "2025-04-23", files, reflects=after)  # the same reports, a corrected input
    assert json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))["reflects"] == after
    assert verify_reports(folder) == []
    assert "reflects" not in build_manifest("2025-04-23", {"a.txt": b"x"})  # a week's set names none
