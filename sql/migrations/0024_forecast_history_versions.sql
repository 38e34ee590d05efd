-- 0024_forecast_history_versions.sql — a version of each organisation's forecast history, kept by the tables
-- the history reads, so a forecast or an allocation finds its kept fit without reading the history.
--
-- Until now a request read the whole history (every completed campaign with its measurements, budgets and
-- audience: 0.6 MB of JSON at 1,000 campaigns) only to key the fits kept for it (0021) by its SHA-256. Now:
--   forecast_history_versions  one row per organisation: its history's version, a new value of one sequence
--                              (never reused) each time a statement changes what the history reads, set by the
--                              statement-level triggers below in the writing transaction;
--   forecast_histories         per organisation, currency and campaign left out: what a forecast's answer says of
--                              the history (its channels, which of them were spent on, how many campaigns, first
--                              start and last end), kept with the version it was read at;
--   forecast_fits.refusal      a KPI the history cannot fit (no or too little history) is kept as such, so a
--                              history without revenue does not send every forecast back to the history.
-- A request reads the version and that summary in one statement, then the fits kept under the version: a fit
-- is a function of the history, and the history of its version, so a kept fit answers exactly as a fresh one.
-- The history statement returns the version it read (the same snapshot), so a fit is never kept under a version
-- its history does not have.
--
-- What the history reads, and what changes its version:
--   campaigns          a completed campaign inserted, updated or deleted, or one updated to or from completed
--                      (the row is locked by its update, so a concurrent change sees the status it commits with);
--   measurements       any row inserted, updated or deleted (the history sums those of completed campaigns; a
--                      measurement of a campaign completing concurrently would otherwise escape the check);
--   campaign_segments  a row of a completed campaign, the campaigns locked FOR SHARE first (a segment added while
--                      the campaign completes waits for the completion, or the completion for it);
--   segments           any update or delete (sizes and the tree give a campaign's audience; a new segment is
--                      in no campaign yet);
--   TRUNCATE of any of them: every organisation's version.
-- Writes of campaigns that are not completed, of their segments, bookings and everything else leave the version
-- alone, so they take no lock here. A trigger disabled (ALTER TABLE … DISABLE TRIGGER) is a change the version
-- does not see: a maintenance script that does so bumps the versions itself (forecast_history_bump).

CREATE SEQUENCE forecast_history_version_seq;

CREATE TABLE forecast_history_versions (
    org_id  text PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    version bigint NOT NULL
);

CREATE TABLE forecast_histories (
    org_id   text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    excluded text NOT NULL, -- the campaign left out (a forecast of an existing campaign), '' for none
    version  bigint NOT NULL,
    summary  text NOT NULL,
    PRIMARY KEY (org_id, currency, excluded)
);

ALTER TABLE forecast_fits
    ALTER COLUMN model DROP NOT NULL,
    ADD COLUMN refusal text CHECK (refusal IN ('no_history', 'too_little_history')),
    ADD CHECK ((model IS NULL) <> (refusal IS NULL)); -- a model or a refusal, never both
-- the fits kept so far are keyed by the history's hash, which nothing reads any more
DELETE FROM forecast_fits;

-- A new version for each of p_orgs (NULLs and repeats ignored), in the order of their ids so that two
-- transactions bumping the same organisations lock their rows in the same order.
CREATE FUNCTION forecast_history_bump(p_orgs text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO forecast_history_versions AS v (org_id, version)
    SELECT o, nextval('forecast_history_version_seq')
      FROM (SELECT DISTINCT o FROM unnest(p_orgs) o WHERE o IS NOT NULL ORDER BY o) x
    ON CONFLICT (org_id) DO UPDATE SET version = EXCLUDED.version
$$;

-- Every organisation's (TRUNCATE).
CREATE FUNCTION forecast_history_bump_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM forecast_history_bump(ARRAY(SELECT id FROM organisations));
    RETURN NULL;
END $$;

-- Each statement reads its transition tables alone (no join between them: a plan cached for one size of them
-- stays right for any other, 0075).
CREATE FUNCTION forecast_history_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM forecast_history_bump(ARRAY(SELECT DISTINCT n.org_id FROM new_rows n WHERE n.status = 'completed'));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM forecast_history_bump(ARRAY(SELECT DISTINCT o.org_id FROM old_rows o WHERE o.status = 'completed'));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_forecast_history_insert AFTER INSERT ON campaigns REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaigns();
CREATE TRIGGER campaigns_forecast_history_update AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaigns();
CREATE TRIGGER campaigns_forecast_history_delete AFTER DELETE ON campaigns REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaigns();
CREATE TRIGGER campaigns_forecast_history_truncate AFTER TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_bump_all();

-- measurements and segments: the organisations of every row (TG_ARGV[0]: 'all', or 'old' for segments, whose
-- new rows are in no campaign's audience yet when inserted).
CREATE FUNCTION forecast_history_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND TG_ARGV[0] = 'all' THEN
        PERFORM forecast_history_bump(ARRAY(SELECT DISTINCT n.org_id FROM new_rows n));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM forecast_history_bump(ARRAY(SELECT DISTINCT o.org_id FROM old_rows o));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER measurements_forecast_history_insert AFTER INSERT ON measurements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_rows('all');
CREATE TRIGGER measurements_forecast_history_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_rows('all');
CREATE TRIGGER measurements_forecast_history_delete AFTER DELETE ON measurements REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_rows('all');
CREATE TRIGGER measurements_forecast_history_truncate AFTER TRUNCATE ON measurements
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_bump_all();
CREATE TRIGGER segments_forecast_history_update AFTER UPDATE ON segments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_rows('old');
CREATE TRIGGER segments_forecast_history_delete AFTER DELETE ON segments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_rows('old');
CREATE TRIGGER segments_forecast_history_truncate AFTER TRUNCATE ON segments
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_bump_all();

-- campaign_segments: the organisations of rows whose campaign is completed, read under FOR SHARE (which waits
-- for a concurrent update of the campaign, and makes one wait for this transaction). The campaigns' ids are
-- few (a campaign's segments), each read through campaigns_pkey.
CREATE FUNCTION forecast_history_campaign_segments() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_ids uuid[];
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_ids := ARRAY(SELECT DISTINCT n.campaign_id FROM new_rows n);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_ids := coalesce(v_ids, '{}') || ARRAY(SELECT DISTINCT o.campaign_id FROM old_rows o);
    END IF;
    PERFORM forecast_history_bump(ARRAY(
        SELECT x.org_id FROM (SELECT c.org_id, c.status FROM campaigns c WHERE c.id = ANY (v_ids)
                               ORDER BY c.id FOR SHARE) x
         WHERE x.status = 'completed'));
    RETURN NULL;
END $$;
CREATE TRIGGER campaign_segments_forecast_history_insert AFTER INSERT ON campaign_segments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaign_segments();
CREATE TRIGGER campaign_segments_forecast_history_update AFTER UPDATE ON campaign_segments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaign_segments();
CREATE TRIGGER campaign_segments_forecast_history_delete AFTER DELETE ON campaign_segments
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_campaign_segments();
CREATE TRIGGER campaign_segments_forecast_history_truncate AFTER TRUNCATE ON campaign_segments
    FOR EACH STATEMENT EXECUTE FUNCTION forecast_history_bump_all();

-- Every organisation starts from a version of its own (none of the fits above is kept any more).
SELECT forecast_history_bump(ARRAY(SELECT id FROM organisations));
