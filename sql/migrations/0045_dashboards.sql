-- 0045_dashboards.sql — what the dashboards read: measured counters summed per organisation, channel, currency
-- and day, kept in step with measurements in the statement that writes them.
--
--   measurement_days  one row per (org_id, date, channel, currency): the sums of every counter of the
--                     measurements of that day ('' for no channel; '' for campaigns without a budget, whose
--                     rows carry no money) and, per counter, how many rows reported it (n_<counter>: a
--                     counter no row reported is null on a dashboard, not 0). `n_rows` counts the
--                     measurements. The channel and portfolio dashboards sum a window of these rows
--                     instead of the measurements themselves: a year is ~1,100 rows per channel set, not
--                     the ~1,000,000 measurements a large organisation pushes in a year.
--
-- Statement-level triggers on measurements apply each statement's rows at once (new rows added, old rows
-- taken away), so a 10,000-row batch is one INSERT ... ON CONFLICT here. A writer takes a transaction-scoped
-- advisory lock on its organisation before touching its day rows: the INSERT and UPDATE triggers of one
-- upsert are two statements, each taking day rows in key order, and without the lock two batches could
-- take them in crossed orders and deadlock. The lock comes after the statement's own rows are written (an
-- AFTER trigger), so it is held only for the short tail of the transaction, and nothing waits for a lock
-- while holding it.
--
-- Measurements now always carry their campaign's budget currency (not only rows with money), so a
-- campaign's counts and its money group together; existing rows are given it here.

UPDATE measurements m SET currency = c.budget_currency
FROM campaigns c
WHERE c.org_id = m.org_id AND c.id = m.campaign_id AND m.currency IS NULL AND c.budget_currency IS NOT NULL;

CREATE TABLE measurement_days (
    org_id       text NOT NULL,
    date         date NOT NULL,
    channel      text NOT NULL,
    currency     text NOT NULL,
    n_rows       integer NOT NULL DEFAULT 0,
    impressions  bigint  NOT NULL DEFAULT 0, n_impressions  integer NOT NULL DEFAULT 0,
    reach        bigint  NOT NULL DEFAULT 0, n_reach        integer NOT NULL DEFAULT 0,
    sends        bigint  NOT NULL DEFAULT 0, n_sends        integer NOT NULL DEFAULT 0,
    opens        bigint  NOT NULL DEFAULT 0, n_opens        integer NOT NULL DEFAULT 0,
    clicks       bigint  NOT NULL DEFAULT 0, n_clicks       integer NOT NULL DEFAULT 0,
    bounces      bigint  NOT NULL DEFAULT 0, n_bounces      integer NOT NULL DEFAULT 0,
    unsubscribes bigint  NOT NULL DEFAULT 0, n_unsubscribes integer NOT NULL DEFAULT 0,
    visits       bigint  NOT NULL DEFAULT 0, n_visits       integer NOT NULL DEFAULT 0,
    leads        bigint  NOT NULL DEFAULT 0, n_leads        integer NOT NULL DEFAULT 0,
    mqls         bigint  NOT NULL DEFAULT 0, n_mqls         integer NOT NULL DEFAULT 0,
    sqls         bigint  NOT NULL DEFAULT 0, n_sqls         integer NOT NULL DEFAULT 0,
    conversions  bigint  NOT NULL DEFAULT 0, n_conversions  integer NOT NULL DEFAULT 0,
    spend        numeric NOT NULL DEFAULT 0, n_spend        integer NOT NULL DEFAULT 0,
    revenue      numeric NOT NULL DEFAULT 0, n_revenue      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, date, channel, currency)
);

-- The rows of the statement that fired: added (new_rows), taken away (old_rows), or both for an update. The
-- transition tables exist only for their own event, so the source is chosen before the statement is planned.
CREATE FUNCTION measurement_days_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_src text := CASE TG_OP WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
                             WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows o'
                             ELSE 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o' END;
    v_org text;
BEGIN
    EXECUTE format('SELECT min(x.org_id) FROM (%s) x', v_src) INTO v_org;
    IF v_org IS NULL THEN
        RETURN NULL;
    END IF;
    -- One writer of an organisation's day rows at a time (see the header).
    PERFORM pg_advisory_xact_lock(hashtext('measurement_days'), hashtext(v_org));
    EXECUTE format($q$
        INSERT INTO measurement_days AS d (org_id, date, channel, currency, n_rows, impressions, n_impressions, reach, n_reach, sends, n_sends, opens, n_opens, clicks, n_clicks, bounces, n_bounces, unsubscribes, n_unsubscribes, visits, n_visits, leads, n_leads, mqls, n_mqls, sqls, n_sqls, conversions, n_conversions, spend, n_spend, revenue, n_revenue)
        SELECT x.org_id, x.date, coalesce(x.channel, ''), coalesce(x.currency, ''), sum(x.sign),
               sum(x.sign * coalesce(x.impressions, 0)), sum(x.sign * (x.impressions IS NOT NULL)::int),
               sum(x.sign * coalesce(x.reach, 0)), sum(x.sign * (x.reach IS NOT NULL)::int),
               sum(x.sign * coalesce(x.sends, 0)), sum(x.sign * (x.sends IS NOT NULL)::int),
               sum(x.sign * coalesce(x.opens, 0)), sum(x.sign * (x.opens IS NOT NULL)::int),
               sum(x.sign * coalesce(x.clicks, 0)), sum(x.sign * (x.clicks IS NOT NULL)::int),
               sum(x.sign * coalesce(x.bounces, 0)), sum(x.sign * (x.bounces IS NOT NULL)::int),
               sum(x.sign * coalesce(x.unsubscribes, 0)), sum(x.sign * (x.unsubscribes IS NOT NULL)::int),
               sum(x.sign * coalesce(x.visits, 0)), sum(x.sign * (x.visits IS NOT NULL)::int),
               sum(x.sign * coalesce(x.leads, 0)), sum(x.sign * (x.leads IS NOT NULL)::int),
               sum(x.sign * coalesce(x.mqls, 0)), sum(x.sign * (x.mqls IS NOT NULL)::int),
               sum(x.sign * coalesce(x.sqls, 0)), sum(x.sign * (x.sqls IS NOT NULL)::int),
               sum(x.sign * coalesce(x.conversions, 0)), sum(x.sign * (x.conversions IS NOT NULL)::int),
               sum(x.sign * coalesce(x.spend, 0)), sum(x.sign * (x.spend IS NOT NULL)::int),
               sum(x.sign * coalesce(x.revenue, 0)), sum(x.sign * (x.revenue IS NOT NULL)::int)
        FROM (%s) x
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, date, channel, currency) DO UPDATE SET
            n_rows = d.n_rows + EXCLUDED.n_rows,
            impressions = d.impressions + EXCLUDED.impressions, n_impressions = d.n_impressions + EXCLUDED.n_impressions,
            reach = d.reach + EXCLUDED.reach, n_reach = d.n_reach + EXCLUDED.n_reach,
            sends = d.sends + EXCLUDED.sends, n_sends = d.n_sends + EXCLUDED.n_sends,
            opens = d.opens + EXCLUDED.opens, n_opens = d.n_opens + EXCLUDED.n_opens,
            clicks = d.clicks + EXCLUDED.clicks, n_clicks = d.n_clicks + EXCLUDED.n_clicks,
            bounces = d.bounces + EXCLUDED.bounces, n_bounces = d.n_bounces + EXCLUDED.n_bounces,
            unsubscribes = d.unsubscribes + EXCLUDED.unsubscribes, n_unsubscribes = d.n_unsubscribes + EXCLUDED.n_unsubscribes,
            visits = d.visits + EXCLUDED.visits, n_visits = d.n_visits + EXCLUDED.n_visits,
            leads = d.leads + EXCLUDED.leads, n_leads = d.n_leads + EXCLUDED.n_leads,
            mqls = d.mqls + EXCLUDED.mqls, n_mqls = d.n_mqls + EXCLUDED.n_mqls,
            sqls = d.sqls + EXCLUDED.sqls, n_sqls = d.n_sqls + EXCLUDED.n_sqls,
            conversions = d.conversions + EXCLUDED.conversions, n_conversions = d.n_conversions + EXCLUDED.n_conversions,
            spend = d.spend + EXCLUDED.spend, n_spend = d.n_spend + EXCLUDED.n_spend,
            revenue = d.revenue + EXCLUDED.revenue, n_revenue = d.n_revenue + EXCLUDED.n_revenue$q$, v_src);
    RETURN NULL;
END $$;

CREATE TRIGGER measurements_days_insert AFTER INSERT ON measurements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION measurement_days_apply();
CREATE TRIGGER measurements_days_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION measurement_days_apply();
CREATE TRIGGER measurements_days_delete AFTER DELETE ON measurements REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION measurement_days_apply();

-- The rows already stored.
INSERT INTO measurement_days (org_id, date, channel, currency, n_rows, impressions, n_impressions, reach, n_reach, sends, n_sends, opens, n_opens, clicks, n_clicks, bounces, n_bounces, unsubscribes, n_unsubscribes, visits, n_visits, leads, n_leads, mqls, n_mqls, sqls, n_sqls, conversions, n_conversions, spend, n_spend, revenue, n_revenue)
SELECT org_id, date, coalesce(channel, ''), coalesce(currency, ''), count(*),
       coalesce(sum(impressions), 0), count(impressions),
       coalesce(sum(reach), 0), count(reach),
       coalesce(sum(sends), 0), count(sends),
       coalesce(sum(opens), 0), count(opens),
       coalesce(sum(clicks), 0), count(clicks),
       coalesce(sum(bounces), 0), count(bounces),
       coalesce(sum(unsubscribes), 0), count(unsubscribes),
       coalesce(sum(visits), 0), count(visits),
       coalesce(sum(leads), 0), count(leads),
       coalesce(sum(mqls), 0), count(mqls),
       coalesce(sum(sqls), 0), count(sqls),
       coalesce(sum(conversions), 0), count(conversions),
       coalesce(sum(spend), 0), count(spend),
       coalesce(sum(revenue), 0), count(revenue)
FROM measurements
GROUP BY 1, 2, 3, 4;
