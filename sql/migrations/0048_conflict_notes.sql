-- 0048_conflict_notes.sql — what a write judged by the conflict rules leaves behind, in its own transaction:
-- the service notes the `warn` findings the write creates and the `block` findings a manager or admin forced
-- (conflict_note(), transaction-local settings, sent in the write's own round trip), and the written row's
-- trigger turns the note into a `conflict.detected` outbox event and an audit entry (entity `conflict_override`)
-- naming the row, whose id exists only then. A note is used once: the trigger clears it.

CREATE FUNCTION conflict_note(p_warnings text, p_overridden text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('campaignd.conflict_warnings', coalesce(p_warnings, ''), true),
            set_config('campaignd.conflict_override', coalesce(p_overridden, ''), true);
END $$;

CREATE FUNCTION conflict_note_apply(p_org text, p_entity text, p_id uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_warn text := current_setting('campaignd.conflict_warnings', true);
    v_over text := current_setting('campaignd.conflict_override', true);
BEGIN
    IF coalesce(v_warn, '') = '' AND coalesce(v_over, '') = '' THEN
        RETURN;
    END IF;
    IF v_warn <> '' THEN
        PERFORM emit_event(p_org, 'conflict.detected', p_entity, p_id,
                           jsonb_build_object('entity', p_entity, 'id', p_id, 'findings', v_warn::jsonb));
    END IF;
    IF v_over <> '' THEN
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        VALUES (p_org, coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system'),
                coalesce(nullif(current_setting('campaignd.role', true), ''), 'system'), 'create', 'conflict_override',
                p_id, NULL, jsonb_build_object('entity', p_entity, 'id', p_id, 'findings', v_over::jsonb),
                nullif(current_setting('campaignd.request_id', true), ''));
    END IF;
    PERFORM set_config('campaignd.conflict_warnings', '', true), set_config('campaignd.conflict_override', '', true);
END $$;

CREATE FUNCTION bookings_conflict_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM conflict_note_apply(NEW.org_id, 'booking', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_conflict_note AFTER INSERT OR UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_conflict_note();
