"""A deliberately simple, row-by-row reading of the data contract, for property tests.

It shares no code with the platform: Python's csv module, plain loops, Decimal arithmetic.
If the vectorised pipeline and this disagree on a generated day, one of them is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

CALL_COLUMNS = ["call_id", "agent_id", "org_id", "installment_id", "status", "duration", "created_ts", "call_date"]
ROSTER_COLUMNS = ["agent_id", "users_first_name", "users_last_name", "users_office_location", "org_id"]
LOGIN_COLUMNS = ["agent_id", "org_id", "call_date", "login_time"]
KNOWN = {"completed", "connected", "failed", "busy", "no_answer", "voicemail", "canceled"}


def records(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and data records; blank (or white-space-only) lines are not records."""
    rows = [
        row
        for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        if row and not (len(row) == 1 and row[0].strip() == "")
    ]
    return [h.strip().lower() for h in rows[0]], rows[1:]


def is_date(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


LOCAL = ZoneInfo("Asia/Kolkata")
STAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2})(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def timestamp(value: str, day: str | None = None) -> dt.datetime | None:
    """Contract v2's date-time forms (a time of day on ``day`` too, for logins), as naive
    local time in Asia/Kolkata; None when unparseable. Written apart from the project's
    vectorised parser, with the standard library."""
    if day is not None and (clock := re.fullmatch(r"([0-9]{1,2}):([0-9]{2})(:([0-9]{2}))?", value)):
        try:
            return dt.datetime.fromisoformat(day).replace(
                hour=int(clock[1]), minute=int(clock[2]), second=int(clock[4] or 0)
            )
        except ValueError:
            return None
    match = STAMP.fullmatch(value)
    if not match:
        return None
    date, hm, seconds, fraction, zone = match.groups()
    text = f"{date}T{hm}{(seconds or ':00')[:3]}{(fraction or '').ljust(7, '0') if fraction else ''}"
    try:
        parsed = dt.datetime.fromisoformat(text)
        if zone:
            offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) if zone != "Z" else dt.timedelta(0)
            if zone[0] == "-":
                offset = -offset
            parsed = parsed.replace(tzinfo=dt.timezone(offset)).astimezone(LOCAL).replace(tzinfo=None)
    except ValueError:
        return None
    return parsed


def split(text, columns, keys, day):
    """Rows passing rules 0-3 as dicts, and rejects as (row_number, reason)."""
    header, rows = records(text)
    rejected, passed = [], []
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            rejected.append((number, "malformed_row"))
            continue
        values = {h: v.strip() for h, v in zip(header, row)}
        values = {c: values[c] for c in columns}
        reason = next((f"missing_{k}" for k in keys if values[k] == ""), None)
        if reason is None and day is not None:
            if not is_date(values["call_date"]):
                reason = "bad_call_date"
            elif values["call_date"] != day:
                reason = "call_date_outside_partition"
        if reason:
            rejected.append((number, reason))
        else:
            values["_n"] = number
            passed.append(values)
    return passed, rejected


def dedupe(rows, key, rank, columns):
    """Keep the row with the smallest rank per key; the others are exact or superseded."""
    best = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        if k not in best or rank(row) < rank(best[k]):
            best[k] = row
    rejected = []
    for row in rows:
        winner = best[tuple(row[c] for c in key)]
        if row is not winner:
            same = all(row[c] == winner[c] for c in columns)
            rejected.append((row["_n"], "duplicate_exact" if same else "duplicate_superseded"))
    return list(best.values()), rejected


def rounded(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def reference_day(calls_text: str, roster_text: str, logins_text: str, day: str, unit: str = "minutes"):
    """(summary CSV text, sorted rejects [(source, row_number, reason)], message lines 1-4).

    Durations are in ``unit`` (contract v2: minutes by default, or seconds)."""
    per_minute = 1 if unit == "minutes" else 60
    calls, rej_calls = split(calls_text, CALL_COLUMNS, ["call_id", "agent_id", "org_id", "call_date"], day)
    for row in calls:
        row["status"] = row["status"].lower()

    def call_rank(r):  # the latest created_ts first (unparseable = oldest), then the later row
        ts = timestamp(r["created_ts"])
        return (0 if ts else 1, -(ts - dt.datetime.min).total_seconds() if ts else 0, -r["_n"])

    # (v2) a call's identity: rows sharing only the call_id are different calls, all kept
    calls, dup = dedupe(calls, ["call_id", "org_id", "agent_id", "installment_id"], call_rank, CALL_COLUMNS)
    rej_calls += dup
    logins, rej_logins = split(logins_text, LOGIN_COLUMNS, ["agent_id", "org_id", "call_date"], day)

    def login_rank(r):
        ts = timestamp(r["login_time"], day)
        kind = 0 if ts else (1 if r["login_time"] else 2)
        return (kind, ts or dt.datetime.min, r["_n"])

    logins, dup = dedupe(logins, ["org_id", "agent_id", "call_date"], login_rank, LOGIN_COLUMNS)
    rej_logins += dup
    roster, rej_roster = split(roster_text, ROSTER_COLUMNS, ["agent_id", "org_id"], None)
    roster, dup = dedupe(roster, ["agent_id", "org_id"], lambda r: -r["_n"], ROSTER_COLUMNS)
    rej_roster += dup

    people = {(r["org_id"], r["agent_id"]): r for r in roster}
    agents: dict[tuple[str, str], dict] = {}
    for row in calls:
        a = agents.setdefault((row["org_id"], row["agent_id"]), {"calls": [], "login": None})
        a["calls"].append(row)
    for row in logins:
        a = agents.setdefault((row["org_id"], row["agent_id"]), {"calls": [], "login": None})
        a["login"] = row

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["call_date", "org_id", "agent_id", "agent_name", "office_location", "total_calls",
         "unique_loans_contacted", "connect_rate", "avg_call_duration_min", "presence"]
    )
    best, all_durations, active = None, [], 0
    for (org, agent), a in sorted(agents.items()):
        person = people.get((org, agent))
        name = " ".join(p for p in (person["users_first_name"], person["users_last_name"]) if p) if person else ""
        office = person["users_office_location"] if person else ""
        total = len(a["calls"])
        completed = sum(1 for c in a["calls"] if c["status"] == "completed")
        loans = len({c["installment_id"] for c in a["calls"] if c["installment_id"]})
        durations = [Decimal(c["duration"]) for c in a["calls"] if re.fullmatch(r"[0-9]+(\.[0-9]+)?", c["duration"])]
        all_durations += durations
        with localcontext() as ctx:
            ctx.prec = 60
            rate = rounded(Decimal(completed) / Decimal(total), "0.0001") if total else ""
            avg = rounded(sum(durations) / len(durations) / per_minute, "0.01") if durations else ""
        presence = 1 if a["login"] is not None and a["login"]["login_time"] else 0
        writer.writerow([day, org, agent, name, office, total, loans, rate, avg, presence])
        active += total > 0
        if total >= 5:
            display = name or agent
            key = (-Decimal(completed) / Decimal(total), -completed, -total, display, agent, org)
            if best is None or key < best[0]:
                best = (key, display, Decimal(completed) * 100 / Decimal(total))
    with localcontext() as ctx:
        ctx.prec = 60
        top = f"{best[1]} ({rounded(best[2], '1')}% connect rate)" if best else "n/a"
        average = (
            f"{rounded(sum(all_durations) / len(all_durations) / per_minute, '0.1')} min" if all_durations else "n/a"
        )
    message = [f"Agent Summary for {day}", f"Top Performer: {top}", f"Total Active Agents: {active}", f"Average Duration: {average}"]
    rejects = sorted(
        [("agent_roster.csv", n, r) for n, r in rej_roster]
        + [("call_logs.csv", n, r) for n, r in rej_calls]
        + [("disposition_summary.csv", n, r) for n, r in rej_logins]
    )
    return out.getvalue(), rejects, message
