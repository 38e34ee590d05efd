-- 0022_settings_plans.sql — the organisation's settings read through plans kept for the session.
--
-- org_settings_of() and settings_json() were SQL functions that PostgreSQL cannot inline (one returns a composite
-- built from two sub-selects, the other uses its composite argument many times), so every statement that called
-- them parsed, analysed and planned their bodies again, on every execution: the conflict slice's frame, which
-- every booking write reads, cost 0.43 ms of PostgreSQL's executor time a write through them (pg_stat_statements,
-- 1 connection, free bookings), more than any other statement but the insert; with these definitions it went
-- from 0.57 ms to 0.22 ms a call (pgbench, prepared, generic plans). The frame has since read the settings row
-- itself, but settings_json() still runs there for an organisation with settings, and org_settings_of() in the
-- settings, risk and dashboard statements. PL/pgSQL keeps the plan of each statement of a function for the
-- session, and evaluates a RETURN of a plain expression without the executor. Same results: the row of
-- org_settings when there is one, else the defaults with the organisation's time zone (read in the caller's
-- snapshot: both functions stay STABLE).

CREATE OR REPLACE FUNCTION org_settings_of(p_org text) RETURNS org_settings LANGUAGE plpgsql STABLE AS $$
DECLARE
    s org_settings;
BEGIN
    SELECT * INTO s FROM org_settings t WHERE t.org_id = p_org;
    IF FOUND THEN
        RETURN s;
    END IF;
    RETURN ROW(p_org, coalesce((SELECT o.time_zone FROM organisations o WHERE o.id = p_org), 'UTC'),
               7, 0.30, 2, 7, 80, 100, 90, 5, 30, 25, 20, 25, ARRAY['budget_overrun', 'blackout']::text[],
               1, NULL::timestamptz, 4, 9, 15)::org_settings;
END $$;

CREATE OR REPLACE FUNCTION settings_json(s org_settings) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'time_zone', s.time_zone, 'overlap_window_days', s.overlap_window_days,
        'overlap_ratio', s.overlap_ratio::float8,
        'frequency_cap', json_build_object('sends', s.frequency_cap_sends, 'days', s.frequency_cap_days),
        'budget_warn_percent', s.budget_warn_percent, 'budget_block_percent', s.budget_block_percent,
        'capacity_warn_percent', s.capacity_warn_percent, 'unapproved_launch_days', s.unapproved_launch_days,
        'priority_weights', json_build_object(
            'engagement_potential', s.weight_engagement, 'estimated_cpa', s.weight_cpa,
            'customer_experience', s.weight_experience, 'strategic_alignment', s.weight_alignment),
        'forceable_rules', to_json(s.forceable_rules),
        'risk_level_max', json_build_object('low', s.risk_low_max, 'medium', s.risk_medium_max,
                                            'high', s.risk_high_max),
        'version', s.version, 'updated_at', s.updated_at);
END $$;

-- The webhook worker hands each outbox event over once (webhook_fan_out, 0017_webhooks.sql), so every booking
-- write costs one more statement there. Its last step joined the outbox to the batch taken, and the session's
-- generic plan (the batch's LIMIT is a parameter, guessed at a tenth of the table) hashed the batch and read the
-- whole outbox sequentially for it: a fifth of PostgreSQL's CPU in a booking benchmark at 32 connections (perf:
-- heap_getnextslot under MultiExecHash in webhook_fan_out), growing with every event ever written. The batch's
-- ids are now one array, each event found by its key.
CREATE OR REPLACE FUNCTION webhook_fan_out(p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_n integer;
BEGIN
    WITH ev AS (
        SELECT id, org_id, type, payload, created_at FROM outbox_events
        WHERE delivered_at IS NULL ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), ins AS (
        INSERT INTO webhook_deliveries (org_id, subscription_id, event_id, event_type, body, next_attempt_at)
        SELECT ev.org_id, s.id, ev.id, ev.type,
               json_build_object('type', ev.type, 'data', ev.payload, 'timestamp',
                                 to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text,
               now()
        FROM ev JOIN webhook_subscriptions s ON s.org_id = ev.org_id AND s.active AND s.created_at <= ev.created_at
             AND (ev.type = ANY (s.event_types) OR '*' = ANY (s.event_types))
        ON CONFLICT (subscription_id, event_id) DO NOTHING
    )
    UPDATE outbox_events o SET delivered_at = now() WHERE o.id = ANY (ARRAY(SELECT ev.id FROM ev));
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
