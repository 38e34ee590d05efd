-- 0015_kpis.sql — what happened, beside what was planned: measured results, KPI targets, channel budgets.
--
-- Tables (every row carries org_id; every statement of the service scopes by it):
--
--   measurements    one row of counters for (campaign, channel?, date) as a source reported it.
--                   (org_id, source, external_id) is the ingestion key: the same key again replaces the row
--                   when its values differ and leaves it untouched otherwise (POST /v1/measurements/batch,
--                   POST /v1/imports/measurements). Counters are bigint >= 0 and NULL when not reported;
--                   spend and revenue are numeric(16,2) in `currency`, the campaign's budget currency when the
--                   row was written (a row with money needs it). `date` is a day in the organisation's time
--                   zone. Audited by statement-level triggers (one INSERT into audit_log per statement, so a
--                   10,000-row batch is not 10,000 trigger calls).
--   kpi_targets     the targets of a campaign: (kpi, channel?) unique per campaign (NULLS NOT DISTINCT: one
--                   campaign-wide target per kpi), target >= 0 in the kpi's unit (the catalogue's: a count is
--                   whole, money has 2 decimals and is in the campaign's currency, a ratio is a plain number),
--                   direction higher|lower. Replaced as a whole (PUT /v1/campaigns/{id}/targets); each row
--                   audited, and the replacement emits campaign.targets_changed.
--   kpi_target_sets one row per campaign whose targets were ever written: the version (ETag) of the set.
--   campaigns.channel_budgets  jsonb array of {"channel", "amount"} (amount a decimal text with 2 decimals),
--                   channels unique, amounts >= 0 summing to at most budget_amount (none without a budget);
--                   material for approvals like the budget itself (campaigns_approved_frozen below).
--
-- KPI keys are the catalogue's (service/kpi.c); the schema checks their shape, the service their names.

ALTER TABLE campaigns ADD COLUMN channel_budgets jsonb NOT NULL DEFAULT '[]';

CREATE FUNCTION channel_budgets_ok(p jsonb, p_budget numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(p) = 'array' AND jsonb_array_length(p) <= 20
       AND (jsonb_array_length(p) = 0 OR p_budget IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p) e
                       WHERE jsonb_typeof(e) <> 'object' OR NOT (e ? 'channel') OR NOT (e ? 'amount')
                          OR (e->>'channel') !~ '^[a-z0-9][a-z0-9_-]{0,49}$'
                          OR (e->>'amount') !~ '^[0-9]{1,14}(\.[0-9]{1,2})?$')
       AND (SELECT count(DISTINCT e->>'channel') FROM jsonb_array_elements(p) e) = jsonb_array_length(p)
       AND coalesce((SELECT sum((e->>'amount')::numeric) FROM jsonb_array_elements(p) e
                     WHERE (e->>'amount') ~ '^[0-9]{1,14}(\.[0-9]{1,2})?$'), 0) <= coalesce(p_budget, 0)
$$;

ALTER TABLE campaigns ADD CONSTRAINT campaigns_channel_budgets CHECK (channel_budgets_ok(channel_budgets, budget_amount));

-- An approved or scheduled campaign keeps what was approved: its dates, budget and its split across channels,
-- channels and offer change only together with a return to draft (0007's rule, with channel_budgets).
CREATE OR REPLACE FUNCTION campaigns_approved_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('approved', 'scheduled') AND NEW.status = OLD.status
       AND (NEW.start_date, NEW.end_date, NEW.budget_amount, NEW.budget_currency, NEW.channels, NEW.has_offer,
            NEW.offer_code, NEW.offer_description, NEW.offer_terms, NEW.channel_budgets)
           IS DISTINCT FROM (OLD.start_date, OLD.end_date, OLD.budget_amount, OLD.budget_currency, OLD.channels,
                             OLD.has_offer, OLD.offer_code, OLD.offer_description, OLD.offer_terms,
                             OLD.channel_budgets) THEN
        RAISE EXCEPTION 'campaign % is %: a material change sends it back to draft first', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_approved_frozen';
    END IF;
    RETURN NEW;
END $$;

CREATE TABLE measurements (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        text NOT NULL REFERENCES organisations (id),
    campaign_id   uuid NOT NULL,
    channel       text CHECK (channel ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
    date          date NOT NULL CHECK (date BETWEEN DATE '1900-01-01' AND DATE '9999-12-30'),
    source        text NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    impressions   bigint CHECK (impressions >= 0),
    reach         bigint CHECK (reach >= 0),
    sends         bigint CHECK (sends >= 0),
    opens         bigint CHECK (opens >= 0),
    clicks        bigint CHECK (clicks >= 0),
    bounces       bigint CHECK (bounces >= 0),
    unsubscribes  bigint CHECK (unsubscribes >= 0),
    visits        bigint CHECK (visits >= 0),
    leads         bigint CHECK (leads >= 0),
    mqls          bigint CHECK (mqls >= 0),
    sqls          bigint CHECK (sqls >= 0),
    conversions   bigint CHECK (conversions >= 0),
    spend         numeric(16, 2) CHECK (spend >= 0),
    revenue       numeric(16, 2) CHECK (revenue >= 0),
    currency      text CHECK (currency ~ '^[A-Z]{3}$'),
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT measurements_key UNIQUE (org_id, source, external_id),
    CONSTRAINT measurements_campaign FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id),
    CONSTRAINT measurements_money_currency CHECK ((spend IS NULL AND revenue IS NULL) OR currency IS NOT NULL)
);
CREATE INDEX measurements_campaign_date ON measurements (org_id, campaign_id, date, id);
CREATE INDEX measurements_date ON measurements (org_id, date, id);
CREATE INDEX measurements_created ON measurements (org_id, created_at, id);
CREATE INDEX measurements_updated ON measurements (org_id, updated_at, id);

-- Audit entries for a whole statement at once (the transition tables hold its rows).
CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_actor text := coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system');
    v_role  text := coalesce(nullif(current_setting('campaignd.role', true), ''), 'system');
    v_rid   text := nullif(current_setting('campaignd.request_id', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT n.org_id, v_actor, v_role, 'create', TG_ARGV[0], n.id, NULL, to_jsonb(n), v_rid FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT n.org_id, v_actor, v_role, 'update', TG_ARGV[0], n.id, to_jsonb(o), to_jsonb(n), v_rid
        FROM new_rows n JOIN old_rows o ON o.id = n.id;
    ELSE
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT o.org_id, v_actor, v_role, 'delete', TG_ARGV[0], o.id, to_jsonb(o), NULL, v_rid FROM old_rows o;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER measurements_audit_insert AFTER INSERT ON measurements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_statement('measurement');
CREATE TRIGGER measurements_audit_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_statement('measurement');
CREATE TRIGGER measurements_audit_delete AFTER DELETE ON measurements REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_statement('measurement');

CREATE TABLE kpi_target_sets (
    org_id      text NOT NULL,
    campaign_id uuid NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, campaign_id),
    CONSTRAINT kpi_target_sets_campaign FOREIGN KEY (org_id, campaign_id)
        REFERENCES campaigns (org_id, id) ON DELETE CASCADE
);
CREATE TRIGGER kpi_target_sets_touch BEFORE UPDATE ON kpi_target_sets FOR EACH ROW EXECUTE FUNCTION touch_row();

CREATE TABLE kpi_targets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL,
    campaign_id uuid NOT NULL,
    kpi         text NOT NULL CHECK (kpi ~ '^[a-z][a-z0-9_]{0,39}$'),
    unit        text NOT NULL CHECK (unit IN ('count', 'money', 'ratio')),
    channel     text CHECK (channel ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
    target      numeric(20, 6) NOT NULL CHECK (target >= 0),
    direction   text NOT NULL CHECK (direction IN ('higher', 'lower')),
    position    integer NOT NULL,
    CONSTRAINT kpi_targets_unique UNIQUE NULLS NOT DISTINCT (campaign_id, kpi, channel),
    CONSTRAINT kpi_targets_unit_value CHECK (CASE unit WHEN 'count' THEN target = trunc(target)
                                                       WHEN 'money' THEN target = round(target, 2) ELSE true END),
    CONSTRAINT kpi_targets_set FOREIGN KEY (org_id, campaign_id)
        REFERENCES kpi_target_sets (org_id, campaign_id) ON DELETE CASCADE
);
CREATE INDEX kpi_targets_campaign ON kpi_targets (org_id, campaign_id, position);
CREATE TRIGGER kpi_targets_audit AFTER INSERT OR UPDATE OR DELETE ON kpi_targets
    FOR EACH ROW EXECUTE FUNCTION audit_row('kpi_target');
