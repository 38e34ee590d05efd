-- 0010_campaign_holds.sql — a campaign's status and its bookings hold each other under the campaign's row
-- lock, for every writer and replica; and the approval templates' distinct_deciders option.
--
-- Bookings against the campaign's status:
--   * every booking write that changes what the campaign holds (a new booking; a booking moved, resized, or
--     switched between tentative and confirmed) first takes a share lock on its campaign row, and every status
--     change takes the row's update lock, so the two serialize and each sees the other's outcome;
--   * a cancelled or completed campaign takes no such write (cancelling a booking is always allowed);
--   * a scheduled campaign holds no tentative booking (campaigns_approval_gate checks the other direction);
--   * cancelling a campaign cancels its live bookings in the same transaction, and completing one cancels those
--     that have not started, each with its reason, audit entry and booking.cancelled event, like any cancellation.
-- One lock order for everyone: the campaign, then the resources in id order, then the booking rows.
-- (The resources' own re-checks, resources_recheck and the foreign key's cascade, change no period, quantity or
-- status: they pass the campaign gate without its lock, so resource → booking rows stays consistent with it.)

-- Named bookings_campaign_* so it fires before bookings_guard (triggers run in name order): the campaign's lock
-- is taken before the resource's.
CREATE FUNCTION bookings_campaign_gate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    IF NEW.status = 'cancelled' OR (TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.period = OLD.period
                                    AND NEW.quantity = OLD.quantity) THEN
        RETURN NEW;
    END IF;
    SELECT c.status INTO v_status FROM campaigns c WHERE c.id = NEW.campaign_id AND (c.org_id = NEW.org_id) IS TRUE
       FOR SHARE;
    IF NOT FOUND THEN
        RETURN NEW; -- the foreign key refuses it
    END IF;
    IF v_status IN ('cancelled', 'completed') THEN
        RAISE EXCEPTION 'campaign % is % and takes no bookings', NEW.campaign_id, v_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_campaign_closed';
    END IF;
    IF v_status = 'scheduled' AND NEW.status = 'tentative' THEN
        RAISE EXCEPTION 'campaign % is scheduled: its bookings are confirmed', NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_campaign_scheduled';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_campaign_gate BEFORE INSERT OR UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_campaign_gate();

-- The bookings a status change releases: all live ones when cancelled, those not yet started when completed.
CREATE FUNCTION campaign_releases(p_status text, b bookings) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT b.status <> 'cancelled'
       AND (p_status = 'cancelled' OR (p_status = 'completed' AND lower(b.period) > now()))
$$;

-- Per statement, so a statement that moves many campaigns (campaigns_follow_dates) locks all their resources
-- in one id order. Runs under the campaigns' row locks, which the status change holds.
CREATE FUNCTION campaigns_release_bookings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE n.status <> o.status AND n.status IN ('cancelled', 'completed')) THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM resources r
     WHERE r.id IN (SELECT b.resource_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                      JOIN bookings b ON b.campaign_id = n.id
                     WHERE n.status <> o.status AND campaign_releases(n.status, b))
     ORDER BY r.id FOR NO KEY UPDATE;
    UPDATE bookings b
       SET status = 'cancelled',
           status_reason = left('campaign ' || n.status || coalesce(': ' || n.status_reason, ''), 1000)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE b.campaign_id = n.id AND n.status <> o.status AND campaign_releases(n.status, b);
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_release_bookings AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_release_bookings();

-- Deleting a (draft) campaign deletes its bookings by the foreign key's cascade: their resources are locked
-- first, in the same order, so the deletion never meets a resource's re-check half-way.
CREATE FUNCTION campaigns_delete_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM resources r WHERE r.id IN (SELECT b.resource_id FROM bookings b WHERE b.campaign_id = OLD.id)
     ORDER BY r.id FOR NO KEY UPDATE;
    RETURN OLD;
END $$;
CREATE TRIGGER campaigns_delete_lock BEFORE DELETE ON campaigns FOR EACH ROW EXECUTE FUNCTION campaigns_delete_lock();

-- Campaigns cancelled or completed before this rule existed let go of what they still hold.
DO $$
BEGIN
    PERFORM 1 FROM resources r
     WHERE r.id IN (SELECT b.resource_id FROM bookings b JOIN campaigns c ON c.id = b.campaign_id
                     WHERE campaign_releases(c.status, b))
     ORDER BY r.id FOR NO KEY UPDATE;
    UPDATE bookings b SET status = 'cancelled', status_reason = 'campaign ' || c.status
      FROM campaigns c WHERE c.id = b.campaign_id AND campaign_releases(c.status, b);
END $$;

-- Booking writers that lock an existing booking (PATCH, cancel) take its campaign, then its resource, in the
-- order above; the caller then locks the booking row itself.
CREATE FUNCTION booking_lock_parents(p_org text, p_id uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_campaign uuid;
    v_resource uuid;
BEGIN
    SELECT b.campaign_id, b.resource_id INTO v_campaign, v_resource FROM bookings b
     WHERE b.id = p_id AND (b.org_id = p_org) IS TRUE; -- by its key, whatever the statistics
    IF FOUND THEN
        PERFORM 1 FROM campaigns WHERE id = v_campaign FOR SHARE;
        PERFORM 1 FROM resources WHERE id = v_resource FOR NO KEY UPDATE;
    END IF;
END $$;

-- Approvals: "one person decides at most one step of a request" (admins excepted) becomes the template's
-- option distinct_deciders (default true, the separation of duties), copied into each request at submission
-- like its steps and fixed there; the database refuses a second decision by the same person when it is set.
ALTER TABLE workflows ADD COLUMN distinct_deciders boolean NOT NULL DEFAULT true;
ALTER TABLE approval_requests ADD COLUMN distinct_deciders boolean NOT NULL DEFAULT true;

CREATE OR REPLACE FUNCTION approval_requests_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.steps <> OLD.steps OR NEW.campaign_id <> OLD.campaign_id OR NEW.workflow_id <> OLD.workflow_id
       OR NEW.org_id <> OLD.org_id OR NEW.campaign_owner <> OLD.campaign_owner
       OR NEW.distinct_deciders <> OLD.distinct_deciders THEN
        RAISE EXCEPTION 'an approval request''s steps, rules, campaign and workflow are fixed'
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

CREATE OR REPLACE FUNCTION approval_decisions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF v_req.distinct_deciders AND NEW.decided_role <> 'admin' AND EXISTS (
        SELECT 1 FROM approval_decisions d WHERE d.request_id = NEW.request_id AND d.decided_by = NEW.decided_by) THEN
        RAISE EXCEPTION '% already decided a step of approval request %', NEW.decided_by, NEW.request_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_distinct_deciders';
    END IF;
    NEW.step_name := v_req.steps->NEW.step->>'name';
    RETURN NEW;
END $$;
