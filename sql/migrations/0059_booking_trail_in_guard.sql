-- 0059_booking_trail_in_guard.sql — a new booking's audit entry, booking.created event and commitment are
-- written by its guard, under the locks the guard took, and the statement-level trigger after the insert is gone.
--
-- Since 0055 one statement-level trigger (bookings_created) wrote them after every INSERT on bookings: its call
-- (the transition table of the new rows captured, the trigger function started after the statement) and one
-- statement of three parts, whose commitment part (an aggregate, a sort and an upsert set up by the executor)
-- ran even when no new row had a cost, as in most writes. perf on the backends under bookings.sh: that trigger
-- was about 15 % of PostgreSQL's CPU a write, the commitment part's set-up about a fifth of it. Now:
--
--   * the guard (bookings_guard, the BEFORE ROW trigger every booking write already runs) writes the new
--     booking's audit entry and its event with the row as stored: it is the only trigger before the insert and
--     it has set everything it sets (exclusive, load_bucket, the cost) by then. For a live booking of an
--     exclusive resource (the hot path: a slot, a person) they are written by the statement that reads what is in
--     the way of the booking, so that write costs no statement of its own; a refusal raised after it rolls them
--     back with the row, as the row's failure rolls back everything else of its statement;
--   * a booking that commits a cost (live, with a cost, not on a budget pool: booking_commits()) adds it to its
--     campaign's row of campaign_commitments, one upsert by key, only then. Row by row, a bulk load of costed
--     bookings now writes that row once per booking rather than once per campaign: it takes the row's lock in
--     the order of its rows, as the guard already takes the campaigns' and the resources' locks;
--   * updates and deletes are unchanged (audit_row, bookings_event, the commitments' statement triggers).
--
-- Each new row still gets one audit entry and one event, in the order of the rows, in the writer's transaction;
-- tests/db/test_booking_store.c holds it.

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
        SELECT c.status, res.kind, res.exclusive, res.capacity, res.capacity_unit, res.cost_amount,
               res.cost_currency, res.active, o.time_zone
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
        SELECT NULL::text AS status, res.kind, res.exclusive, res.capacity, res.capacity_unit, res.cost_amount,
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
    <<checks>>
    BEGIN
        IF NEW.status = 'cancelled' THEN
            EXIT checks; -- a cancelled booking holds nothing
        END IF;
        IF NOT r.active AND (TG_OP = 'INSERT' OR OLD.status = 'cancelled') THEN
            RAISE EXCEPTION 'the resource is inactive'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_resource_active';
        END IF;

        IF r.exclusive THEN
            -- What is in the way, and a new booking's audit entry and booking.created event written by the same
            -- statement (one statement's set-up fewer on the hot path); a refusal below rolls them back with the row.
            WITH audit AS (
                INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
                SELECT NEW.org_id, coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
                       coalesce(nullif(current_setting('campaignd.role', true), ''), 'system'), 'create', 'booking',
                       NEW.id, NULL, to_jsonb(NEW), nullif(current_setting('campaignd.request_id', true), '')
                 WHERE TG_OP = 'INSERT'
            ), event AS (
                INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor, request_id)
                SELECT NEW.org_id, 'booking.created', 'booking', NEW.id, booking_ref(NEW),
                       coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
                       nullif(current_setting('campaignd.request_id', true), '')
                 WHERE TG_OP = 'INSERT'
            )
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
    END;
    -- A new booking's audit entry and booking.created event, as stored (no trigger after this one changes the row),
    -- in its statement's transaction; a live booking of an exclusive resource had them written by its look-up
    -- above. Then what it commits of its campaign's budget (booking_commits(): live, a cost, not a budget pool).
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'cancelled' OR NOT r.exclusive THEN
            WITH audit AS (
                INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
                VALUES (NEW.org_id, coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
                        coalesce(nullif(current_setting('campaignd.role', true), ''), 'system'), 'create', 'booking',
                        NEW.id, NULL, to_jsonb(NEW), nullif(current_setting('campaignd.request_id', true), ''))
            )
            INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor, request_id)
            VALUES (NEW.org_id, 'booking.created', 'booking', NEW.id, booking_ref(NEW),
                    coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
                    nullif(current_setting('campaignd.request_id', true), ''));
        END IF;
        IF NEW.status <> 'cancelled' AND NEW.cost_amount IS NOT NULL AND r.kind <> 'budget_pool' THEN
            INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
            VALUES (NEW.org_id, NEW.campaign_id, NEW.cost_currency, NEW.cost_amount)
            ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
        END IF;
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER bookings_created ON bookings;
DROP FUNCTION bookings_created();
