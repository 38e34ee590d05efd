-- 0026_booking_write_locks.sql — a booking write takes its campaign's and its resource's locks in one statement,
-- and the commitments' trigger function keeps only the branches that still fire.
--
-- bookings_guard (0025) took the campaign's share lock in one statement and the resource's lock, with the
-- resource's row and the organisation's time zone, in the next: two statements, each set up by the executor for
-- every booking written (README, "Bookings": a write's cost is mostly its statements' set-up). Now one statement
-- takes both when the write changes what the campaign holds, in the same order (the campaign's, then the
-- resource's: the lock order of every booking writer, 0010), since a statement's row locks are taken in the order
-- of its FOR clauses, each row's lock before the next's; a write that does not (a cancellation, a change of its
-- notes) takes the resource's alone, as before. The refusals and what they say are the same. When the campaign or
-- the resource is not the organisation's, nothing is locked and the foreign keys refuse the row, as they did for
-- a missing resource.
--
-- bookings_commitments() lost its INSERT branch's trigger to bookings_created (0055), which writes a new booking's
-- commitment with its audit entry and event; the branch is dropped so that the function says what runs.

CREATE OR REPLACE FUNCTION bookings_guard() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    r       record;
    v_status text; -- the campaign's, when its lock was taken with the resource's
    v_peak  bigint;
    v_away  jsonb;
    v_items jsonb;
BEGIN
    -- The campaign's share lock and its status, for a write that changes what the campaign holds (0010), then
    -- the per-resource lock (every writer of this resource's bookings waits here) with the resource's row and the
    -- organisation's time zone: one statement, whose row locks are taken in the order of its FOR clauses.
    IF NEW.status <> 'cancelled' AND (TG_OP = 'INSERT' OR NEW.status <> OLD.status OR NEW.period <> OLD.period
                                      OR NEW.quantity <> OLD.quantity) THEN
        SELECT c.status, res.exclusive, res.capacity, res.capacity_unit, res.cost_amount, res.cost_currency,
               res.active, o.time_zone
          INTO r FROM campaigns c, resources res JOIN organisations o ON o.id = res.org_id
         WHERE c.id = NEW.campaign_id AND (c.org_id = NEW.org_id) IS TRUE
           AND res.id = NEW.resource_id AND (res.org_id = NEW.org_id) IS TRUE
           FOR SHARE OF c FOR NO KEY UPDATE OF res;
        IF NOT FOUND THEN
            NEW.exclusive := false;
            RETURN NEW; -- the campaign or the resource is not the organisation's: a foreign key refuses it
        END IF;
        v_status := r.status;
        IF v_status IN ('cancelled', 'completed') THEN
            RAISE EXCEPTION 'campaign % is % and takes no bookings', NEW.campaign_id, v_status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_campaign_closed';
        END IF;
        IF v_status = 'scheduled' AND NEW.status = 'tentative' THEN
            RAISE EXCEPTION 'campaign % is scheduled: its bookings are confirmed', NEW.campaign_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_campaign_scheduled';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.org_id <> OLD.org_id OR NEW.campaign_id <> OLD.campaign_id OR NEW.resource_id <> OLD.resource_id THEN
            RAISE EXCEPTION 'a booking keeps its campaign and resource'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_fixed_refs';
        END IF;
        IF OLD.status = 'cancelled' AND (NEW.status <> 'cancelled' OR NEW.period <> OLD.period
                                         OR NEW.quantity <> OLD.quantity) THEN
            RAISE EXCEPTION 'a cancelled booking stays cancelled'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_cancelled_final';
        END IF;
    END IF;
    -- Otherwise (a cancellation, a change of its notes) the per-resource lock alone.
    IF v_status IS NULL THEN
        SELECT NULL::text AS status, res.exclusive, res.capacity, res.capacity_unit, res.cost_amount,
               res.cost_currency, res.active, o.time_zone
          INTO r FROM resources res JOIN organisations o ON o.id = res.org_id
         WHERE res.id = NEW.resource_id AND (res.org_id = NEW.org_id) IS TRUE FOR NO KEY UPDATE OF res;
        IF NOT FOUND THEN
            NEW.exclusive := false;
            RETURN NEW; -- the foreign key refuses it
        END IF;
    END IF;
    NEW.exclusive := r.exclusive;
    NEW.load_bucket := CASE r.capacity_unit
        WHEN 'hours_per_week' THEN date_trunc('week', lower(NEW.period) AT TIME ZONE r.time_zone)::date
        WHEN 'sends_per_day' THEN (lower(NEW.period) AT TIME ZONE r.time_zone)::date END;
    IF TG_OP = 'INSERT' OR NEW.quantity <> OLD.quantity THEN
        NEW.cost_amount := r.cost_amount * NEW.quantity;
        NEW.cost_currency := r.cost_currency;
    END IF;
    IF NEW.status = 'cancelled' THEN
        RETURN NEW;
    END IF;
    IF NOT r.active AND (TG_OP = 'INSERT' OR OLD.status = 'cancelled') THEN
        RAISE EXCEPTION 'the resource is inactive'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_resource_active';
    END IF;

    IF r.exclusive THEN
        SELECT (SELECT jsonb_agg(jsonb_build_object('type', 'availability', 'id', a.id, 'kind', a.kind,
                                                  'start', lower(a.period), 'end', upper(a.period))
                                ORDER BY lower(a.period))
                  FROM availability a WHERE a.resource_id = NEW.resource_id AND a.period && NEW.period),
               (SELECT jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id) FROM bookings b
                 WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
                   AND b.period && NEW.period)
          INTO v_away, v_items;
        IF v_away IS NOT NULL THEN
            PERFORM booking_refuse('resource_unavailable', 'the resource is unavailable in this period', v_away);
        END IF;
        IF v_items IS NOT NULL OR NEW.quantity > 1 THEN
            PERFORM booking_refuse('bookings_no_overlap', 'the resource is already booked in this period', v_items);
        END IF;
    ELSIF r.capacity_unit = 'concurrent' THEN
        -- The others' peak load over the new period: the load only rises where a booking starts.
        SELECT (SELECT jsonb_agg(jsonb_build_object('type', 'availability', 'id', a.id, 'kind', a.kind,
                                                  'start', lower(a.period), 'end', upper(a.period))
                                ORDER BY lower(a.period))
                  FROM availability a WHERE a.resource_id = NEW.resource_id AND a.period && NEW.period), coalesce(max(load), 0)
          INTO v_away, v_peak FROM (
            SELECT (SELECT sum(b.quantity) FROM bookings b
                     WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
                       AND b.period @> pt.t) AS load
              FROM (SELECT lower(NEW.period) AS t
                    UNION SELECT lower(b.period) FROM bookings b
                     WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
                       AND b.period && NEW.period AND lower(b.period) > lower(NEW.period)) pt) x;
        IF v_away IS NOT NULL THEN
            PERFORM booking_refuse('resource_unavailable', 'the resource is unavailable in this period', v_away);
        END IF;
        IF v_peak + NEW.quantity > r.capacity THEN
            SELECT jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id) INTO v_items FROM bookings b
             WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
               AND b.period && NEW.period;
            PERFORM booking_refuse('bookings_capacity',
                format('the resource holds at most %s overlapping units; %s are booked', r.capacity, v_peak), v_items);
        END IF;
    ELSE
        SELECT (SELECT jsonb_agg(jsonb_build_object('type', 'availability', 'id', a.id, 'kind', a.kind,
                                                  'start', lower(a.period), 'end', upper(a.period))
                                ORDER BY lower(a.period))
                  FROM availability a WHERE a.resource_id = NEW.resource_id AND a.period && NEW.period), coalesce(sum(b.quantity), 0),
               jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id)
          INTO v_away, v_peak, v_items FROM bookings b
         WHERE b.resource_id = NEW.resource_id AND b.load_bucket = NEW.load_bucket
           AND b.status <> 'cancelled' AND b.id <> NEW.id;
        IF v_away IS NOT NULL THEN
            PERFORM booking_refuse('resource_unavailable', 'the resource is unavailable in this period', v_away);
        END IF;
        IF v_peak + NEW.quantity > r.capacity THEN
            PERFORM booking_refuse('bookings_capacity',
                format('the resource holds %s %s; %s are booked in that %s', r.capacity,
                       replace(r.capacity_unit, '_', ' '), v_peak,
                       CASE r.capacity_unit WHEN 'hours_per_week' THEN 'week' ELSE 'day' END), v_items);
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION bookings_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the new rows that count are added, the old rows that counted taken away; most updates change nothing here
    -- (a new booking's commitment is written by bookings_created, 0055)
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
        SELECT d.org_id, d.campaign_id, d.currency, sum(d.amount) FROM (
            SELECT n.org_id, n.campaign_id, n.cost_currency AS currency, n.cost_amount AS amount
              FROM new_rows n WHERE booking_commits(n)
            UNION ALL
            SELECT o.org_id, o.campaign_id, o.cost_currency, -o.cost_amount FROM old_rows o WHERE booking_commits(o)) d
         GROUP BY d.org_id, d.campaign_id, d.currency
        HAVING sum(d.amount) <> 0
         ORDER BY d.campaign_id, d.currency
        ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
    ELSE
        -- a deleted campaign's bookings go with it, and so does its row here: the others' rows are updated only
        UPDATE campaign_commitments k SET amount = k.amount - d.amount
          FROM (SELECT o.campaign_id, o.cost_currency AS currency, sum(o.cost_amount) AS amount
                  FROM old_rows o WHERE booking_commits(o) GROUP BY o.campaign_id, o.cost_currency
                 ORDER BY o.campaign_id, o.cost_currency) d
         WHERE k.campaign_id = d.campaign_id AND k.currency = d.currency;
    END IF;
    RETURN NULL;
END $$;
