-- 0052_campaign_documents.sql — each campaign's document kept ready, so GET one reads one row by its key.
--
-- GET /v1/campaigns/{id} built the document in SQL on every read: a json_build_object of 22 fields with nested
-- objects and a sub-select of the campaign's segments, set up by the executor and evaluated again for each
-- request (perf: ExecutorStart and json_build_object the largest parts of PostgreSQL's own time a GET). Reading
-- a kept jsonb instead took a lookup from 0.050-0.058 ms to 0.028-0.032 ms (pgbench, prepared, 1,000
-- campaigns); the segments stay in the kept document, since reading them beside it cost as much as building it.
--
-- campaign_document() is the one definition of the document. campaign_documents holds it per campaign, written
-- by the campaign's own triggers (every insert and update, whoever makes it: a handler, the lifecycle, an
-- approval) and by those of its segment list, under the campaign's row lock, in the writer's transaction: a
-- reader sees the document of the last committed change, as it would see the row. A write's answer is built by
-- the same function (RETURNING runs before the triggers that keep the table).

CREATE FUNCTION campaign_document(t campaigns) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'id', t.id, 'name', t.name, 'objective', t.objective, 'status', t.status,
        'start_date', t.start_date, 'end_date', t.end_date,
        'budget', CASE WHEN t.budget_amount IS NOT NULL THEN
            jsonb_build_object('amount', t.budget_amount::text, 'currency', t.budget_currency) END,
        'channel_budgets', t.channel_budgets,
        'owner', t.owner, 'team', t.team,
        'offer', CASE WHEN t.has_offer THEN
            jsonb_build_object('code', t.offer_code, 'description', t.offer_description, 'terms', t.offer_terms) END,
        'segment_ids', coalesce((SELECT jsonb_agg(cs.segment_id ORDER BY cs.position) FROM campaign_segments cs
                                  WHERE cs.campaign_id = t.id), '[]'::jsonb),
        'channels', to_jsonb(t.channels), 'tags', to_jsonb(t.tags), 'notes', t.notes,
        'scoring', CASE WHEN t.score_engagement IS NOT NULL THEN jsonb_build_object(
            'engagement_potential', t.score_engagement, 'estimated_cpa', t.score_cpa,
            'customer_experience', t.score_experience, 'strategic_alignment', t.score_alignment) END,
        'priority_score', t.priority_score,
        'status_reason', t.status_reason, 'version', t.version, 'created_by', t.created_by,
        'created_at', t.created_at, 'updated_at', t.updated_at);
END $$;

CREATE TABLE campaign_documents (
    id      uuid PRIMARY KEY, -- the campaign's
    org_id  text NOT NULL,
    version integer NOT NULL, -- the campaign's (its ETag)
    doc     jsonb NOT NULL,
    CONSTRAINT campaign_documents_campaign FOREIGN KEY (org_id, id) REFERENCES campaigns (org_id, id)
        ON DELETE CASCADE
);

CREATE FUNCTION campaign_document_keep(t campaigns) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_documents AS d (id, org_id, version, doc) VALUES (t.id, t.org_id, t.version, campaign_document(t))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, doc = EXCLUDED.doc;
END $$;

-- The campaign's row as written (after every BEFORE trigger: its version, updated_at, priority score).
CREATE FUNCTION campaigns_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM campaign_document_keep(NEW);
    RETURN NULL;
END $$;

CREATE TRIGGER campaigns_document AFTER INSERT OR UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_document();

-- Once per statement of the segment list, for the campaigns it touched: each is locked first (in one order), so
-- the document is read after any other writer of that campaign has committed. A campaign deleted in this
-- statement's transaction is gone already; its document goes with it (the foreign key's cascade).
CREATE FUNCTION campaign_segments_document() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_ids uuid[];
    t campaigns;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.campaign_id) INTO v_ids FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.campaign_id) INTO v_ids FROM old_rows o;
    ELSE
        SELECT array_agg(DISTINCT x.campaign_id) INTO v_ids
          FROM (SELECT n.campaign_id FROM new_rows n UNION ALL SELECT o.campaign_id FROM old_rows o) x;
    END IF;
    FOR t IN SELECT * FROM campaigns c WHERE c.id = ANY (v_ids) ORDER BY c.id FOR NO KEY UPDATE LOOP
        PERFORM campaign_document_keep(t);
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER campaign_segments_document_insert AFTER INSERT ON campaign_segments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_segments_document();
CREATE TRIGGER campaign_segments_document_update AFTER UPDATE ON campaign_segments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_segments_document();
CREATE TRIGGER campaign_segments_document_delete AFTER DELETE ON campaign_segments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_segments_document();

INSERT INTO campaign_documents (id, org_id, version, doc)
SELECT c.id, c.org_id, c.version, campaign_document(c) FROM campaigns c;
