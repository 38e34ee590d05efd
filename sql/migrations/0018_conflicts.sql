-- 0018_conflicts.sql — what the conflicts engine (service/engine/conflicts.c) needs from the schema:
--
--   org_settings       one row per organisation once an admin changed anything (GET /v1/settings shows the
--                      defaults until then: org_settings_of()). Every threshold of the engine: the overlap window
--                      and ratio, the default frequency cap, the budget warn/block percentages, the capacity warn
--                      percentage, the unapproved-launch horizon, the priority weights, the block rules a manager
--                      or admin may force; and the time zone, mirrored into organisations.time_zone (which the
--                      booking rules and the lifecycle read): a new time zone re-buckets the organisation's
--                      bookings under their resources' locks, so a capacity it breaks is refused.
--                      Audited like every row; the version is the ETag.
--   segment_overlaps   declared overlaps between two segments (ratio 0–1), symmetric: stored once with the smaller
--                      id first, so one pair has one ratio. Audited per row.
--   resources.frequency_cap_sends / _days  a channel's frequency cap per segment (both or neither; channels only).

-- ---- settings ----

CREATE TABLE org_settings (
    org_id                 text PRIMARY KEY REFERENCES organisations (id),
    time_zone              text NOT NULL,
    overlap_window_days    integer NOT NULL CHECK (overlap_window_days BETWEEN 1 AND 365),
    overlap_ratio          numeric(5, 4) NOT NULL CHECK (overlap_ratio BETWEEN 0 AND 1),
    frequency_cap_sends    integer NOT NULL CHECK (frequency_cap_sends BETWEEN 1 AND 1000),
    frequency_cap_days     integer NOT NULL CHECK (frequency_cap_days BETWEEN 1 AND 365),
    budget_warn_percent    integer NOT NULL CHECK (budget_warn_percent BETWEEN 1 AND 1000),
    budget_block_percent   integer NOT NULL CHECK (budget_block_percent BETWEEN 1 AND 1000),
    capacity_warn_percent  integer NOT NULL CHECK (capacity_warn_percent BETWEEN 1 AND 100),
    unapproved_launch_days integer NOT NULL CHECK (unapproved_launch_days BETWEEN 0 AND 365),
    weight_engagement      integer NOT NULL CHECK (weight_engagement BETWEEN 0 AND 100),
    weight_cpa             integer NOT NULL CHECK (weight_cpa BETWEEN 0 AND 100),
    weight_experience      integer NOT NULL CHECK (weight_experience BETWEEN 0 AND 100),
    weight_alignment       integer NOT NULL CHECK (weight_alignment BETWEEN 0 AND 100),
    forceable_rules        text[] NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    updated_at             timestamptz, -- set by every update (a row is written from the defaults, then updated)
    CONSTRAINT org_settings_budget_order CHECK (budget_warn_percent <= budget_block_percent),
    CONSTRAINT org_settings_weights CHECK (weight_engagement + weight_cpa + weight_experience + weight_alignment > 0),
    -- the rules the database does not refuse itself: forcing the others would be a promise it breaks
    CONSTRAINT org_settings_forceable CHECK (forceable_rules <@ ARRAY['budget_overrun', 'blackout']::text[])
);
CREATE TRIGGER org_settings_touch BEFORE UPDATE ON org_settings FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER org_settings_audit AFTER INSERT OR UPDATE OR DELETE ON org_settings
    FOR EACH ROW EXECUTE FUNCTION audit_row('settings');

-- The organisation's settings: its row, or SPEC's defaults (service/engine/conflicts.c's cf_settings_default
-- holds the same; the store test checks that both agree) with its time zone. Version 1 until written.
CREATE FUNCTION org_settings_of(p_org text) RETURNS org_settings LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT s FROM org_settings s WHERE s.org_id = p_org),
        ROW(p_org, coalesce((SELECT o.time_zone FROM organisations o WHERE o.id = p_org), 'UTC'),
            7, 0.30, 2, 7, 80, 100, 90, 5, 30, 25, 20, 25, ARRAY['budget_overrun', 'blackout']::text[],
            1, NULL::timestamptz)::org_settings)
$$;

CREATE FUNCTION settings_json(s org_settings) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'time_zone', s.time_zone, 'overlap_window_days', s.overlap_window_days,
        'overlap_ratio', s.overlap_ratio::float8,
        'frequency_cap', json_build_object('sends', s.frequency_cap_sends, 'days', s.frequency_cap_days),
        'budget_warn_percent', s.budget_warn_percent, 'budget_block_percent', s.budget_block_percent,
        'capacity_warn_percent', s.capacity_warn_percent, 'unapproved_launch_days', s.unapproved_launch_days,
        'priority_weights', json_build_object(
            'engagement_potential', s.weight_engagement, 'estimated_cpa', s.weight_cpa,
            'customer_experience', s.weight_experience, 'strategic_alignment', s.weight_alignment),
        'forceable_rules', to_json(s.forceable_rules), 'version', s.version, 'updated_at', s.updated_at)
$$;

-- A time zone PostgreSQL knows by name (an IANA name such as Europe/Paris, or UTC), and the organisation's
-- bookings re-bucketed in it: each live booking of a weekly or daily capacity is written again, so bookings_guard
-- counts it in its new week or day under its resource's lock and refuses a capacity the move breaks.
CREATE FUNCTION org_settings_time_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.time_zone) THEN
            RAISE EXCEPTION 'unknown time zone %', NEW.time_zone
                USING ERRCODE = 'check_violation', CONSTRAINT = 'org_settings_time_zone';
        END IF;
        UPDATE organisations SET time_zone = NEW.time_zone WHERE id = NEW.org_id AND time_zone <> NEW.time_zone;
        IF FOUND THEN
            UPDATE bookings SET period = period
             WHERE org_id = NEW.org_id AND status <> 'cancelled' AND load_bucket IS NOT NULL;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER org_settings_time_zone AFTER INSERT OR UPDATE OF time_zone ON org_settings
    FOR EACH ROW EXECUTE FUNCTION org_settings_time_zone();

-- ---- segment overlaps ----

CREATE TABLE segment_overlaps (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id    text NOT NULL,
    segment_a uuid NOT NULL,
    segment_b uuid NOT NULL,
    ratio     numeric(5, 4) NOT NULL CONSTRAINT segment_overlaps_ratio CHECK (ratio BETWEEN 0 AND 1),
    CONSTRAINT segment_overlaps_pair UNIQUE (org_id, segment_a, segment_b),
    CONSTRAINT segment_overlaps_order CHECK (segment_a < segment_b),
    CONSTRAINT segment_overlaps_a FOREIGN KEY (org_id, segment_a) REFERENCES segments (org_id, id) ON DELETE CASCADE,
    CONSTRAINT segment_overlaps_b FOREIGN KEY (org_id, segment_b) REFERENCES segments (org_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_overlaps_b_idx ON segment_overlaps (segment_b);
CREATE TRIGGER segment_overlaps_audit AFTER INSERT OR UPDATE OR DELETE ON segment_overlaps
    FOR EACH ROW EXECUTE FUNCTION audit_row('segment_overlap');

-- Replaces the declared overlaps of one segment by p_items ([{segment_id, ratio}], checked by the service) and
-- bumps the version of every segment whose list changed, that one included (the ETag of its overlaps). The
-- organisation's overlap writers queue on one advisory lock: two segments' lists share their pair.
CREATE FUNCTION segment_overlaps_put(p_org text, p_segment uuid, p_items jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_changed uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('segment_overlaps:' || p_org));
    WITH want AS (
        SELECT (e->>'segment_id')::uuid AS other, (e->>'ratio')::numeric AS ratio FROM jsonb_array_elements(p_items) e
    ), gone AS (
        DELETE FROM segment_overlaps o
         WHERE o.org_id = p_org AND (o.segment_a = p_segment OR o.segment_b = p_segment)
           AND NOT EXISTS (SELECT 1 FROM want w WHERE w.other IN (o.segment_a, o.segment_b))
        RETURNING CASE WHEN o.segment_a = p_segment THEN o.segment_b ELSE o.segment_a END AS other
    ), put AS (
        INSERT INTO segment_overlaps AS o (org_id, segment_a, segment_b, ratio)
        SELECT p_org, least(p_segment, w.other), greatest(p_segment, w.other), w.ratio FROM want w
        ON CONFLICT (org_id, segment_a, segment_b) DO UPDATE SET ratio = EXCLUDED.ratio
         WHERE o.ratio IS DISTINCT FROM EXCLUDED.ratio
        RETURNING CASE WHEN o.segment_a = p_segment THEN o.segment_b ELSE o.segment_a END AS other
    )
    SELECT array_agg(other) INTO v_changed FROM (SELECT other FROM gone UNION SELECT other FROM put) x;
    UPDATE segments SET updated_at = now()
     WHERE org_id = p_org AND (id = p_segment OR id = ANY (coalesce(v_changed, '{}')));
END $$;

-- ---- frequency caps ----

ALTER TABLE resources ADD COLUMN frequency_cap_sends integer CHECK (frequency_cap_sends BETWEEN 1 AND 1000),
                      ADD COLUMN frequency_cap_days integer CHECK (frequency_cap_days BETWEEN 1 AND 365),
                      ADD CONSTRAINT resources_frequency_cap CHECK (
                          (frequency_cap_sends IS NULL) = (frequency_cap_days IS NULL)
                          AND (frequency_cap_sends IS NULL OR kind = 'channel'));
