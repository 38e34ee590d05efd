-- 0003_outbox: the events later delivered as webhooks (SPEC §8). An event is
-- written in the same transaction as the change that causes it, so it exists
-- exactly when the change does; the delivery worker (a later issue) reads the
-- undelivered ones in id order.

CREATE TABLE outbox_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organisations (id),
    type         text NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    entity       text NOT NULL,
    entity_id    uuid NOT NULL,
    payload      jsonb NOT NULL,
    actor        text NOT NULL,
    request_id   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_events_entity ON outbox_events (org_id, entity, entity_id, id);

-- Records one event for the current request (actor and request id come from
-- campaignd_begin()).
-- (PL/pgSQL rather than SQL so the INSERT's plan is cached for the session:
-- a SQL function that cannot be inlined is planned again on every call.)
CREATE FUNCTION emit_event(p_org text, p_type text, p_entity text, p_entity_id uuid, p_payload jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor, request_id)
    VALUES (p_org, p_type, p_entity, p_entity_id, p_payload,
            coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
            nullif(current_setting('campaignd.request_id', true), ''));
END $$;

-- campaign.status_changed for every status change, whoever makes it (the
-- transitions route, the approval workflow, a material edit).
CREATE FUNCTION campaigns_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM emit_event(NEW.org_id, 'campaign.status_changed', 'campaign', NEW.id,
                       jsonb_build_object('campaign_id', NEW.id, 'from', OLD.status, 'to', NEW.status,
                                          'reason', NEW.status_reason));
    RETURN NULL;
END $$;

CREATE TRIGGER campaigns_status_event AFTER UPDATE OF status ON campaigns
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION campaigns_status_event();
