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

-- The priority score (SPEC §7: weighted scoring): Σ weight × input / Σ weight over the four 0–10 inputs, times 10,
-- so 0–100 with one decimal; NULL for a campaign without scores. Stored so that lists filter and sort by it through
-- an index; a campaign's scores set it (campaigns_priority), and new weights in the settings set it again for every
-- campaign of the organisation (each a new version, audited). service/engine/conflicts.c's cf_priority_score holds
-- the same formula for proposals not stored yet.
ALTER TABLE campaigns ADD COLUMN priority_score numeric(4, 1) CHECK (priority_score BETWEEN 0 AND 100);

CREATE FUNCTION priority_score(p_org text, p_e numeric, p_c numeric, p_x numeric, p_a numeric) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_e IS NOT NULL THEN round((p_e * s.weight_engagement + p_c * s.weight_cpa
                + p_x * s.weight_experience + p_a * s.weight_alignment) * 10
                / nullif(s.weight_engagement + s.weight_cpa + s.weight_experience + s.weight_alignment, 0), 1) END
      FROM org_settings_of(p_org) s
$$;

CREATE FUNCTION campaigns_priority() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.priority_score := priority_score(NEW.org_id, NEW.score_engagement, NEW.score_cpa, NEW.score_experience,
                                         NEW.score_alignment);
    RETURN NEW;
END $$;
CREATE TRIGGER campaigns_priority BEFORE INSERT OR UPDATE OF score_engagement, score_cpa, score_experience,
    score_alignment ON campaigns FOR EACH ROW EXECUTE FUNCTION campaigns_priority();

CREATE FUNCTION org_settings_weights() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns c SET score_engagement = c.score_engagement -- campaigns_priority recomputes it
     WHERE c.org_id = NEW.org_id AND c.score_engagement IS NOT NULL
       AND c.priority_score IS DISTINCT FROM priority_score(c.org_id, c.score_engagement, c.score_cpa,
                                                            c.score_experience, c.score_alignment);
    RETURN NULL;
END $$;
CREATE TRIGGER org_settings_weights AFTER INSERT OR UPDATE OF weight_engagement, weight_cpa, weight_experience,
    weight_alignment ON org_settings FOR EACH ROW EXECUTE FUNCTION org_settings_weights();

UPDATE campaigns SET score_engagement = score_engagement WHERE score_engagement IS NOT NULL;
CREATE INDEX campaigns_priority_idx ON campaigns (org_id, (coalesce(priority_score, -1)), id);

CREATE FUNCTION campaigns_conflict_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM conflict_note_apply(NEW.org_id, 'campaign', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_conflict_note AFTER INSERT OR UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_conflict_note();
