-- 0007_approvals.sql — workflow templates, approval requests and their decisions, and the campaign
-- lifecycle gates they control. The database guarantees: one pending request per campaign; one
-- decision per step; a request's steps never change once submitted (they are a copy); a campaign
-- enters in_review only with a pending request, approved only with an approved request, scheduled
-- only with no tentative booking; an approved or scheduled campaign never changes its dates,
-- budget, channels, offer or segments without going back to draft.

-- Steps: a JSON array of 1..20 objects {name, role, approver_sub?}; a step is decided by its role
-- (admin, manager or approver) or, when it names one, by that approver (and by an admin always).
CREATE FUNCTION workflow_steps_ok(p_steps jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(p_steps) = 'array' AND jsonb_array_length(p_steps) BETWEEN 1 AND 20
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(p_steps) s
            WHERE jsonb_typeof(s) <> 'object'
               OR jsonb_typeof(s->'name') IS DISTINCT FROM 'string'
               OR length(s->>'name') NOT BETWEEN 1 AND 100
               OR coalesce(s->>'role', '') NOT IN ('admin', 'manager', 'approver')
               OR (s ? 'approver_sub' AND jsonb_typeof(s->'approver_sub') <> 'null'
                   AND (jsonb_typeof(s->'approver_sub') <> 'string' OR length(s->>'approver_sub') NOT BETWEEN 1 AND 255))
               OR EXISTS (SELECT 1 FROM jsonb_object_keys(s) k WHERE k NOT IN ('name', 'role', 'approver_sub')))
$$;

CREATE TABLE workflows (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL REFERENCES organisations (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 2000),
    steps       jsonb NOT NULL CONSTRAINT workflows_steps CHECK (workflow_steps_ok(steps)),
    active      boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 1,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CONSTRAINT workflows_name_unique UNIQUE (org_id, name)
);
CREATE INDEX workflows_created ON workflows (org_id, created_at, id);
CREATE TRIGGER workflows_touch BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER workflows_audit AFTER INSERT OR UPDATE OR DELETE ON workflows
    FOR EACH ROW EXECUTE FUNCTION audit_row('workflow');

CREATE TABLE approval_requests (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         text NOT NULL,
    campaign_id    uuid NOT NULL,
    workflow_id    uuid NOT NULL,
    workflow_name  text NOT NULL,
    steps          jsonb NOT NULL CONSTRAINT approval_requests_steps CHECK (workflow_steps_ok(steps)),
    current_step   integer NOT NULL DEFAULT 0,
    status         text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'changes_requested', 'cancelled', 'superseded')),
    submitted_by   text NOT NULL,
    campaign_owner text NOT NULL,
    comment        text CHECK (length(comment) <= 2000),
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    UNIQUE (org_id, id),
    CONSTRAINT approval_requests_campaign FOREIGN KEY (org_id, campaign_id)
        REFERENCES campaigns (org_id, id) ON DELETE CASCADE,
    CONSTRAINT approval_requests_workflow FOREIGN KEY (org_id, workflow_id) REFERENCES workflows (org_id, id),
    CONSTRAINT approval_requests_step CHECK (current_step >= 0 AND current_step < jsonb_array_length(steps)),
    CONSTRAINT approval_requests_closed CHECK ((status = 'pending') = (closed_at IS NULL))
);
-- One open request per campaign, whatever the number of replicas.
CREATE UNIQUE INDEX approval_requests_one_pending ON approval_requests (campaign_id) WHERE status = 'pending';
CREATE INDEX approval_requests_created ON approval_requests (org_id, created_at, id);
CREATE INDEX approval_requests_campaign ON approval_requests (campaign_id, created_at);
CREATE INDEX approval_requests_workflow ON approval_requests (workflow_id);

CREATE FUNCTION approval_requests_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.steps <> OLD.steps OR NEW.campaign_id <> OLD.campaign_id OR NEW.workflow_id <> OLD.workflow_id
       OR NEW.org_id <> OLD.org_id OR NEW.campaign_owner <> OLD.campaign_owner THEN
        RAISE EXCEPTION 'an approval request''s steps, campaign and workflow are fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_requests_fixed';
    END IF;
    -- A closed request stays closed; only an approved one may later be superseded.
    IF OLD.status <> 'pending' AND NEW.status <> OLD.status
       AND NOT (OLD.status = 'approved' AND NEW.status = 'superseded') THEN
        RAISE EXCEPTION 'approval request % is % and stays so', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_requests_closed_final';
    END IF;
    IF NEW.status <> 'pending' AND OLD.status = 'pending' THEN
        NEW.closed_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_requests_guard BEFORE UPDATE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION approval_requests_guard();
CREATE TRIGGER approval_requests_touch BEFORE UPDATE ON approval_requests FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE TRIGGER approval_requests_audit AFTER INSERT OR UPDATE OR DELETE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION audit_row('approval_request');

CREATE FUNCTION approval_requests_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM emit_event(NEW.org_id, 'approval.requested', 'approval_request', NEW.id,
                       jsonb_build_object('approval_id', NEW.id, 'campaign_id', NEW.campaign_id,
                                          'workflow_id', NEW.workflow_id, 'submitted_by', NEW.submitted_by,
                                          'steps', NEW.steps));
    RETURN NULL;
END $$;
CREATE TRIGGER approval_requests_event AFTER INSERT ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION approval_requests_event();

CREATE TABLE approval_decisions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       text NOT NULL,
    request_id   uuid NOT NULL,
    step         integer NOT NULL CHECK (step >= 0),
    step_name    text NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('approve', 'reject', 'request_changes')),
    comment      text CHECK (length(comment) <= 2000),
    decided_by   text NOT NULL,
    decided_role text NOT NULL,
    as_admin     boolean NOT NULL DEFAULT false,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT approval_decisions_request FOREIGN KEY (org_id, request_id)
        REFERENCES approval_requests (org_id, id) ON DELETE CASCADE,
    -- Two people deciding the same step at the same moment: exactly one decision counts.
    CONSTRAINT approval_decisions_one_per_step UNIQUE (request_id, step),
    CONSTRAINT approval_decisions_comment CHECK (decision = 'approve' OR length(comment) > 0)
);

-- A decision is only taken on the pending request's current step.
CREATE FUNCTION approval_decisions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_req approval_requests;
BEGIN
    SELECT * INTO v_req FROM approval_requests WHERE id = NEW.request_id AND org_id = NEW.org_id FOR UPDATE;
    IF v_req.status IS DISTINCT FROM 'pending' OR v_req.current_step <> NEW.step THEN
        RAISE EXCEPTION 'approval request % is not waiting for step %', NEW.request_id, NEW.step
            USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_current_step';
    END IF;
    IF NEW.decided_by = v_req.campaign_owner THEN
        RAISE EXCEPTION 'the campaign''s owner does not decide its approval'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_not_owner';
    END IF;
    NEW.step_name := v_req.steps->NEW.step->>'name';
    RETURN NEW;
END $$;
CREATE TRIGGER approval_decisions_guard BEFORE INSERT ON approval_decisions
    FOR EACH ROW EXECUTE FUNCTION approval_decisions_guard();
CREATE FUNCTION approval_decisions_readonly() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'decisions are history and never change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_readonly';
END $$;
CREATE TRIGGER approval_decisions_readonly BEFORE UPDATE ON approval_decisions
    FOR EACH ROW EXECUTE FUNCTION approval_decisions_readonly();
CREATE TRIGGER approval_decisions_audit AFTER INSERT ON approval_decisions
    FOR EACH ROW EXECUTE FUNCTION audit_row('approval_decision');

CREATE FUNCTION approval_decisions_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_req approval_requests;
BEGIN
    SELECT * INTO v_req FROM approval_requests WHERE id = NEW.request_id;
    PERFORM emit_event(NEW.org_id, 'approval.decided', 'approval_request', NEW.request_id,
                       jsonb_build_object('approval_id', NEW.request_id, 'campaign_id', v_req.campaign_id,
                                          'step', NEW.step, 'step_name', NEW.step_name, 'decision', NEW.decision,
                                          'comment', NEW.comment, 'decided_by', NEW.decided_by,
                                          'role', NEW.decided_role, 'as_admin', NEW.as_admin,
                                          'request_status', v_req.status));
    RETURN NULL;
END $$;
-- Deferred to the end of the statement that closes the request, so the payload carries its new status:
-- the service inserts the decision and then advances the request in the same transaction; a constraint
-- trigger at commit sees both.
CREATE CONSTRAINT TRIGGER approval_decisions_event AFTER INSERT ON approval_decisions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION approval_decisions_event();

-- The lifecycle: submitting (draft → in_review) and the last approval (in_review → approved) belong to
-- the workflow; scheduling, going live and completing are asked for; a material change takes an
-- approved or scheduled campaign back to draft.
UPDATE campaign_status_transitions SET via = 'workflow' WHERE from_status = 'draft' AND to_status = 'in_review';
UPDATE campaign_status_transitions SET via = 'request'
 WHERE (from_status, to_status) IN (('approved', 'scheduled'), ('scheduled', 'live'), ('scheduled', 'approved'),
                                    ('live', 'completed'));
INSERT INTO campaign_status_transitions (from_status, to_status, via) VALUES ('scheduled', 'draft', 'workflow');

-- What each status needs, checked on every change of status whoever makes it.
CREATE FUNCTION campaigns_approval_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NEW.status = 'in_review' AND NOT EXISTS (
        SELECT 1 FROM approval_requests WHERE campaign_id = NEW.id AND status = 'pending') THEN
        RAISE EXCEPTION 'campaign % enters review only by a submission for approval', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_status_transition';
    END IF;
    IF NEW.status = 'approved' AND NOT EXISTS (
        SELECT 1 FROM approval_requests WHERE campaign_id = NEW.id AND status = 'approved') THEN
        RAISE EXCEPTION 'campaign % is approved only by the last step of its approval', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_status_transition';
    END IF;
    IF NEW.status = 'scheduled' AND EXISTS (
        SELECT 1 FROM bookings WHERE campaign_id = NEW.id AND status = 'tentative') THEN
        RAISE EXCEPTION 'campaign % has tentative bookings; confirm or cancel them first', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_tentative_bookings';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER campaigns_approval_gate BEFORE UPDATE OF status ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_approval_gate();

-- An approved or scheduled campaign keeps what was approved: its dates, budget, channels and offer
-- change only together with a return to draft.
CREATE FUNCTION campaigns_approved_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('approved', 'scheduled') AND NEW.status = OLD.status
       AND (NEW.start_date, NEW.end_date, NEW.budget_amount, NEW.budget_currency, NEW.channels, NEW.has_offer,
            NEW.offer_code, NEW.offer_description, NEW.offer_terms)
           IS DISTINCT FROM (OLD.start_date, OLD.end_date, OLD.budget_amount, OLD.budget_currency, OLD.channels,
                             OLD.has_offer, OLD.offer_code, OLD.offer_description, OLD.offer_terms) THEN
        RAISE EXCEPTION 'campaign % is %: a material change sends it back to draft first', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_approved_frozen';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER campaigns_approved_frozen BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_approved_frozen();

CREATE FUNCTION campaign_segments_approved_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM campaigns WHERE id = coalesce(NEW.campaign_id, OLD.campaign_id)
                AND status IN ('approved', 'scheduled')) THEN
        RAISE EXCEPTION 'the campaign is approved: a material change sends it back to draft first'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_approved_frozen';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER campaign_segments_approved_frozen AFTER INSERT OR UPDATE OR DELETE ON campaign_segments
    FOR EACH ROW EXECUTE FUNCTION campaign_segments_approved_frozen();

-- Leaving review or approval outside the workflow closes the request: withdrawn or cancelled while in
-- review → cancelled; back to draft from approved or scheduled → superseded.
CREATE FUNCTION campaigns_approval_close() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'in_review' AND NEW.status IN ('draft', 'cancelled') THEN
        UPDATE approval_requests SET status = 'cancelled', comment = coalesce(comment, NEW.status_reason)
         WHERE campaign_id = NEW.id AND status = 'pending';
    ELSIF OLD.status IN ('approved', 'scheduled') AND NEW.status = 'draft' THEN
        UPDATE approval_requests SET status = 'superseded' WHERE campaign_id = NEW.id AND status = 'approved';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_approval_close AFTER UPDATE OF status ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_approval_close();
