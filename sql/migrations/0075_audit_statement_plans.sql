-- 0075_audit_statement_plans.sql — statement-level audit entries planned for the rows at hand.
--
-- audit_statement() (0015_kpis.sql) joins an UPDATE's old and new rows on id. PL/pgSQL plans a statement once
-- per session and keeps the plan, and a transition table's size is part of the estimate: an upsert whose rows
-- were all unchanged still fires the UPDATE trigger, with empty transition tables, and the plan made then (a
-- nested loop, right for no rows) stayed for the next batch of the session, where 10,000 corrected rows made
-- 10^8 comparisons: 30 s, past the statement timeout (a 503 for a night's corrections). The join is now
-- EXECUTEd, so each statement is planned with the sizes of its own rows (a hash join for a batch); the other
-- branches read one table and keep their cached plans.

CREATE OR REPLACE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_actor text := coalesce(nullif(current_setting('campaignd.actor', true), ''), 'system');
    v_role  text := coalesce(nullif(current_setting('campaignd.role', true), ''), 'system');
    v_rid   text := nullif(current_setting('campaignd.request_id', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT n.org_id, v_actor, v_role, 'create', TG_ARGV[0], n.id, NULL, to_jsonb(n), v_rid FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE 'INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)'
                ' SELECT n.org_id, $1, $2, ''update'', $3, n.id, to_jsonb(o), to_jsonb(n), $4'
                ' FROM new_rows n JOIN old_rows o ON o.id = n.id'
            USING v_actor, v_role, TG_ARGV[0], v_rid;
    ELSE
        INSERT INTO audit_log (org_id, actor, actor_role, action, entity, entity_id, before, after, request_id)
        SELECT o.org_id, v_actor, v_role, 'delete', TG_ARGV[0], o.id, to_jsonb(o), NULL, v_rid FROM old_rows o;
    END IF;
    RETURN NULL;
END $$;
