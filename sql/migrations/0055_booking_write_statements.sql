-- 0055_booking_write_statements.sql — a new booking's audit entry, `booking.created` event and commitment are
-- written by one statement, and a write's request context without writing the organisation again.
--
-- A booking write was bounded by the statements it runs, each set up by the executor for every execution
-- (README, "Bookings"): 12 sent and 10 run by the triggers. After the insert, four row triggers and one statement
-- trigger each ran their own: the audit entry (audit_row), the event (bookings_event → emit_event: a SELECT
-- around the INSERT), the conflict notes (a SELECT that found nothing to note) and the commitments (an upsert
-- that read each new row's resource through booking_commits(), another statement per row). Now:
--
--   * bookings_created, one statement-level trigger on INSERT, writes the audit entries, the events and the
--     commitments of the statement's new rows in one statement (three data-modifying parts). It runs where the
--     three did (after the insert, in its transaction, under the locks the guard took), once per statement, and
--     each new row gets one audit entry and one event, in the order of the rows, as before. Nothing in it joins
--     the transition table to another table: a resource's kind is read by its key for each row with a cost, so
--     the plan PL/pgSQL keeps for the session serves one row or 100,000 alike (see 0075).
--     Updates and deletes keep their row triggers (audit_row, bookings_event for a cancellation, the
--     commitments' statement triggers).
--   * the conflict notes' row triggers fire only when the service left a note for the write (their WHEN), so a
--     write without one runs nothing for them.
--   * campaignd_begin() sets the request context by assignments (no statement) and writes the organisation's
--     row only when it is missing: the upsert it ran on every transaction cost more than the rest of the
--     function.

CREATE OR REPLACE FUNCTION campaignd_begin(p_org text, p_actor text, p_role text, p_request_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    v := set_config('campaignd.actor', p_actor, true);
    v := set_config('campaignd.role', p_role, true);
    v := set_config('campaignd.request_id', p_request_id, true);
    IF NOT EXISTS (SELECT 1 FROM organisations WHERE id = p_org) THEN
        INSERT INTO organisations (id) VALUES (p_org) ON CONFLICT (id) DO NOTHING;
    END IF;
END $$;

CREATE FUNCTION bookings_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_actor text := coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system');
    v_role  text := coalesce(nullif(current_setting('campaignd.role', true), ''), 'system');
    v_rid   text := nullif(current_setting('campaignd.request_id', true), '');
BEGIN
    WITH audit AS (
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT n.org_id, v_actor, v_role, 'create', 'booking', n.id, NULL, to_jsonb(n), v_rid FROM new_rows n
    ), event AS (
        INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor, request_id)
        SELECT n.org_id, 'booking.created', 'booking', n.id, booking_ref(n), v_actor, v_rid FROM new_rows n
    )
    INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
    SELECT n.org_id, n.campaign_id, n.cost_currency, sum(n.cost_amount) FROM new_rows n
     WHERE n.status <> 'cancelled' AND n.cost_amount IS NOT NULL
       AND (SELECT r.kind FROM resources r WHERE r.id = n.resource_id) <> 'budget_pool' -- booking_commits()
     GROUP BY n.org_id, n.campaign_id, n.cost_currency
     ORDER BY n.campaign_id, n.cost_currency -- one lock order for every writer
    ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;

DROP TRIGGER bookings_commitments_insert ON bookings;
CREATE TRIGGER bookings_created AFTER INSERT ON bookings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_created();

DROP TRIGGER bookings_audit ON bookings;
CREATE TRIGGER bookings_audit AFTER UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION audit_row('booking');

CREATE OR REPLACE FUNCTION bookings_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        PERFORM emit_event(NEW.org_id, 'booking.cancelled', 'booking', NEW.id, booking_ref(NEW));
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER bookings_event ON bookings;
CREATE TRIGGER bookings_event AFTER UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_event();

-- conflict_note_apply() does nothing without a note; the notes are set for the one write the service judged.
DROP TRIGGER bookings_conflict_note ON bookings;
CREATE TRIGGER bookings_conflict_note AFTER INSERT OR UPDATE ON bookings FOR EACH ROW
    WHEN (current_setting('campaignd.conflict_warnings', true) <> ''
          OR current_setting('campaignd.conflict_override', true) <> '')
    EXECUTE FUNCTION bookings_conflict_note();
DROP TRIGGER campaigns_conflict_note ON campaigns;
CREATE TRIGGER campaigns_conflict_note AFTER INSERT OR UPDATE ON campaigns FOR EACH ROW
    WHEN (current_setting('campaignd.conflict_warnings', true) <> ''
          OR current_setting('campaignd.conflict_override', true) <> '')
    EXECUTE FUNCTION campaigns_conflict_note();

-- A period's checks written out rather than through period_ok() and period_representable(): a SQL function in a
-- CHECK is inlined when the executor prepares the constraint, that is its body parsed and planned again for
-- every statement that writes a booking (perf: 6 % of PostgreSQL's CPU a booking write). Same rules, same names.
ALTER TABLE bookings
    DROP CONSTRAINT bookings_period,
    ADD CONSTRAINT bookings_period CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)
                                          AND lower_inc(period) AND NOT upper_inc(period)
                                          AND isfinite(lower(period)) AND isfinite(upper(period))),
    DROP CONSTRAINT bookings_period_representable,
    ADD CONSTRAINT bookings_period_representable CHECK (lower(period) >= TIMESTAMPTZ '1900-01-01 00:00:00+00'
                                                        AND upper(period) < TIMESTAMPTZ '10000-01-01 00:00:00+00');
ALTER TABLE availability
    DROP CONSTRAINT availability_period,
    ADD CONSTRAINT availability_period CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)
                                              AND lower_inc(period) AND NOT upper_inc(period)
                                              AND isfinite(lower(period)) AND isfinite(upper(period))),
    DROP CONSTRAINT availability_period_representable,
    ADD CONSTRAINT availability_period_representable CHECK (lower(period) >= TIMESTAMPTZ '1900-01-01 00:00:00+00'
                                                            AND upper(period) < TIMESTAMPTZ '10000-01-01 00:00:00+00');
