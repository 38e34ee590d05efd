-- 0025_booking_guard_statements.sql — a booking's rules before its row is written run in one trigger and fewer
-- statements.
--
-- Two BEFORE row triggers ran for every booking write: bookings_campaign_gate (0010: the campaign's share lock
-- and its status) and bookings_guard (0005: the resource's lock, the organisation's time zone, availability, then
-- the load), five statements for a booking of an exclusive resource, each set up by the executor for every
-- execution (README, "Bookings"). Now bookings_guard does both, in the same order (the campaign's lock, then the
-- resource's: the lock order of every booking writer, 0010), with the same refusals:
--   * the resource's row and the organisation's time zone are read in the statement that locks the resource;
--   * what is in the way is read in one statement: the availability and the bookings of an exclusive resource
--     (any live booking overlapping is in the way: its capacity is one unit, and the exclusion constraint
--     bookings_no_overlap stays the final word), or the availability and the load of the others.
-- Its plans still price sequential scans out (0039_guards_without_statistics.sql), which this definition keeps,
-- and are generic: PL/pgSQL's plan cache tries custom plans (planned for the row's values) first and keeps them
-- when the generic plan is priced higher, and with sequential scans priced out the statement of what is in the
-- way was planned again for every booking (pg_stat_statements with track_planning: one plan per call, 0.11 ms
-- of planning a write against 0.02 ms of execution). Its generic plan reads the same indexes.

DROP TRIGGER bookings_campaign_gate ON bookings;
DROP FUNCTION bookings_campaign_gate();

CREATE OR REPLACE FUNCTION bookings_guard() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    r       record;
    v_status text;
    v_peak  bigint;
    v_away  jsonb;
    v_items jsonb;
BEGIN
    -- The campaign's share lock and its status, for a write that changes what the campaign holds (0010).
    IF NEW.status <> 'cancelled' AND (TG_OP = 'INSERT' OR NEW.status <> OLD.status OR NEW.period <> OLD.period
                                      OR NEW.quantity <> OLD.quantity) THEN
        SELECT c.status INTO v_status FROM campaigns c
         WHERE c.id = NEW.campaign_id AND (c.org_id = NEW.org_id) IS TRUE FOR SHARE;
        -- not found: the foreign key refuses it
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
    -- The per-resource lock: every writer of this resource's bookings waits here.
    SELECT res.exclusive, res.capacity, res.capacity_unit, res.cost_amount, res.cost_currency, res.active,
           o.time_zone
      INTO r FROM resources res JOIN organisations o ON o.id = res.org_id
     WHERE res.id = NEW.resource_id AND res.org_id = NEW.org_id FOR NO KEY UPDATE OF res;
    IF NOT FOUND THEN
        NEW.exclusive := false;
        RETURN NEW; -- the foreign key refuses it
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

-- bookings_resource_bucket serves the loads counted by week or day (the guard above, the capacity dashboard);
-- a booking of a resource counted otherwise has no bucket, and its entry there was one more index insertion
-- for every such write that nothing read. Every reader compares load_bucket, which implies it is not null.
DROP INDEX bookings_resource_bucket;
CREATE INDEX bookings_resource_bucket ON bookings (resource_id, load_bucket)
    WHERE load_bucket IS NOT NULL AND status <> 'cancelled';
