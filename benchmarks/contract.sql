-- The data contract as plain DuckDB SQL: what a data engineer would write instead of callops.
-- benchmarks/duckdb_day.py fills in {calls}, {roster}, {dispositions} (file paths) and {day}.
-- Values are read as text; an empty field reads as NULL and is treated as ''. Records with the
-- wrong number of fields are skipped by the reader (ignore_errors) and counted as malformed.

CREATE OR REPLACE TEMP TABLE calls AS
SELECT
    row_number() OVER () AS rn,  -- file order (the reader preserves insertion order)
    trim(coalesce(call_id, '')) AS call_id,
    trim(coalesce(agent_id, '')) AS agent_id,
    trim(coalesce(org_id, '')) AS org_id,
    trim(coalesce(installment_id, '')) AS installment_id,
    lower(trim(coalesce(status, ''))) AS status,
    trim(coalesce(duration, '')) AS duration,
    trim(coalesce(created_ts, '')) AS created_ts,
    trim(coalesce(call_date, '')) AS call_date
FROM read_csv('{calls}', all_varchar = true, header = true, ignore_errors = true);

CREATE OR REPLACE TEMP TABLE calls_checked AS
SELECT
    *,
    CASE
        WHEN call_id = '' THEN 'missing_call_id'
        WHEN agent_id = '' THEN 'missing_agent_id'
        WHEN org_id = '' THEN 'missing_org_id'
        WHEN call_date = '' THEN 'missing_call_date'
        WHEN NOT regexp_full_match(call_date, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')
            OR try_strptime(call_date, '%Y-%m-%d') IS NULL THEN 'bad_call_date'
        WHEN call_date <> '{day}' THEN 'call_date_outside_partition'
    END AS reason,
    CASE WHEN regexp_full_match(created_ts, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}')
        THEN try_strptime(created_ts, '%Y-%m-%d %H:%M:%S') END AS created_at
FROM calls;

-- Rule 4: per call_id the latest created_ts wins (unparseable = oldest), ties to the later row.
CREATE OR REPLACE TEMP TABLE calls_ranked AS
SELECT
    *,
    row_number() OVER (PARTITION BY call_id ORDER BY created_at DESC NULLS LAST, rn DESC) AS pick
FROM calls_checked
WHERE reason IS NULL;

CREATE OR REPLACE TEMP TABLE kept_calls AS
SELECT
    *,
    CASE WHEN regexp_full_match(duration, '[0-9]+(\.[0-9]+)?')
        THEN try_cast(duration AS DECIMAL(38, 9)) END AS duration_s
FROM calls_ranked
WHERE pick = 1;

CREATE OR REPLACE TEMP TABLE dispositions AS
SELECT
    row_number() OVER () AS rn,
    trim(coalesce(agent_id, '')) AS agent_id,
    trim(coalesce(org_id, '')) AS org_id,
    trim(coalesce(call_date, '')) AS call_date,
    trim(coalesce(login_time, '')) AS login_time
FROM read_csv('{dispositions}', all_varchar = true, header = true, ignore_errors = true);

-- Rules 1-3, then one login record per agent-day: the earliest parseable login_time first,
-- then unparseable non-empty ones, then empty ones; ties to the earlier row.
CREATE OR REPLACE TEMP TABLE kept_logins AS
SELECT org_id, agent_id, call_date, login_time <> '' AS present
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY org_id, agent_id, call_date
            ORDER BY login_time = '', try_strptime(login_time, '%Y-%m-%d %H:%M:%S') NULLS LAST, rn
        ) AS pick
    FROM dispositions
    WHERE agent_id <> '' AND org_id <> '' AND call_date = '{day}'
)
WHERE pick = 1;

-- Roster: keys present; per (agent_id, org_id) the later row in the file wins.
CREATE OR REPLACE TEMP TABLE kept_roster AS
SELECT org_id, agent_id, trim(first_name || ' ' || last_name) AS agent_name, office_location
FROM (
    SELECT
        row_number() OVER () AS rn,
        trim(coalesce(agent_id, '')) AS agent_id,
        trim(coalesce(org_id, '')) AS org_id,
        trim(coalesce(users_first_name, '')) AS first_name,
        trim(coalesce(users_last_name, '')) AS last_name,
        trim(coalesce(users_office_location, '')) AS office_location
    FROM read_csv('{roster}', all_varchar = true, header = true, ignore_errors = true)
)
WHERE agent_id <> '' AND org_id <> ''
QUALIFY row_number() OVER (PARTITION BY org_id, agent_id ORDER BY rn DESC) = 1;

CREATE OR REPLACE TEMP TABLE call_totals AS
SELECT
    org_id,
    agent_id,
    count(*) AS total_calls,
    count(*) FILTER (WHERE status = 'completed') AS completed_calls,
    count(DISTINCT nullif(installment_id, '')) AS unique_loans_contacted,
    count(duration_s) AS duration_count,
    sum(duration_s) AS duration_sum_s
FROM kept_calls
GROUP BY org_id, agent_id;

-- The agent-day grain: the union of call and login keys; the roster left-joined.
-- Rounding half away from zero, once, from the exact value: integer arithmetic (DuckDB
-- divides decimals as doubles). Durations are summed as exact DECIMAL(38, 9).
CREATE OR REPLACE TEMP TABLE summary AS
SELECT
    '{day}' AS call_date,
    org_id,
    agent_id,
    coalesce(r.agent_name, '') AS agent_name,
    coalesce(r.office_location, '') AS office_location,
    coalesce(t.total_calls, 0) AS total_calls,
    coalesce(t.unique_loans_contacted, 0) AS unique_loans_contacted,
    coalesce(t.completed_calls, 0) AS completed_calls,
    t.duration_sum_s,
    coalesce(t.duration_count, 0) AS duration_count,
    CASE WHEN t.total_calls > 0
        THEN (t.completed_calls * 20000 + t.total_calls) // (2 * t.total_calls) END AS rate_e4,
    CASE WHEN t.duration_count > 0
        THEN (CAST(t.duration_sum_s * 1000000000 AS HUGEINT) * 200 + t.duration_count * 60000000000)
            // (t.duration_count * 120000000000) END AS minutes_e2,
    coalesce(l.present, false)::INTEGER AS presence,
    r.agent_id IS NOT NULL AS in_roster
FROM call_totals AS t
FULL OUTER JOIN kept_logins AS l USING (org_id, agent_id)
LEFT JOIN kept_roster AS r USING (org_id, agent_id);

CREATE OR REPLACE TEMP VIEW summary_csv AS
SELECT
    -- An empty value is written as NULL: DuckDB quotes an empty string ("").
    call_date, org_id, agent_id, nullif(agent_name, '') AS agent_name,
    nullif(office_location, '') AS office_location, total_calls, unique_loans_contacted,
    printf('%d.%04d', rate_e4 // 10000, rate_e4 % 10000) AS connect_rate,
    printf('%d.%02d', minutes_e2 // 100, minutes_e2 % 100) AS avg_call_duration_min,
    presence
FROM summary
ORDER BY org_id, agent_id;

-- The message's figures. Comparing completed/total as doubles is exact enough: the division
-- is correctly rounded, so equal fractions give equal doubles and the order is kept.
CREATE OR REPLACE TEMP VIEW top_performer AS
SELECT
    CASE WHEN agent_name <> '' THEN agent_name ELSE agent_id END AS name,
    (completed_calls * 200 + total_calls) // (2 * total_calls) AS percent
FROM summary
WHERE total_calls >= greatest({min_calls}, 1)
ORDER BY completed_calls / total_calls DESC, completed_calls DESC, total_calls DESC,
    CASE WHEN agent_name <> '' THEN agent_name ELSE agent_id END, agent_id, org_id
LIMIT 1;

CREATE OR REPLACE TEMP VIEW day_figures AS
SELECT
    count(*) FILTER (WHERE total_calls > 0) AS active_agents,
    CASE WHEN sum(duration_count) > 0
        THEN (CAST(sum(duration_sum_s) * 1000000000 AS HUGEINT) * 20 + sum(duration_count) * 60000000000)
            // (sum(duration_count) * 120000000000) END AS minutes_e1
FROM summary;
