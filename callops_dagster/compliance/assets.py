"""Compliance assets: per agent-day calling-hours figures and the seven-day loan contact window.

Thin wiring over ``compliance/rules.py``. ``agent_compliance`` and ``loan_contact_frequency`` are
published with the day's other reports by ``slack_summary`` (one atomic switch), and feed the
message's ``Compliance:`` line; ``loan_contacts`` is the small per-day table the window reads.
"""

import warnings

import dagster as dg
import pandas as pd

from callops_dagster.compliance import rules
from callops_dagster.compliance.rules import CallingHours
from callops_dagster.contract import check_names as checks
from callops_dagster.platform.metadata import OWNERS, counts_md, declared_metadata, sample_md, table_metadata
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_change
from callops_dagster.platform.checks import check_spec, not_landed_results
from callops_dagster.platform.partitions import daily_partitions, partition_day
from callops_dagster.platform.resources import CallopsConfig, tables_by_day

GROUP = "compliance"
AGENT_COMPLIANCE = "agent_compliance"
LOAN_CONTACTS = "loan_contacts"
LOAN_CONTACT_FREQUENCY = "loan_contact_frequency"
WORST_AGENTS = 5
SAMPLE_LOANS = 10


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet", "csv"},
    owners=OWNERS,
    metadata=declared_metadata(AGENT_COMPLIANCE),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
    ins={"agent_performance_summary": dg.AssetIn(), "call_logs": dg.AssetIn(), "disposition_summary": dg.AssetIn()},
    check_specs=[
        check_spec(
            checks.ONE_ROW_PER_SUMMARY_ROW,
            AGENT_COMPLIANCE,
            blocking=True,
            description="One row per row of the agent performance summary, same keys, same order.",
        ),
        check_spec(
            checks.CALLS_WITHIN_HOURS,
            AGENT_COMPLIANCE,
            description="WARN when any call was placed outside CALLOPS_CALLING_HOURS (the five agents with most such calls as a sample).",
        ),
    ],
)
def agent_compliance(
    context: dg.AssetExecutionContext,
    callops: CallopsConfig,
    agent_performance_summary: pd.DataFrame,
    call_logs: pd.DataFrame,
    disposition_summary: pd.DataFrame,
):
    """Per agent-day: calls outside the permitted hours (`CALLOPS_CALLING_HOURS`, local
    time), calls of unknown time, calls before the agent's login, first and last call.

    Published as `reports/<date>/agent_compliance.csv`; one row per summary row.
    """
    hours = CallingHours.parse(callops.calling_hours)
    table = rules.agent_compliance(agent_performance_summary, call_logs, disposition_summary, hours)
    totals = {c: int(table[c].sum()) for c in ("calls_outside_hours", "calls_unknown_time", "calls_before_login")}
    yield dg.Output(table, metadata=table_metadata(table, AGENT_COMPLIANCE, calling_hours=str(hours), **totals))
    keys = ["call_date", "org_id", "agent_id"]
    same = table.loc[:, keys].reset_index(drop=True).equals(agent_performance_summary.loc[:, keys].reset_index(drop=True))
    yield dg.AssetCheckResult(
        check_name=checks.ONE_ROW_PER_SUMMARY_ROW,
        passed=bool(same),
        metadata={"rows": len(table), "summary_rows": len(agent_performance_summary)},
    )
    outside = totals["calls_outside_hours"]
    worst = table.loc[table["calls_outside_hours"] > 0].sort_values(
        ["calls_outside_hours", "org_id", "agent_id"], ascending=[False, True, True]
    )
    agents = len(worst)
    yield dg.AssetCheckResult(
        check_name=checks.CALLS_WITHIN_HOURS,
        passed=outside == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{outside} calls outside {hours} by {agents} agents" if outside else None,
        metadata={
            "calls_outside_hours": outside,
            "agents_with_calls_outside_hours": agents,
            "calling_hours": str(hours),
            "worst_agents": sample_md(
                worst.head(WORST_AGENTS).loc[:, ["org_id", "agent_id", "calls_outside_hours"]]
            ),
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    metadata=declared_metadata(LOAN_CONTACTS),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
    ins={"call_logs": dg.AssetIn()},
)
def loan_contacts(call_logs: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per loan and agent called on the day: the kept calls with a non-empty installment_id,
    one row per (org_id, installment_id, agent_id) with its attempts and latest created_ts.

    The small table that `loan_contact_frequency` reads for each day of its seven-day window,
    instead of seven days of validated call_logs. Warehouse only (no report).
    """
    table = rules.loan_contacts(call_logs)
    return dg.Output(
        table,
        metadata=table_metadata(
            table,
            LOAN_CONTACTS,
            calls_to_loans=int(table["attempts"].sum()),
            loans=len(table.loc[:, rules.LOAN_KEY].drop_duplicates()),
        ),
    )


def _window_mapping() -> dg.TimeWindowPartitionMapping:
    """day-6 .. day. ``allow_nonexistent_upstream_partitions`` (days before the first
    partition) is a beta parameter in Dagster 1.13: building the mapping warns on every load
    of the definitions, printed by each `dagster` and `callops` command. The warning is
    silenced here, for this one constructor, not for the process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.TimeWindowPartitionMapping(
            start_offset=-(rules.WINDOW_DAYS - 1), allow_nonexistent_upstream_partitions=True
        )


FREQUENCY_CHECKS = [
    check_spec(
        checks.CONTACT_WINDOW_COMPLETE,
        LOAN_CONTACT_FREQUENCY,
        description="WARN when days of the seven-day window have no loan_contacts (named in the metadata).",
    ),
    check_spec(
        checks.LOANS_WITHIN_CONTACT_LIMIT,
        LOAN_CONTACT_FREQUENCY,
        description="WARN when loans were called more than CALLOPS_MAX_ATTEMPTS_7D times in seven days (with a sample).",
    ),
]


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet", "csv"},
    owners=OWNERS,
    metadata=declared_metadata(LOAN_CONTACT_FREQUENCY),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
    ins={
        LOAN_CONTACTS: dg.AssetIn(
            partition_mapping=_window_mapping(),
            # A day of the window never materialised is left out (and named), not an error.
            metadata={"allow_missing_partitions": True},
        )
    },
    output_required=False,
    check_specs=FREQUENCY_CHECKS,
)
def loan_contact_frequency(context: dg.AssetExecutionContext, callops: CallopsConfig, loan_contacts):
    """Per loan (org_id, installment_id) called on the day: attempts, days and agents over the
    seven days ending on the day, last call, and `over_limit` above `CALLOPS_MAX_ATTEMPTS_7D`.

    Reads the `loan_contacts` of the window (day-6 .. day), one small table a day; days never
    materialised are left out and named. Published as `reports/<date>/loan_contact_frequency.csv`.
    """
    day = partition_day(context)
    tables = tables_by_day(context, LOAN_CONTACTS, loan_contacts)
    if day.isoformat() not in tables:  # the day never ran: an asset backfill reached it through the window
        why = f"the loan_contacts of {day} itself is missing: not landed"
        context.log.info(f"loan_contact_frequency of {day} skipped: {why}")
        yield from not_landed_results(FREQUENCY_CHECKS, day.isoformat(), why)
        return
    window = [d.isoformat() for d in rules.window_days(day)]
    missing = [d for d in window if d not in tables]
    contacts = pd.concat([tables[d] for d in window if d in tables], ignore_index=True)
    table = rules.loan_contact_frequency(contacts, day, callops.max_attempts_7d)
    over = table.loc[table["over_limit"] == 1]
    yield dg.Output(
        table,
        metadata=table_metadata(
            table,
            LOAN_CONTACT_FREQUENCY,
            window_days_used=len(window) - len(missing),
            window_days_missing=", ".join(missing) or "none",
            loans_over_limit=len(over),
            max_attempts_7d=callops.max_attempts_7d,
        ),
    )
    yield dg.AssetCheckResult(
        check_name=checks.CONTACT_WINDOW_COMPLETE,
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(missing)} of {len(window)} days of the window missing: {', '.join(missing)}" if missing else None,
        metadata={"days_missing": len(missing), "missing": ", ".join(missing) or "none",
                  # per day of the window, its calls to loans (the attempts the window adds up)
                  "days": counts_md({d: int(tables[d]["attempts"].sum()) for d in window if d in tables}, "call_date")},
    )
    yield dg.AssetCheckResult(
        check_name=checks.LOANS_WITHIN_CONTACT_LIMIT,
        passed=over.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(over)} loans over {callops.max_attempts_7d} attempts in {rules.WINDOW_DAYS} days" if len(over) else None
        ),
        metadata={
            "loans_over_limit": len(over),
            "sample": sample_md(over.head(SAMPLE_LOANS)),
        },
    )


compliance_assets = [agent_compliance, loan_contacts, loan_contact_frequency]
