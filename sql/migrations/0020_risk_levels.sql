-- 0020_risk_levels.sql — a risk's level follows its organisation's thresholds (GET, PATCH /v1/settings:
-- risk_level_max), no longer constants: low up to risk_low_max, medium up to risk_medium_max, high up to
-- risk_high_max, critical above (SPEC's 4, 9 and 15 until an admin changes them; 1 ≤ low < medium < high ≤ 25).
--
-- The level stays a stored column, so the gate (campaigns_risk_gate), its index (risks_unmitigated), the list
-- filter, the matrix totals, the calendar and the conflict scan read it as before. risks_guard sets it on every
-- write from the thresholds of the moment; new thresholds set it again for every risk of the organisation whose
-- level they change, in the same transaction (each risk gets a new version, an audit entry and a risk.updated
-- event, as new priority weights do for campaigns). A scheduled campaign still never holds an open critical
-- risk without a mitigation: thresholds that would give it one are refused (risks_scheduled_unmitigated, 409
-- unmitigated_critical_risk naming the risk) and nothing changes.
--
-- Locks. A level is written under the organisation's risk-level lock (an advisory lock, class 20, keyed by the
-- organisation): every risk write holds it shared, taken before any row lock (risk_store.c sends it first; the
-- trigger takes it again, so a write from elsewhere holds it too), and new thresholds hold it exclusively, so a
-- write never computes a level from thresholds that are being replaced. New thresholds then lock, in id order,
-- the campaigns whose risks change level (SHARE, the lock the risk trigger takes and scheduling waits for),
-- then update the risks: the house order is the organisation's lock, the campaign, the risk. A campaign being
-- scheduled meanwhile is waited for and then seen scheduled (and the new thresholds refused if they give it an
-- unmitigated critical risk); scheduling that comes second waits for the new levels and judges by them.

ALTER TABLE org_settings
    ADD COLUMN risk_low_max integer NOT NULL DEFAULT 4,
    ADD COLUMN risk_medium_max integer NOT NULL DEFAULT 9,
    ADD COLUMN risk_high_max integer NOT NULL DEFAULT 15,
    ADD CONSTRAINT org_settings_risk_levels CHECK (
        risk_low_max >= 1 AND risk_low_max < risk_medium_max AND risk_medium_max < risk_high_max
        AND risk_high_max <= 25);
-- org_settings_of() below is the one place that holds the defaults.
ALTER TABLE org_settings ALTER COLUMN risk_low_max DROP DEFAULT, ALTER COLUMN risk_medium_max DROP DEFAULT,
    ALTER COLUMN risk_high_max DROP DEFAULT;

CREATE OR REPLACE FUNCTION org_settings_of(p_org text) RETURNS org_settings LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT s FROM org_settings s WHERE s.org_id = p_org),
        ROW(p_org, coalesce((SELECT o.time_zone FROM organisations o WHERE o.id = p_org), 'UTC'),
            7, 0.30, 2, 7, 80, 100, 90, 5, 30, 25, 20, 25, ARRAY['budget_overrun', 'blackout']::text[],
            1, NULL::timestamptz, 4, 9, 15)::org_settings)
$$;

CREATE OR REPLACE FUNCTION settings_json(s org_settings) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
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
        'version', s.version, 'updated_at', s.updated_at)
$$;

-- The level of a score under thresholds (service/risk.c's risk_level holds the same; the store test checks
-- that both agree on every score), and under an organisation's.
CREATE FUNCTION risk_level(p_score integer, p_low integer, p_medium integer, p_high integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_score <= p_low THEN 'low' WHEN p_score <= p_medium THEN 'medium'
                WHEN p_score <= p_high THEN 'high' ELSE 'critical' END
$$;

CREATE FUNCTION risk_level_of(p_org text, p_score integer) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT risk_level(p_score, s.risk_low_max, s.risk_medium_max, s.risk_high_max) FROM org_settings_of(p_org) s
$$;

-- The organisation's risk-level lock, shared: held by every write of a risk (see the head of this file).
CREATE FUNCTION risk_levels_hold(p_org text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock_shared(20, hashtext(p_org))
$$;

-- The stored level: no longer generated from constants, set by risks_guard.
ALTER TABLE risks ALTER COLUMN level DROP EXPRESSION;
ALTER TABLE risks ALTER COLUMN level SET NOT NULL,
    ADD CONSTRAINT risks_level CHECK (level IN ('low', 'medium', 'high', 'critical'));
DROP FUNCTION risk_level(integer);

CREATE OR REPLACE FUNCTION risks_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.campaign_id IS DISTINCT FROM OLD.campaign_id THEN
        RAISE EXCEPTION 'risk % keeps its campaign', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'risks_fixed_campaign';
    END IF;
    PERFORM risk_levels_hold(NEW.org_id);
    SELECT status INTO v_status FROM campaigns WHERE org_id = NEW.org_id AND id = NEW.campaign_id FOR SHARE;
    -- (a BEFORE trigger does not see the generated score yet)
    NEW.level := risk_level_of(NEW.org_id, NEW.probability * NEW.impact);
    IF v_status = 'scheduled' AND NEW.status = 'open' AND NEW.level = 'critical' AND NEW.mitigation IS NULL THEN
        RAISE EXCEPTION 'campaign % is scheduled: an open critical risk needs a mitigation', NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'risks_scheduled_unmitigated',
                  DETAIL = jsonb_build_array(jsonb_build_object(
                      'risk_id', NEW.id, 'campaign_id', NEW.campaign_id, 'title', NEW.title, 'category', NEW.category,
                      'score', NEW.probability * NEW.impact, 'level', NEW.level, 'status', NEW.status))::text;
    END IF;
    RETURN NEW;
END $$;

-- New thresholds: every risk of the organisation whose level they change is written again (risks_guard sets
-- the level and refuses an unmitigated critical risk on a scheduled campaign).
CREATE FUNCTION org_settings_risk_levels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.risk_low_max, NEW.risk_medium_max, NEW.risk_high_max)
                           IS NOT DISTINCT FROM (OLD.risk_low_max, OLD.risk_medium_max, OLD.risk_high_max) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(20, hashtext(NEW.org_id));
    PERFORM 1 FROM campaigns c
     WHERE c.org_id = NEW.org_id
       AND c.id IN (SELECT r.campaign_id FROM risks r WHERE r.org_id = NEW.org_id
                       AND r.level <> risk_level(r.score, NEW.risk_low_max, NEW.risk_medium_max, NEW.risk_high_max))
     ORDER BY c.id FOR SHARE OF c;
    UPDATE risks r SET level = risk_level(r.score, NEW.risk_low_max, NEW.risk_medium_max, NEW.risk_high_max)
     WHERE r.org_id = NEW.org_id
       AND r.level <> risk_level(r.score, NEW.risk_low_max, NEW.risk_medium_max, NEW.risk_high_max);
    RETURN NULL;
END $$;
CREATE TRIGGER org_settings_risk_levels AFTER INSERT OR UPDATE OF risk_low_max, risk_medium_max, risk_high_max
    ON org_settings FOR EACH ROW EXECUTE FUNCTION org_settings_risk_levels();
