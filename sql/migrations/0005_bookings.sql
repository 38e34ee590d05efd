-- 0005_bookings: resources, their availability, bookings, key events and
-- calendar feed tokens. Double booking is made impossible here, not in C:
--   * every booking write locks its resource row first (bookings_guard), so
--     writers of one resource queue up on any replica and a loser fails
--     cleanly with 23P01 instead of deadlocking;
--   * an exclusion constraint keeps exclusive resources free of overlaps even
--     if that lock were ever bypassed;
--   * capacity (concurrent units, hours per ISO week, sends per day) and
--     availability are checked under that lock by the same trigger.
-- A refusal is raised as exclusion_violation (23P01) naming the rule as its
-- constraint and listing what is in the way as JSON in its DETAIL.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- A finite, non-empty, half-open [start, end) period.
CREATE FUNCTION period_ok(p tstzrange) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NOT isempty(p) AND NOT lower_inf(p) AND NOT upper_inf(p) AND lower_inc(p) AND NOT upper_inc(p)
           AND isfinite(lower(p)) AND isfinite(upper(p))
$$;

CREATE TABLE resources (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        text NOT NULL REFERENCES organisations (id),
    kind          text NOT NULL CHECK (kind IN ('channel', 'person', 'slot', 'budget_pool')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    capacity      integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 1000000),
    capacity_unit text NOT NULL DEFAULT 'concurrent'
        CHECK (capacity_unit IN ('concurrent', 'hours_per_week', 'sends_per_day')),
    cost_amount   numeric(16, 2) CHECK (cost_amount >= 0),
    cost_currency text CHECK (cost_currency ~ '^[A-Z]{3}$'),
    skills        text[] NOT NULL DEFAULT '{}' CHECK (cardinality(skills) <= 50),
    notes         text CHECK (length(notes) <= 2000),
    active        boolean NOT NULL DEFAULT true,
    exclusive     boolean GENERATED ALWAYS AS (capacity = 1 AND capacity_unit = 'concurrent') STORED,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    -- Target of bookings' (org_id, resource_id, exclusive) key: a booking's copy of the flag can only
    -- be the resource's, and follows it when the capacity changes (ON UPDATE CASCADE).
    CONSTRAINT resources_exclusive_key UNIQUE (org_id, id, exclusive),
    CONSTRAINT resources_name_unique UNIQUE (org_id, name),
    CONSTRAINT resources_cost_pair CHECK ((cost_amount IS NULL) = (cost_currency IS NULL)),
    CONSTRAINT resources_unit_kind CHECK (capacity_unit = 'concurrent'
        OR (capacity_unit = 'hours_per_week' AND kind = 'person')
        OR (capacity_unit = 'sends_per_day' AND kind = 'channel')),
    CONSTRAINT resources_skills_people CHECK (kind = 'person' OR cardinality(skills) = 0)
);
CREATE INDEX resources_created ON resources (org_id, created_at, id);
CREATE INDEX resources_name ON resources (org_id, name, id);
CREATE TRIGGER resources_touch BEFORE UPDATE ON resources FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER resources_audit AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION audit_row('resource');

CREATE TABLE availability (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL,
    resource_id uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('unavailable', 'leave', 'blackout')),
    period      tstzrange NOT NULL CONSTRAINT availability_period CHECK (period_ok(period)),
    note        text CHECK (length(note) <= 2000),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_resource FOREIGN KEY (org_id, resource_id)
        REFERENCES resources (org_id, id) ON DELETE CASCADE
);
CREATE INDEX availability_resource_period ON availability USING gist (resource_id, period);
CREATE TRIGGER availability_audit AFTER INSERT OR UPDATE OR DELETE ON availability
    FOR EACH ROW EXECUTE FUNCTION audit_row('availability');

CREATE TABLE bookings (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        text NOT NULL,
    campaign_id   uuid NOT NULL,
    resource_id   uuid NOT NULL,
    segment_id    uuid,
    period        tstzrange NOT NULL CONSTRAINT bookings_period CHECK (period_ok(period)),
    quantity      integer NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 1000000),
    status        text NOT NULL DEFAULT 'tentative' CHECK (status IN ('tentative', 'confirmed', 'cancelled')),
    notes         text CHECK (length(notes) <= 2000),
    status_reason text CHECK (length(status_reason) <= 1000),
    cost_amount   numeric(16, 2),
    cost_currency text,
    -- The resource's flag (capacity 1, concurrent), held equal to it by the foreign key below so the
    -- exclusion constraint needs no trigger; and the ISO week / day the quantity counts in (set by
    -- bookings_guard).
    exclusive     boolean NOT NULL,
    load_bucket   date,
    created_by    text NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_campaign FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id) ON DELETE CASCADE,
    CONSTRAINT bookings_resource FOREIGN KEY (org_id, resource_id, exclusive)
        REFERENCES resources (org_id, id, exclusive) ON UPDATE CASCADE,
    CONSTRAINT bookings_segment FOREIGN KEY (org_id, segment_id) REFERENCES segments (org_id, id),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (resource_id WITH =, period WITH &&)
        WHERE (exclusive AND status <> 'cancelled')
);
CREATE INDEX bookings_resource_period ON bookings USING gist (resource_id, period) WHERE status <> 'cancelled';
CREATE INDEX bookings_resource_bucket ON bookings (resource_id, load_bucket) WHERE status <> 'cancelled';
CREATE INDEX bookings_created ON bookings (org_id, created_at, id);
CREATE INDEX bookings_start ON bookings (org_id, lower(period), id);
CREATE INDEX bookings_campaign_idx ON bookings (campaign_id);
CREATE INDEX bookings_segment_idx ON bookings (segment_id) WHERE segment_id IS NOT NULL;
CREATE INDEX bookings_org_period ON bookings USING gist (org_id, period);

-- What a refusal names: a booking or an availability period in the way.
CREATE FUNCTION booking_ref(b bookings) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('type', 'booking', 'id', b.id, 'campaign_id', b.campaign_id,
                              'start', lower(b.period), 'end', upper(b.period), 'status', b.status,
                              'quantity', b.quantity)
$$;

CREATE FUNCTION booking_refuse(p_rule text, p_message text, p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', p_message
        USING ERRCODE = 'exclusion_violation', CONSTRAINT = p_rule, DETAIL = coalesce(p_items, '[]')::text;
END $$;

CREATE FUNCTION bookings_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r       resources;
    v_tz    text;
    v_peak  bigint;
    v_items jsonb;
BEGIN
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
    SELECT * INTO r FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        NEW.exclusive := false;
        RETURN NEW; -- the foreign key refuses it
    END IF;
    SELECT time_zone INTO v_tz FROM organisations WHERE id = NEW.org_id;
    NEW.exclusive := r.exclusive;
    NEW.load_bucket := CASE r.capacity_unit
        WHEN 'hours_per_week' THEN date_trunc('week', lower(NEW.period) AT TIME ZONE v_tz)::date
        WHEN 'sends_per_day' THEN (lower(NEW.period) AT TIME ZONE v_tz)::date END;
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

    SELECT jsonb_agg(jsonb_build_object('type', 'availability', 'id', a.id, 'kind', a.kind,
                                        'start', lower(a.period), 'end', upper(a.period)) ORDER BY lower(a.period))
      INTO v_items FROM availability a WHERE a.resource_id = NEW.resource_id AND a.period && NEW.period;
    IF v_items IS NOT NULL THEN
        PERFORM booking_refuse('resource_unavailable', 'the resource is unavailable in this period', v_items);
    END IF;

    IF r.capacity_unit = 'concurrent' THEN
        -- The others' peak load over the new period: the load only rises where a booking starts.
        SELECT coalesce(max(load), 0) INTO v_peak FROM (
            SELECT (SELECT sum(b.quantity) FROM bookings b
                     WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
                       AND b.period @> pt.t) AS load
              FROM (SELECT lower(NEW.period) AS t
                    UNION SELECT lower(b.period) FROM bookings b
                     WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
                       AND b.period && NEW.period AND lower(b.period) > lower(NEW.period)) pt) x;
        IF v_peak + NEW.quantity > r.capacity THEN
            SELECT jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id) INTO v_items FROM bookings b
             WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.id <> NEW.id
               AND b.period && NEW.period;
            IF r.capacity = 1 THEN
                PERFORM booking_refuse('bookings_no_overlap', 'the resource is already booked in this period', v_items);
            END IF;
            PERFORM booking_refuse('bookings_capacity',
                format('the resource holds at most %s overlapping units; %s are booked', r.capacity, v_peak), v_items);
        END IF;
    ELSE
        SELECT coalesce(sum(b.quantity), 0), jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id)
          INTO v_peak, v_items FROM bookings b
         WHERE b.resource_id = NEW.resource_id AND b.load_bucket = NEW.load_bucket
           AND b.status <> 'cancelled' AND b.id <> NEW.id;
        IF v_peak + NEW.quantity > r.capacity THEN
            PERFORM booking_refuse('bookings_capacity',
                format('the resource holds %s %s; %s are booked in that %s', r.capacity,
                       replace(r.capacity_unit, '_', ' '), v_peak,
                       CASE r.capacity_unit WHEN 'hours_per_week' THEN 'week' ELSE 'day' END), v_items);
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER bookings_guard BEFORE INSERT OR UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION bookings_guard();
CREATE TRIGGER bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER bookings_audit AFTER INSERT OR UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION audit_row('booking');

CREATE FUNCTION bookings_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM emit_event(NEW.org_id, 'booking.created', 'booking', NEW.id, booking_ref(NEW));
    ELSIF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        PERFORM emit_event(NEW.org_id, 'booking.cancelled', 'booking', NEW.id, booking_ref(NEW));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_event AFTER INSERT OR UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_event();

-- Leave over existing bookings is refused like a booking over leave.
CREATE FUNCTION availability_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_items jsonb;
BEGIN
    PERFORM 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id FOR NO KEY UPDATE;
    SELECT jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id) INTO v_items FROM bookings b
     WHERE b.resource_id = NEW.resource_id AND b.status <> 'cancelled' AND b.period && NEW.period;
    IF v_items IS NOT NULL THEN
        PERFORM booking_refuse('availability_booked', 'bookings already hold the resource in this period', v_items);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER availability_guard BEFORE INSERT OR UPDATE ON availability
    FOR EACH ROW EXECUTE FUNCTION availability_guard();

-- A new capacity re-checks every live booking of the resource under its lock
-- (the guard runs for each); a capacity that no longer fits is refused. When
-- the resource becomes or stops being exclusive, the foreign key's cascade
-- already updates (and so re-checks) every booking.
CREATE FUNCTION resources_recheck() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings SET period = period WHERE resource_id = NEW.id AND status <> 'cancelled';
    RETURN NULL;
END $$;
CREATE TRIGGER resources_recheck AFTER UPDATE OF capacity, capacity_unit ON resources
    FOR EACH ROW WHEN (OLD.exclusive = NEW.exclusive AND (OLD.capacity <> NEW.capacity OR OLD.capacity_unit <> NEW.capacity_unit))
    EXECUTE FUNCTION resources_recheck();

CREATE TABLE key_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL REFERENCES organisations (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('industry_event', 'holiday', 'sales_period', 'blackout')),
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    description text CHECK (length(description) <= 2000),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT key_events_dates CHECK (end_date >= start_date)
);
CREATE INDEX key_events_start ON key_events (org_id, start_date, id);
CREATE INDEX key_events_created ON key_events (org_id, created_at, id);
CREATE TRIGGER key_events_touch BEFORE UPDATE ON key_events FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER key_events_audit AFTER INSERT OR UPDATE OR DELETE ON key_events
    FOR EACH ROW EXECUTE FUNCTION audit_row('key_event');

-- Read-only tokens for calendar subscriptions (only their SHA-256 is kept).
CREATE TABLE calendar_feed_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     text NOT NULL REFERENCES organisations (id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    filters    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filters) = 'object'),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    UNIQUE (org_id, id)
);
CREATE INDEX calendar_feed_tokens_created ON calendar_feed_tokens (org_id, created_at, id);
CREATE TRIGGER calendar_feed_tokens_audit AFTER INSERT OR UPDATE OR DELETE ON calendar_feed_tokens
    FOR EACH ROW EXECUTE FUNCTION audit_row('calendar_feed_token');
