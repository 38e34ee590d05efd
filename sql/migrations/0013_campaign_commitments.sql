-- 0013_campaign_commitments.sql — what each campaign has committed, kept as its bookings change.
--
-- The conflict rules weigh a campaign's committed cost (the cost estimates of its live bookings, budget pools
-- aside, in the budget's currency) against its budget on every booking and campaign write. Summed from the
-- bookings, that read grew with the campaign: a campaign of 100,000 bookings cost each write 100,000 heap rows
-- (booking writes fell from 1,514 to 76 a second). The sum is kept here instead, one row per campaign and
-- currency, and a write reads that row through its key.
--
-- Kept by statement-level triggers on bookings: each statement adds what its new rows that count cost and takes
-- away what its old rows that counted cost, grouped by campaign and currency, in one upsert (a bulk load is one
-- row written per campaign touched, not one per booking). Every booking writer holds its resource's lock
-- (bookings_guard; a campaign's deletion takes them first), and a change of a resource's kind into or out of
-- `budget_pool`, which moves its bookings into or out of the sums, takes the same lock, so the two never
-- interleave. Writers of one campaign's bookings wait for each other on its row here only from their insert to
-- their COMMIT, which the service sends together (one round trip); a booking without a cost writes nothing here.

CREATE TABLE campaign_commitments (
    org_id      text NOT NULL,
    campaign_id uuid NOT NULL,
    currency    text NOT NULL,
    amount      numeric NOT NULL,
    PRIMARY KEY (campaign_id, currency),
    CONSTRAINT campaign_commitments_campaign FOREIGN KEY (org_id, campaign_id)
        REFERENCES campaigns (org_id, id) ON DELETE CASCADE
);

-- Whether a booking counts in its campaign's sum: live, with a cost, and not on a budget pool. PL/pgSQL, so the
-- resource's kind is read through a plan kept for the session (a SQL function holding a sub-select is not inlined:
-- it would be parsed and planned again for every statement), by its key for each row, whatever the number of rows
-- a statement wrote (see 0075_audit_statement_plans.sql for a join planned once for the wrong size).
CREATE FUNCTION booking_commits(b bookings) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN b.status <> 'cancelled' AND b.cost_amount IS NOT NULL
       AND (SELECT r.kind FROM resources r WHERE r.id = b.resource_id) <> 'budget_pool';
END $$;

CREATE FUNCTION bookings_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the new rows that count are added, the old rows that counted taken away; most updates change nothing here
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
        SELECT n.org_id, n.campaign_id, n.cost_currency, sum(n.cost_amount) FROM new_rows n WHERE booking_commits(n)
         GROUP BY n.org_id, n.campaign_id, n.cost_currency
         ORDER BY n.campaign_id, n.cost_currency -- one lock order for every writer
        ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
        SELECT d.org_id, d.campaign_id, d.currency, sum(d.amount) FROM (
            SELECT n.org_id, n.campaign_id, n.cost_currency AS currency, n.cost_amount AS amount
              FROM new_rows n WHERE booking_commits(n)
            UNION ALL
            SELECT o.org_id, o.campaign_id, o.cost_currency, -o.cost_amount FROM old_rows o WHERE booking_commits(o)) d
         GROUP BY d.org_id, d.campaign_id, d.currency
        HAVING sum(d.amount) <> 0
         ORDER BY d.campaign_id, d.currency
        ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
    ELSE
        -- a deleted campaign's bookings go with it, and so does its row here: the others' rows are updated only
        UPDATE campaign_commitments k SET amount = k.amount - d.amount
          FROM (SELECT o.campaign_id, o.cost_currency AS currency, sum(o.cost_amount) AS amount
                  FROM old_rows o WHERE booking_commits(o) GROUP BY o.campaign_id, o.cost_currency
                 ORDER BY o.campaign_id, o.cost_currency) d
         WHERE k.campaign_id = d.campaign_id AND k.currency = d.currency;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_commitments_insert AFTER INSERT ON bookings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_commitments();
CREATE TRIGGER bookings_commitments_update AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_commitments();
CREATE TRIGGER bookings_commitments_delete AFTER DELETE ON bookings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_commitments();

-- A resource that becomes a budget pool takes its bookings out of their campaigns' sums; one that stops being
-- one puts them back. Runs under the resource's row lock, which every booking writer of it waits for.
CREATE FUNCTION resources_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_commitments AS k (org_id, campaign_id, currency, amount)
    SELECT b.org_id, b.campaign_id, b.cost_currency,
           sum(b.cost_amount) * CASE WHEN NEW.kind = 'budget_pool' THEN -1 ELSE 1 END
      FROM bookings b WHERE b.resource_id = NEW.id AND b.status <> 'cancelled' AND b.cost_amount IS NOT NULL
     GROUP BY b.org_id, b.campaign_id, b.cost_currency
     ORDER BY b.campaign_id, b.cost_currency
    ON CONFLICT (campaign_id, currency) DO UPDATE SET amount = k.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;
CREATE TRIGGER resources_commitments AFTER UPDATE OF kind ON resources
    FOR EACH ROW WHEN ((OLD.kind = 'budget_pool') IS DISTINCT FROM (NEW.kind = 'budget_pool'))
    EXECUTE FUNCTION resources_commitments();

-- The bookings already there.
INSERT INTO campaign_commitments (org_id, campaign_id, currency, amount)
SELECT b.org_id, b.campaign_id, b.cost_currency, sum(b.cost_amount)
  FROM bookings b WHERE booking_commits(b)
 GROUP BY b.org_id, b.campaign_id, b.cost_currency;
