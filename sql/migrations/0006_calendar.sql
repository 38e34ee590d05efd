-- 0006_calendar.sql — what the shared calendar reads: availability by organisation
-- and period (GET /v1/calendar, the iCalendar feed; bookings have theirs), key events by their last day.
CREATE INDEX availability_org_period ON availability USING gist (org_id, period);
CREATE INDEX key_events_end ON key_events (org_id, end_date, id);

-- A feed token is looked up by its hash on every fetch; the hash is already UNIQUE (indexed).
-- Revoked tokens stay for the audit trail; a revocation is final.
CREATE FUNCTION feed_token_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'a revoked feed token stays revoked' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'calendar_feed_tokens_revoked_final';
    END IF;
    IF NEW.token_hash <> OLD.token_hash OR NEW.org_id <> OLD.org_id OR NEW.created_by <> OLD.created_by THEN
        RAISE EXCEPTION 'a feed token''s hash, organisation and creator are fixed' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'calendar_feed_tokens_fixed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER calendar_feed_tokens_guard BEFORE UPDATE ON calendar_feed_tokens
    FOR EACH ROW EXECUTE FUNCTION feed_token_guard();
