-- 0017_webhooks.sql — webhook subscriptions, their signing secrets, and the deliveries of outbox events to them
-- (Standard Webhooks). The worker in every replica fans new outbox events out into one delivery per matching
-- subscription, then claims due deliveries with FOR UPDATE SKIP LOCKED under a lease, so each attempt happens
-- in one replica only; everything it knows is in these tables, so delivery survives restarts.

CREATE TABLE webhook_subscriptions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            text NOT NULL REFERENCES organisations (id),
    url               text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048 AND url ~ '^https?://'),
    event_types       text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
    description       text CHECK (length(description) <= 500),
    active            boolean NOT NULL DEFAULT true,
    -- Why the service disabled it (NULL while active or when an admin turned it off): 'gone' after a 410,
    -- 'failing' after the configured time of consecutive failures.
    disabled_reason   text CHECK (disabled_reason IN ('gone', 'failing')),
    disabled_at       timestamptz,
    -- The start of the current run of failed attempts (NULL after a success).
    failing_since     timestamptz,
    secret_rotated_at timestamptz,
    version           integer NOT NULL DEFAULT 1,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT webhook_subscriptions_event_types CHECK (array_position(event_types, NULL) IS NULL AND
        array_to_string(event_types, ',') ~ '^([a-z]+\.[a-z_]+|\*)(,([a-z]+\.[a-z_]+|\*))*$'),
    CONSTRAINT webhook_subscriptions_disabled CHECK ((disabled_reason IS NULL) OR (NOT active AND disabled_at IS NOT NULL))
);
CREATE INDEX webhook_subscriptions_created ON webhook_subscriptions (org_id, created_at, id);
CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (org_id) WHERE active;

CREATE TRIGGER webhook_subscriptions_touch BEFORE UPDATE ON webhook_subscriptions
    FOR EACH ROW EXECUTE FUNCTION touch_row();
-- The audit trail sees the subscription, never its secrets (they live in webhook_secrets, which is not audited).
CREATE TRIGGER webhook_subscriptions_audit AFTER INSERT OR UPDATE OR DELETE ON webhook_subscriptions
    FOR EACH ROW EXECUTE FUNCTION audit_row('webhook');

-- The secrets a subscription's deliveries are signed with: the current one (expires_at NULL) and, for 24 hours
-- after a rotation, the one before it. Kept apart from the subscription so no audit entry or list carries them.
CREATE TABLE webhook_secrets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    secret          text NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{43}=$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz
);
CREATE UNIQUE INDEX webhook_secrets_current ON webhook_secrets (subscription_id) WHERE expires_at IS NULL;
CREATE INDEX webhook_secrets_subscription ON webhook_secrets (subscription_id, id);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          text NOT NULL,
    subscription_id uuid NOT NULL,
    event_id        bigint NOT NULL REFERENCES outbox_events (id),
    event_type      text NOT NULL,
    -- The JSON body exactly as sent: the same bytes on every attempt ({type, timestamp, data}).
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count   integer NOT NULL DEFAULT 0,
    -- When a pending delivery is next due; while an attempt is in flight, the end of its lease.
    next_attempt_at timestamptz,
    claim           uuid,            -- the lease of the attempt in flight, NULL when none
    manual          boolean NOT NULL DEFAULT false, -- the next attempt was asked for over the API
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id),
    CONSTRAINT webhook_deliveries_pending CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
    CONSTRAINT webhook_deliveries_subscription FOREIGN KEY (org_id, subscription_id)
        REFERENCES webhook_subscriptions (org_id, id) ON DELETE CASCADE
);
-- The worker's question: which pending deliveries are due (the lease moves next_attempt_at ahead).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, created_at, id);

CREATE TABLE webhook_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at              timestamptz NOT NULL,
    duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
    response_status integer,
    response_body   text CHECK (length(response_body) <= 1024),
    error           text CHECK (length(error) <= 300),
    manual          boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- A subscription that is not active holds its pending deliveries back: they are parked at 'infinity', out of the
-- worker's way (its due index stops at now()), and due again at once when it is active again.
CREATE FUNCTION webhook_subscriptions_park() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhook_deliveries
    SET next_attempt_at = CASE WHEN NEW.active THEN now() ELSE 'infinity' END, updated_at = now()
    WHERE subscription_id = NEW.id AND status = 'pending' AND claim IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_subscriptions_park AFTER UPDATE OF active ON webhook_subscriptions
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active) EXECUTE FUNCTION webhook_subscriptions_park();

-- Fans up to p_limit outbox events out into deliveries for the active subscriptions of their organisation that
-- want their type and existed when they happened, and marks them handed over (delivered_at). Concurrent callers
-- take disjoint events (SKIP LOCKED). Returns the number of events handed over.
CREATE FUNCTION webhook_fan_out(p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_n integer;
BEGIN
    WITH ev AS (
        SELECT id, org_id, type, payload, created_at FROM outbox_events
        WHERE delivered_at IS NULL ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), ins AS (
        INSERT INTO webhook_deliveries (org_id, subscription_id, event_id, event_type, body, next_attempt_at)
        SELECT ev.org_id, s.id, ev.id, ev.type,
               json_build_object('type', ev.type, 'data', ev.payload, 'timestamp',
                                 to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text,
               now()
        FROM ev JOIN webhook_subscriptions s ON s.org_id = ev.org_id AND s.active AND s.created_at <= ev.created_at
             AND (ev.type = ANY (s.event_types) OR '*' = ANY (s.event_types))
        ON CONFLICT (subscription_id, event_id) DO NOTHING
    )
    UPDATE outbox_events o SET delivered_at = now() FROM ev WHERE o.id = ev.id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;

-- Records the end of an attempt made under lease p_claim and decides what follows, in one transaction:
--   p_outcome 'success': the delivery succeeded, the subscription's run of failures ends;
--   'failure': retried after p_next_ms milliseconds, or failed for good when p_next_ms is NULL;
--   'gone' (410): failed, and the subscription disabled at once;
--   'released': the attempt did not happen (the service stopped): due again at once, nothing recorded.
-- A failure that extends the subscription's run of failures past p_disable_after disables it too, with an
-- endpoint.disabled event. Returns the delivery's status, or NULL when the lease was lost (nothing changed).
CREATE FUNCTION webhook_attempt_done(p_delivery uuid, p_claim uuid, p_at timestamptz, p_duration_ms integer,
                                     p_status integer, p_body text, p_error text, p_outcome text,
                                     p_next_ms bigint, p_disable_after interval)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d webhook_deliveries;
    s webhook_subscriptions;
    v_reason text;
BEGIN
    SELECT * INTO d FROM webhook_deliveries WHERE id = p_delivery AND claim = p_claim FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_outcome = 'released' THEN
        UPDATE webhook_deliveries
        SET claim = NULL, updated_at = now(),
            next_attempt_at = CASE WHEN (SELECT active FROM webhook_subscriptions WHERE id = d.subscription_id)
                                   THEN now() ELSE 'infinity' END
        WHERE id = d.id;
        RETURN 'pending';
    END IF;
    INSERT INTO webhook_attempts (delivery_id, at, duration_ms, response_status, response_body, error, manual)
    VALUES (d.id, p_at, greatest(p_duration_ms, 0), p_status, left(p_body, 1024), left(p_error, 300), d.manual);
    IF p_outcome = 'success' THEN
        UPDATE webhook_deliveries SET status = 'succeeded', attempt_count = attempt_count + 1, claim = NULL,
               next_attempt_at = NULL, manual = false, updated_at = now() WHERE id = d.id;
        UPDATE webhook_subscriptions SET failing_since = NULL
        WHERE id = d.subscription_id AND failing_since IS NOT NULL;
        RETURN 'succeeded';
    END IF;
    SELECT * INTO s FROM webhook_subscriptions WHERE id = d.subscription_id FOR UPDATE;
    IF p_outcome = 'gone' THEN
        v_reason := 'gone';
    ELSIF s.active AND coalesce(s.failing_since, p_at) <= now() - p_disable_after THEN
        v_reason := 'failing';
    END IF;
    UPDATE webhook_deliveries
    SET attempt_count = attempt_count + 1, claim = NULL, manual = false, updated_at = now(),
        status = CASE WHEN p_outcome = 'gone' OR p_next_ms IS NULL THEN 'failed' ELSE 'pending' END,
        next_attempt_at = CASE WHEN p_outcome = 'gone' OR p_next_ms IS NULL THEN NULL
                               WHEN NOT s.active OR v_reason IS NOT NULL THEN 'infinity'
                               ELSE now() + p_next_ms * interval '1 millisecond' END
    WHERE id = d.id;
    IF v_reason IS NOT NULL AND s.active THEN
        UPDATE webhook_subscriptions SET active = false, disabled_reason = v_reason, disabled_at = now(),
               failing_since = coalesce(failing_since, p_at)
        WHERE id = s.id;
        PERFORM emit_event(s.org_id, 'endpoint.disabled', 'webhook', s.id,
                           jsonb_build_object('webhook_id', s.id, 'url', s.url, 'reason', v_reason,
                                              'failing_since', coalesce(s.failing_since, p_at),
                                              'response_status', p_status));
    ELSIF s.failing_since IS NULL THEN
        UPDATE webhook_subscriptions SET failing_since = p_at WHERE id = s.id;
    END IF;
    RETURN CASE WHEN p_outcome = 'gone' OR p_next_ms IS NULL THEN 'failed' ELSE 'pending' END;
END $$;

-- campaign.created and campaign.updated (SPEC §8): a new campaign, and any change to one other than its status
-- (which is campaign.status_changed, 0003_outbox.sql).
CREATE FUNCTION campaign_ref(c campaigns) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('campaign_id', c.id, 'name', c.name, 'owner', c.owner, 'status', c.status,
                              'start_date', c.start_date, 'end_date', c.end_date, 'version', c.version)
$$;

CREATE FUNCTION campaigns_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM emit_event(NEW.org_id, 'campaign.created', 'campaign', NEW.id, campaign_ref(NEW));
    ELSIF to_jsonb(OLD) - '{status,status_reason,version,updated_at}'::text[]
          IS DISTINCT FROM to_jsonb(NEW) - '{status,status_reason,version,updated_at}'::text[] THEN
        PERFORM emit_event(NEW.org_id, 'campaign.updated', 'campaign', NEW.id, campaign_ref(NEW));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER campaigns_change_event AFTER INSERT OR UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_change_event();
