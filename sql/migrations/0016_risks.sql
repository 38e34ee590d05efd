-- 0016_risks.sql — the risk register of each campaign (probability × impact, a level, a mitigation plan) and
-- the gate it puts on scheduling: a scheduled campaign never holds an open critical risk without a mitigation.
-- Both sides of that invariant hold under the campaign's row lock: scheduling updates the campaign row (and
-- the transitions route locks it first), and every write of a risk takes the campaign's row in SHARE mode
-- before it checks, so a risk written while another request schedules waits for it and sees its outcome.

-- The level of a score. The thresholds are constants until the settings resource exists; service/risk.c names
-- the same ones (RISK_LEVEL_*_MAX) and the store test checks that both agree on every score from 1 to 25.
CREATE FUNCTION risk_level(p_score integer) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_score <= 4 THEN 'low' WHEN p_score <= 9 THEN 'medium' WHEN p_score <= 15 THEN 'high'
                ELSE 'critical' END
$$;

CREATE TABLE risks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL REFERENCES organisations (id),
    campaign_id uuid NOT NULL,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    category    text NOT NULL
        CHECK (category IN ('technical', 'regulatory', 'reputation', 'budget', 'resource', 'schedule', 'other')),
    probability smallint NOT NULL CHECK (probability BETWEEN 1 AND 5),
    impact      smallint NOT NULL CHECK (impact BETWEEN 1 AND 5),
    score       smallint GENERATED ALWAYS AS (probability * impact) STORED,
    level       text GENERATED ALWAYS AS (risk_level(probability * impact)) STORED,
    mitigation  text CHECK (length(mitigation) <= 4000),
    owner       text NOT NULL CHECK (length(owner) BETWEEN 1 AND 255),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'mitigated', 'accepted', 'closed')),
    due_date    date,
    notes       text CHECK (length(notes) <= 10000),
    version     integer NOT NULL DEFAULT 1,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT risks_due_date_representable CHECK (date_representable(due_date)),
    CONSTRAINT risks_mitigation_not_blank CHECK (btrim(mitigation, E' \t\r\n') <> ''),
    CONSTRAINT risks_campaign FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id) ON DELETE CASCADE
);
CREATE INDEX risks_created ON risks (org_id, created_at, id);
CREATE INDEX risks_score ON risks (org_id, score, id);
CREATE INDEX risks_title ON risks (org_id, title, id);
CREATE INDEX risks_campaign ON risks (campaign_id, created_at, id);
CREATE INDEX risks_due ON risks (org_id, due_date) WHERE due_date IS NOT NULL;
-- The gate's question: which open critical risks of this campaign lack a mitigation.
CREATE INDEX risks_unmitigated ON risks (campaign_id) WHERE status = 'open' AND level = 'critical' AND mitigation IS NULL;

CREATE TRIGGER risks_touch BEFORE UPDATE ON risks FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER risks_audit AFTER INSERT OR UPDATE OR DELETE ON risks
    FOR EACH ROW EXECUTE FUNCTION audit_row('risk');

-- What a webhook receiver and the gate's refusal are told about a risk.
CREATE FUNCTION risk_ref(r risks) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('risk_id', r.id, 'campaign_id', r.campaign_id, 'title', r.title,
                              'category', r.category, 'score', r.score, 'level', r.level, 'status', r.status)
$$;

CREATE FUNCTION risks_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM emit_event(NEW.org_id, CASE TG_OP WHEN 'INSERT' THEN 'risk.created' ELSE 'risk.updated' END,
                       'risk', NEW.id, risk_ref(NEW));
    RETURN NULL;
END $$;
CREATE TRIGGER risks_event AFTER INSERT OR UPDATE ON risks FOR EACH ROW EXECUTE FUNCTION risks_event();

-- A risk keeps its campaign: the register is per campaign, and the gate's lock is the campaign's.
-- A risk written to a scheduled campaign must not be open, critical and unmitigated: the campaign would launch
-- with it. The SHARE lock on the campaign row waits for a scheduling in flight (which holds the row for update)
-- and keeps the campaign from being scheduled until this write commits.
CREATE FUNCTION risks_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.campaign_id IS DISTINCT FROM OLD.campaign_id THEN
        RAISE EXCEPTION 'risk % keeps its campaign', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'risks_fixed_campaign';
    END IF;
    SELECT status INTO v_status FROM campaigns WHERE org_id = NEW.org_id AND id = NEW.campaign_id FOR SHARE;
    IF v_status = 'scheduled' AND NEW.status = 'open' AND risk_level(NEW.probability * NEW.impact) = 'critical'
       AND NEW.mitigation IS NULL THEN
        RAISE EXCEPTION 'campaign % is scheduled: an open critical risk needs a mitigation', NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'risks_scheduled_unmitigated',
                  DETAIL = jsonb_build_array(jsonb_build_object(
                      'risk_id', NEW.id, 'campaign_id', NEW.campaign_id, 'title', NEW.title, 'category', NEW.category,
                      'score', NEW.probability * NEW.impact, 'level', 'critical', 'status', NEW.status))::text;
    END IF;
    RETURN NEW;
END $$;
-- (A BEFORE trigger does not see the generated score and level yet: it computes them.)
CREATE TRIGGER risks_guard BEFORE INSERT OR UPDATE ON risks FOR EACH ROW EXECUTE FUNCTION risks_guard();

-- Scheduling: refused while the campaign has an open critical risk without a mitigation, naming them.
CREATE FUNCTION campaigns_risk_gate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_risks jsonb;
BEGIN
    IF NEW.status = 'scheduled' AND OLD.status IS DISTINCT FROM 'scheduled' THEN
        SELECT jsonb_agg(risk_ref(r) ORDER BY r.created_at, r.id) INTO v_risks
          FROM risks r
         WHERE r.campaign_id = NEW.id AND r.status = 'open' AND r.level = 'critical' AND r.mitigation IS NULL;
        IF v_risks IS NOT NULL THEN
            RAISE EXCEPTION 'campaign % has open critical risks without a mitigation', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_unmitigated_risks',
                      DETAIL = v_risks::text;
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER campaigns_risk_gate BEFORE UPDATE OF status ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_risk_gate();
