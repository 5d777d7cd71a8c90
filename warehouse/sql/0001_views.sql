-- BI contract, revision 0001. Identical SQL on SQLite and PostgreSQL (no dialect-specific functions).
-- Documented column by column in docs/bi.md. Never edit a released file: a later migration adds a new one.

CREATE VIEW v_observation_history AS
SELECT
    o.observation_id,
    o.target_id,
    t.name_zh AS target_name_zh,
    t.name_en AS target_name_en,
    t.program,
    t.lead_department AS department,
    o.county_code,
    c.name_zh AS county_name_zh,
    c.name_en AS county_name_en,
    c.kind AS county_kind,
    o.period,
    p.year,
    p.month,
    o.value,
    o.value_text,
    o.unit,
    o.basis,
    o.status,
    o.note,
    o.load_id,
    o.source_sha256,
    l.department AS source_department,
    l.relative_name AS source_file,
    o.source_sheet,
    o.source_row,
    o.recorded_at,
    o.superseded_at,
    o.superseded_by,
    CASE WHEN o.superseded_at IS NULL THEN 1 ELSE 0 END AS is_current
FROM fact_observation o
JOIN dim_target t ON t.target_id = o.target_id
JOIN dim_county c ON c.county_code = o.county_code
JOIN dim_period p ON p.period = o.period
JOIN drop_ledger l ON l.load_id = o.load_id;

CREATE VIEW v_observation_current AS
SELECT
    observation_id, target_id, target_name_zh, target_name_en, program, department,
    county_code, county_name_zh, county_name_en, county_kind, period, year, month,
    value, value_text, unit, basis, status, note,
    load_id, source_sha256, source_department, source_file, source_sheet, source_row, recorded_at
FROM v_observation_history
WHERE superseded_at IS NULL;

CREATE VIEW v_target_progress AS
SELECT
    s.target_id,
    t.name_zh AS target_name_zh,
    t.name_en AS target_name_en,
    t.program,
    t.kind AS target_kind,
    t.unit,
    t.lead_department AS department,
    d.name_zh AS department_name_zh,
    d.name_en AS department_name_en,
    s.county_code,
    c.name_zh AS county_name_zh,
    c.name_en AS county_name_en,
    c.kind AS county_kind,
    s.as_of,
    s.period,
    s.value,
    s.target,
    s.completion_pct,
    s.expected_pct,
    s.gap_points,
    s.light,
    CASE s.light WHEN 'green' THEN '绿' WHEN 'yellow' THEN '黄' WHEN 'red' THEN '红' ELSE '灰' END AS light_zh,
    CASE
        WHEN s.completion_pct IS NULL OR s.expected_pct IS NULL THEN NULL
        WHEN s.completion_pct > s.expected_pct THEN 'ahead'
        WHEN s.completion_pct = s.expected_pct THEN 'on_schedule'
        ELSE 'behind'
    END AS schedule,
    CASE
        WHEN s.completion_pct IS NULL OR s.expected_pct IS NULL THEN NULL
        WHEN s.completion_pct > s.expected_pct THEN '超序时'
        WHEN s.completion_pct = s.expected_pct THEN '达序时'
        ELSE '欠序时'
    END AS schedule_zh,
    s.projection,
    s.projection_low,
    s.projection_high,
    s.will_meet,
    s.method,
    s.detail_zh,
    s.computed_at
FROM (
    SELECT
        x.*,
        ROW_NUMBER() OVER (
            PARTITION BY x.target_id, x.county_code
            ORDER BY x.as_of DESC, x.period DESC, CASE WHEN x.method = 'budget' THEN 1 ELSE 0 END, x.status_id DESC
        ) AS recency
    FROM fact_target_status x
) s
JOIN dim_target t ON t.target_id = s.target_id
JOIN dim_department d ON d.department = t.lead_department
JOIN dim_county c ON c.county_code = s.county_code
WHERE s.recency = 1;

CREATE VIEW v_department_scorecard AS
SELECT
    d.department,
    d.name_zh AS department_name_zh,
    d.name_en AS department_name_en,
    COUNT(*) AS targets_total,
    SUM(CASE WHEN p.light = 'green' THEN 1 ELSE 0 END) AS green_count,
    SUM(CASE WHEN p.light = 'yellow' THEN 1 ELSE 0 END) AS yellow_count,
    SUM(CASE WHEN p.light = 'red' THEN 1 ELSE 0 END) AS red_count,
    SUM(CASE WHEN p.light IS NULL OR p.light = 'grey' THEN 1 ELSE 0 END) AS grey_count,
    SUM(CASE WHEN p.schedule = 'ahead' THEN 1 ELSE 0 END) AS ahead_count,
    SUM(CASE WHEN p.schedule = 'on_schedule' THEN 1 ELSE 0 END) AS on_schedule_count,
    SUM(CASE WHEN p.schedule = 'behind' THEN 1 ELSE 0 END) AS behind_count,
    SUM(CASE WHEN p.schedule IS NULL THEN 1 ELSE 0 END) AS no_schedule_count,
    MAX(p.as_of) AS latest_as_of
FROM dim_target t
JOIN dim_department d ON d.department = t.lead_department
LEFT JOIN v_target_progress p ON p.target_id = t.target_id AND p.county_kind = 'prefecture'
WHERE t.in_catalog
GROUP BY d.department, d.name_zh, d.name_en;

CREATE VIEW v_county_breakdown AS
SELECT
    p.target_id,
    p.target_name_zh,
    p.target_name_en,
    p.department,
    p.county_code,
    p.county_name_zh,
    p.county_name_en,
    p.county_kind,
    p.as_of,
    p.period,
    p.value,
    p.target,
    p.unit,
    p.completion_pct,
    p.expected_pct,
    p.gap_points,
    p.light,
    p.light_zh,
    p.schedule,
    p.schedule_zh,
    pref.value AS prefecture_value,
    CASE
        WHEN t.additive AND pref.value IS NOT NULL AND pref.value <> 0 THEN 100.0 * p.value / pref.value
    END AS share_of_prefecture_pct
FROM v_target_progress p
JOIN dim_target t ON t.target_id = p.target_id
LEFT JOIN v_target_progress pref ON pref.target_id = p.target_id AND pref.county_kind = 'prefecture'
WHERE p.county_kind <> 'prefecture';

CREATE VIEW v_open_alerts AS
SELECT
    a.alert_id,
    a.fingerprint,
    a.alert_class,
    a.kind,
    a.severity,
    CASE a.severity WHEN 'critical' THEN '严重' WHEN 'warning' THEN '警告' ELSE '提示' END AS severity_zh,
    a.target_id,
    t.name_zh AS target_name_zh,
    t.name_en AS target_name_en,
    a.department,
    d.name_zh AS department_name_zh,
    d.name_en AS department_name_en,
    a.county_code,
    c.name_zh AS county_name_zh,
    c.name_en AS county_name_en,
    a.period,
    a.opened_at,
    a.updated_at,
    a.escalation_level,
    a.last_notified_at,
    a.message_zh,
    a.message_en,
    a.payload
FROM fact_alert a
LEFT JOIN dim_target t ON t.target_id = a.target_id
LEFT JOIN dim_department d ON d.department = a.department
LEFT JOIN dim_county c ON c.county_code = a.county_code
WHERE a.resolved_at IS NULL;
