-- 0001_core: organisations, segments, campaigns, idempotency keys, audit log.
-- Invariants live here so they hold for every replica and under concurrency;
-- the C code validates first only to give better messages.

CREATE TABLE organisations (
    id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name       text,
    time_zone  text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Request context of the current transaction, set by campaignd_begin() and read
-- by the audit trigger, so no write can forget its audit entry.
CREATE FUNCTION campaignd_begin(p_org text, p_actor text, p_role text, p_request_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organisations (id) VALUES (p_org) ON CONFLICT (id) DO NOTHING;
    PERFORM set_config('campaignd.actor', p_actor, true),
            set_config('campaignd.role', p_role, true),
            set_config('campaignd.request_id', p_request_id, true);
END $$;

-- RFC 3339 UTC text with microseconds, the one timestamp format of the API.
CREATE FUNCTION ts_json(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    actor_role text NOT NULL,
    action     text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'status_change')),
    entity     text NOT NULL,
    entity_id  uuid,
    before     jsonb,
    after      jsonb,
    request_id text
);
CREATE INDEX audit_log_entity ON audit_log (org_id, entity, entity_id, id);
CREATE INDEX audit_log_at ON audit_log (org_id, at, id);

-- Writes one audit entry per changed row, in the changing transaction.
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_before jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    v_after  jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
    v_row    jsonb := coalesce(v_after, v_before);
    v_action text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE lower(TG_OP) END;
BEGIN
    IF TG_OP = 'UPDATE' AND v_before ? 'status' AND v_before->'status' IS DISTINCT FROM v_after->'status' THEN
        v_action := 'status_change';
    END IF;
    INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
    VALUES (v_row->>'org_id',
            coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
            coalesce(nullif(current_setting('campaignd.role', true), ''), 'system'),
            v_action, TG_ARGV[0], coalesce(v_row->>'id', v_row->>'campaign_id')::uuid, v_before, v_after,
            nullif(current_setting('campaignd.request_id', true), ''));
    RETURN NULL;
END $$;

-- Bumps the row version (the ETag) and updated_at on every update.
CREATE FUNCTION touch_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TABLE segments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         text NOT NULL REFERENCES organisations (id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description    text CHECK (length(description) <= 2000),
    estimated_size bigint CHECK (estimated_size >= 0),
    parent_id      uuid,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT segments_parent_same_org FOREIGN KEY (org_id, parent_id) REFERENCES segments (org_id, id),
    CONSTRAINT segments_not_own_parent CHECK (parent_id <> id)
);
CREATE UNIQUE INDEX segments_name_unique ON segments (org_id, lower(name));
CREATE INDEX segments_created ON segments (org_id, created_at, id);
CREATE INDEX segments_name ON segments (org_id, name, id);
CREATE INDEX segments_parent ON segments (org_id, parent_id);

-- A segment tree has no cycles. The per-organisation lock serialises concurrent
-- re-parenting so two updates cannot each close half of a loop.
CREATE FUNCTION segments_no_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('segments:' || NEW.org_id));
    IF EXISTS (
        WITH RECURSIVE up(id, parent_id) AS (
            SELECT s.id, s.parent_id FROM segments s WHERE s.id = NEW.parent_id AND s.org_id = NEW.org_id
            UNION
            SELECT s.id, s.parent_id FROM segments s JOIN up ON s.id = up.parent_id
        )
        SELECT 1 FROM up WHERE up.id = NEW.id
    ) THEN
        RAISE EXCEPTION 'segment % would become its own ancestor', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'segments_no_cycle';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER segments_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_no_cycle();
CREATE TRIGGER segments_touch BEFORE UPDATE ON segments FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER segments_audit AFTER INSERT OR UPDATE OR DELETE ON segments
    FOR EACH ROW EXECUTE FUNCTION audit_row('segment');

CREATE FUNCTION segment_json(s segments) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', s.id, 'name', s.name, 'description', s.description, 'estimated_size', s.estimated_size,
        'parent_id', s.parent_id, 'version', s.version,
        'created_at', ts_json(s.created_at), 'updated_at', ts_json(s.updated_at))
$$;

CREATE TABLE campaigns (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            text NOT NULL REFERENCES organisations (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    objective         text NOT NULL
        CHECK (objective IN ('awareness', 'acquisition', 'conversion', 'retention', 'launch', 'other')),
    status            text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'in_review', 'approved', 'scheduled', 'live', 'completed', 'cancelled')),
    status_reason     text CHECK (length(status_reason) <= 1000),
    start_date        date NOT NULL,
    end_date          date NOT NULL,
    budget_amount     numeric(16, 2) CHECK (budget_amount >= 0),
    budget_currency   text CHECK (budget_currency ~ '^[A-Z]{3}$'),
    owner             text NOT NULL CHECK (length(owner) BETWEEN 1 AND 255),
    team              text CHECK (length(team) <= 100),
    offer_code        text CHECK (length(offer_code) <= 50),
    offer_description text CHECK (length(offer_description) <= 2000),
    offer_terms       text CHECK (length(offer_terms) <= 2000),
    has_offer         boolean NOT NULL DEFAULT false,
    channels          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(channels) <= 20),
    tags              text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    notes             text CHECK (length(notes) <= 10000),
    score_engagement  numeric(4, 2) CHECK (score_engagement BETWEEN 0 AND 10),
    score_cpa         numeric(4, 2) CHECK (score_cpa BETWEEN 0 AND 10),
    score_experience  numeric(4, 2) CHECK (score_experience BETWEEN 0 AND 10),
    score_alignment   numeric(4, 2) CHECK (score_alignment BETWEEN 0 AND 10),
    version           integer NOT NULL DEFAULT 1,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT campaigns_dates CHECK (end_date >= start_date),
    CONSTRAINT campaigns_budget_pair CHECK ((budget_amount IS NULL) = (budget_currency IS NULL)),
    CONSTRAINT campaigns_scoring_all_or_none CHECK (
        num_nulls(score_engagement, score_cpa, score_experience, score_alignment) IN (0, 4))
);
CREATE INDEX campaigns_created ON campaigns (org_id, created_at, id);
CREATE INDEX campaigns_updated ON campaigns (org_id, updated_at, id);
CREATE INDEX campaigns_name ON campaigns (org_id, name, id);
CREATE INDEX campaigns_start ON campaigns (org_id, start_date, id);
CREATE INDEX campaigns_end ON campaigns (org_id, end_date, id);
CREATE INDEX campaigns_owner ON campaigns (org_id, owner);

-- The lifecycle graph. `via` says who may take the edge: 'request' through
-- POST /transitions, 'workflow' only through the approval workflow.
CREATE TABLE campaign_status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    via         text NOT NULL CHECK (via IN ('request', 'workflow')),
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO campaign_status_transitions (from_status, to_status, via) VALUES
    ('draft', 'in_review', 'request'),
    ('draft', 'cancelled', 'request'),
    ('in_review', 'draft', 'request'),
    ('in_review', 'cancelled', 'request'),
    ('in_review', 'approved', 'workflow'),
    ('approved', 'scheduled', 'workflow'),
    ('approved', 'draft', 'request'),
    ('approved', 'cancelled', 'request'),
    ('scheduled', 'live', 'workflow'),
    ('scheduled', 'approved', 'workflow'),
    ('scheduled', 'cancelled', 'request'),
    ('live', 'completed', 'workflow'),
    ('live', 'cancelled', 'request');

CREATE FUNCTION campaigns_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
        SELECT 1 FROM campaign_status_transitions t
        WHERE t.from_status = OLD.status AND t.to_status = NEW.status
    ) THEN
        RAISE EXCEPTION 'campaign % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_status_transition';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER campaigns_transition BEFORE UPDATE OF status ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_check_transition();
CREATE TRIGGER campaigns_touch BEFORE UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER campaigns_audit AFTER INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION audit_row('campaign');

CREATE TABLE campaign_segments (
    org_id      text NOT NULL,
    campaign_id uuid NOT NULL,
    segment_id  uuid NOT NULL,
    position    integer NOT NULL,
    PRIMARY KEY (campaign_id, segment_id),
    CONSTRAINT campaign_segments_campaign FOREIGN KEY (org_id, campaign_id)
        REFERENCES campaigns (org_id, id) ON DELETE CASCADE,
    CONSTRAINT campaign_segments_segment FOREIGN KEY (org_id, segment_id) REFERENCES segments (org_id, id)
);
CREATE INDEX campaign_segments_segment ON campaign_segments (segment_id);
CREATE TRIGGER campaign_segments_audit AFTER INSERT OR DELETE ON campaign_segments
    FOR EACH ROW EXECUTE FUNCTION audit_row('campaign_segment');

CREATE FUNCTION campaign_json(c campaigns) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'name', c.name, 'objective', c.objective, 'status', c.status,
        'start_date', c.start_date, 'end_date', c.end_date,
        'budget', CASE WHEN c.budget_amount IS NOT NULL THEN
            json_build_object('amount', c.budget_amount::text, 'currency', c.budget_currency) END,
        'owner', c.owner, 'team', c.team,
        'offer', CASE WHEN c.has_offer THEN json_build_object(
            'code', c.offer_code, 'description', c.offer_description, 'terms', c.offer_terms) END,
        'segment_ids', coalesce((SELECT json_agg(cs.segment_id ORDER BY cs.position)
                                 FROM campaign_segments cs WHERE cs.campaign_id = c.id), '[]'::json),
        'channels', to_json(c.channels), 'tags', to_json(c.tags), 'notes', c.notes,
        'scoring', CASE WHEN c.score_engagement IS NOT NULL THEN json_build_object(
            'engagement_potential', c.score_engagement, 'estimated_cpa', c.score_cpa,
            'customer_experience', c.score_experience, 'strategic_alignment', c.score_alignment) END,
        'status_reason', c.status_reason, 'version', c.version, 'created_by', c.created_by,
        'created_at', ts_json(c.created_at), 'updated_at', ts_json(c.updated_at))
$$;

-- Idempotency-Key records: the first successful response to a POST, replayed
-- for 24 hours to the same key and request; written in the request's transaction.
CREATE TABLE idempotency_keys (
    org_id       text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    status_code  integer NOT NULL,
    location     text,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
