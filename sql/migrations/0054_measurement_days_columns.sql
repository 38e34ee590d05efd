-- 0054_measurement_days_columns.sql — the day rollup's trigger (measurement_days_apply, 0045) writes its counters
-- from one list. It had the same fourteen counters written out three times (the columns inserted, their signed
-- sums, their additions on conflict), and a counter added to one copy and not to the others would be summed into
-- the wrong column, or not at all, without an error. Each counter has its sum and n_<counter>, the rows that
-- reported it (0045's header says why). The statement it runs is the one 0045 wrote, column for column.

CREATE FUNCTION measurement_day_counters() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['impressions', 'reach', 'sends', 'opens', 'clicks', 'bounces', 'unsubscribes', 'visits', 'leads',
                 'mqls', 'sqls', 'conversions', 'spend', 'revenue']
$$;

CREATE OR REPLACE FUNCTION measurement_days_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_src text := CASE TG_OP WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
                             WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows o'
                             ELSE 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o' END;
    v_org text;
    v_cols text;
    v_sums text;
    v_adds text;
BEGIN
    EXECUTE format('SELECT min(x.org_id) FROM (%s) x', v_src) INTO v_org;
    IF v_org IS NULL THEN
        RETURN NULL;
    END IF;
    -- One writer of an organisation's day rows at a time (0045's header).
    PERFORM pg_advisory_xact_lock(hashtext('measurement_days'), hashtext(v_org));
    SELECT string_agg(format('%1$I, %2$I', t.c, 'n_' || t.c), ', ' ORDER BY t.i),
           string_agg(format('sum(x.sign * coalesce(x.%1$I, 0)), sum(x.sign * (x.%1$I IS NOT NULL)::int)', t.c),
                      ', ' ORDER BY t.i),
           string_agg(format('%1$I = d.%1$I + EXCLUDED.%1$I, %2$I = d.%2$I + EXCLUDED.%2$I', t.c, 'n_' || t.c),
                      ', ' ORDER BY t.i)
      INTO v_cols, v_sums, v_adds
      FROM unnest(measurement_day_counters()) WITH ORDINALITY AS t (c, i);
    EXECUTE format($q$
        INSERT INTO measurement_days AS d (org_id, date, channel, currency, n_rows, %2$s)
        SELECT x.org_id, x.date, coalesce(x.channel, ''), coalesce(x.currency, ''), sum(x.sign), %3$s
        FROM (%1$s) x
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, date, channel, currency) DO UPDATE SET n_rows = d.n_rows + EXCLUDED.n_rows, %4$s$q$,
        v_src, v_cols, v_sums, v_adds);
    RETURN NULL;
END $$;
