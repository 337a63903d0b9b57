-- The data contract (version 2) as plain DuckDB SQL: what a data engineer would write instead
-- of callops. benchmarks/duckdb_day.py fills in {calls}, {roster}, {dispositions} (file paths),
-- {day}, {timezone} (the partition's), {unit_seconds} (60 when durations are in seconds, 1 for
-- minutes) and {min_calls}. Values are read as text; an empty field reads as NULL and is treated
-- as ''. Records with the wrong number of fields are skipped by the reader (ignore_errors) and
-- counted as malformed.
-- Limits against the pandas chain: trim() removes spaces only (not tabs); durations are exact
-- to 9 decimal places (DECIMAL(38, 9)); offsets are +HH:MM/-HH:MM with hours 00-23.

-- A wall-clock time with its offset ('' for none) as the partition's local time.
CREATE OR REPLACE TEMP MACRO v2_shift(ts, off) AS
    CASE
        WHEN off = '' THEN ts
        WHEN off = 'Z' THEN timezone('{timezone}', timezone('UTC', ts))
        ELSE timezone('{timezone}', timezone('UTC', ts
            - (CASE WHEN off[1] = '-' THEN -1 ELSE 1 END)
              * to_minutes(CAST(off[2:3] AS INTEGER) * 60 + CAST(off[5:6] AS INTEGER))))
    END;

-- A v2 date-time: YYYY-MM-DD, a space or T, HH:MM[:SS[.f{{1,6}}]], then Z or +HH:MM/-HH:MM or
-- nothing; NULL when it is anything else or an impossible date or time. Offsets convert the
-- value to the partition's timezone; a value without one is already local. The regex fixes
-- the shape, so the offset is the last character (Z) or the last six (+HH:MM), and DuckDB's
-- cast reads the rest (with T or space) and rejects impossible dates and times.
CREATE OR REPLACE TEMP MACRO v2_datetime(t) AS
    CASE WHEN regexp_full_match(t, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[ T]([01][0-9]|2[0-3]):[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]{{1,6}})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?')
    THEN CASE
        WHEN t[-1] = 'Z' THEN v2_shift(try_cast(t[:-2] AS TIMESTAMP), 'Z')
        WHEN t[-6] IN ('+', '-') THEN v2_shift(try_cast(t[:-7] AS TIMESTAMP), t[-6:])
        ELSE try_cast(t AS TIMESTAMP)
    END END;

-- A v2 login_time: a time of day (H:MM, HH:MM, H:MM:SS, HH:MM:SS, hours 0-23) on the row's
-- call_date, or a date-time as above; NULL when neither.
CREATE OR REPLACE TEMP MACRO v2_login(t, call_date) AS
    CASE
        WHEN regexp_full_match(t, '([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-9]{{2}})?')
        THEN try_cast(call_date || ' ' || lpad(split_part(t, ':', 1), 2, '0') || ':'
            || split_part(t, ':', 2) || ':' || coalesce(nullif(split_part(t, ':', 3), ''), '00')
            AS TIMESTAMP)
        ELSE v2_datetime(t)
    END;

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
FROM read_csv('{calls}', all_varchar = true, header = true, ignore_errors = true,
    store_rejects = true, rejects_table = 'calls_rejects', rejects_scan = 'calls_scan');

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
    v2_datetime(created_ts) AS created_at
FROM calls;

-- Rule 4 (v2): rows sharing call_id, org_id, agent_id and installment_id are versions of one
-- call; the latest created_ts wins (unparseable or empty = oldest), ties to the later row.
-- Calls that only share a call_id are all kept (call_id_conflict, counted below).
CREATE OR REPLACE TEMP TABLE calls_ranked AS
SELECT
    *,
    row_number() OVER (
        PARTITION BY call_id, org_id, agent_id, installment_id
        ORDER BY created_at DESC NULLS LAST, rn DESC
    ) AS pick
FROM calls_checked
WHERE reason IS NULL;

-- Durations in the contract's unit; {unit_seconds} of them make a minute (1 or 60).
CREATE OR REPLACE TEMP TABLE kept_calls AS
SELECT
    *,
    CASE WHEN regexp_full_match(duration, '[0-9]+(\.[0-9]+)?')
        THEN try_cast(duration AS DECIMAL(38, 9)) END AS duration_value
FROM calls_ranked
WHERE pick = 1;

CREATE OR REPLACE TEMP TABLE dispositions AS
SELECT
    row_number() OVER () AS rn,
    trim(coalesce(agent_id, '')) AS agent_id,
    trim(coalesce(org_id, '')) AS org_id,
    trim(coalesce(call_date, '')) AS call_date,
    trim(coalesce(login_time, '')) AS login_time
FROM read_csv('{dispositions}', all_varchar = true, header = true, ignore_errors = true,
    store_rejects = true, rejects_table = 'dispositions_rejects', rejects_scan = 'dispositions_scan');

-- Rules 1-3, then one login record per agent-day: the earliest parseable login_time first,
-- then unparseable non-empty ones, then empty ones; ties to the earlier row.
CREATE OR REPLACE TEMP TABLE logins_ranked AS
SELECT
    *,
    row_number() OVER (
        PARTITION BY org_id, agent_id, call_date
        ORDER BY login_time = '', login_at NULLS LAST, rn
    ) AS pick
FROM (
    SELECT *, v2_login(login_time, call_date) AS login_at
    FROM dispositions
    WHERE agent_id <> '' AND org_id <> '' AND call_date = '{day}'
);

CREATE OR REPLACE TEMP TABLE kept_logins AS
SELECT org_id, agent_id, call_date, login_time <> '' AS present, login_time, login_at
FROM logins_ranked
WHERE pick = 1;

-- Roster: keys present; per (agent_id, org_id) the later row in the file wins.
CREATE OR REPLACE TEMP TABLE roster AS
SELECT
    row_number() OVER () AS rn,
    trim(coalesce(agent_id, '')) AS agent_id,
    trim(coalesce(org_id, '')) AS org_id,
    trim(coalesce(users_first_name, '')) AS first_name,
    trim(coalesce(users_last_name, '')) AS last_name,
    trim(coalesce(users_office_location, '')) AS office_location
FROM read_csv('{roster}', all_varchar = true, header = true, ignore_errors = true,
    store_rejects = true, rejects_table = 'roster_rejects', rejects_scan = 'roster_scan');

CREATE OR REPLACE TEMP TABLE roster_ranked AS
SELECT *, row_number() OVER (PARTITION BY org_id, agent_id ORDER BY rn DESC) AS pick
FROM roster
WHERE agent_id <> '' AND org_id <> '';

CREATE OR REPLACE TEMP TABLE kept_roster AS
SELECT org_id, agent_id, trim(first_name || ' ' || last_name) AS agent_name, office_location
FROM roster_ranked
WHERE pick = 1;

CREATE OR REPLACE TEMP TABLE call_totals AS
SELECT
    org_id,
    agent_id,
    count(*) AS total_calls,
    count(*) FILTER (WHERE status = 'completed') AS completed_calls,
    count(DISTINCT nullif(installment_id, '')) AS unique_loans_contacted,
    count(duration_value) AS duration_count,
    sum(duration_value) AS duration_sum
FROM kept_calls
GROUP BY org_id, agent_id;

-- The agent-day grain: the union of call and login keys; the roster left-joined.
-- Rounding half away from zero, once, from the exact value: integer arithmetic (DuckDB
-- divides decimals as doubles). Durations are summed as exact DECIMAL(38, 9); the mean in
-- minutes is sum / (count * {unit_seconds}).
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
    t.duration_sum,
    coalesce(t.duration_count, 0) AS duration_count,
    CASE WHEN t.total_calls > 0
        THEN (t.completed_calls * 20000 + t.total_calls) // (2 * t.total_calls) END AS rate_e4,
    CASE WHEN t.duration_count > 0
        THEN (CAST(t.duration_sum * 1000000000 AS HUGEINT) * 200
              + t.duration_count * {unit_seconds} * 1000000000)
            // (t.duration_count * {unit_seconds} * 2000000000) END AS minutes_e2,
    coalesce(l.present, false)::INTEGER AS presence,
    r.agent_id IS NOT NULL AS in_roster
FROM call_totals AS t
FULL OUTER JOIN kept_logins AS l USING (org_id, agent_id)
LEFT JOIN kept_roster AS r USING (org_id, agent_id);

-- (v2) A text cell that a spreadsheet would run as a formula gets a leading apostrophe.
CREATE OR REPLACE TEMP MACRO csv_text(v) AS
    CASE WHEN regexp_matches(v, '^[=+\-@\t\r]') THEN '''' || v ELSE v END;

CREATE OR REPLACE TEMP VIEW summary_csv AS
SELECT
    -- An empty value is written as NULL: DuckDB quotes an empty string ("").
    call_date, csv_text(org_id) AS org_id, csv_text(agent_id) AS agent_id,
    csv_text(nullif(agent_name, '')) AS agent_name,
    csv_text(nullif(office_location, '')) AS office_location, total_calls, unique_loans_contacted,
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
        THEN (CAST(sum(duration_sum) * 1000000000 AS HUGEINT) * 20
              + sum(duration_count) * {unit_seconds} * 1000000000)
            // (sum(duration_count) * {unit_seconds} * 2000000000) END AS minutes_e1
FROM summary;

-- The day's data-quality figures: rows read and rejected over the three files (malformed
-- records are the reader's rejects, counted once per line), and the contract's warnings.
CREATE OR REPLACE TEMP VIEW data_quality AS
WITH malformed AS (
    SELECT
        (SELECT count(DISTINCT line) FROM calls_rejects)
        + (SELECT count(DISTINCT line) FROM dispositions_rejects)
        + (SELECT count(DISTINCT line) FROM roster_rejects) AS n
)
SELECT
    (SELECT count(*) FROM calls) + (SELECT count(*) FROM dispositions)
        + (SELECT count(*) FROM roster) + malformed.n AS rows_read,
    (SELECT count(*) FROM calls) - (SELECT count(*) FROM kept_calls)
        + (SELECT count(*) FROM dispositions) - (SELECT count(*) FROM kept_logins)
        + (SELECT count(*) FROM roster) - (SELECT count(*) FROM kept_roster)
        + malformed.n AS rows_rejected,
    malformed.n AS malformed_rows,
    (SELECT count(*) FROM (
        SELECT call_id FROM kept_calls GROUP BY call_id HAVING count(*) > 1)) AS call_id_conflict,
    (SELECT count(*) FROM kept_calls WHERE created_at IS NULL) AS bad_created_ts,
    (SELECT count(*) FROM kept_calls WHERE duration_value IS NULL) AS bad_duration,
    (SELECT count(*) FROM kept_calls WHERE status NOT IN
        ('completed', 'connected', 'failed', 'busy', 'no_answer', 'voicemail', 'canceled'))
        AS unknown_status,
    (SELECT count(*) FROM kept_logins WHERE login_time <> '' AND login_at IS NULL) AS bad_login_time,
    (SELECT coalesce(sum(total_calls), 0) FROM summary WHERE NOT in_roster) AS calls_not_in_roster,
    (SELECT count(*) FROM summary WHERE NOT in_roster AND total_calls > 0) AS agents_not_in_roster
FROM malformed;
