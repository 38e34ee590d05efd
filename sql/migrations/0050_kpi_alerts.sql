-- 0050_kpi_alerts.sql — what the KPI alerts last announced, so each crossing is announced once.
--
-- After a batch of measurements (POST /v1/measurements/batch, the CSV import) stores or changes rows, the
-- service judges the campaigns it touched as their dashboard does (service/alert.c): each KPI target's status
-- (at_risk, missed) and the budget's level (committed + spent against the settings' budget_warn_percent and
-- budget_block_percent). A state that gets worse than the one recorded here writes kpi.target_missed or
-- budget.threshold_crossed to the outbox, in the batch's transaction; a state that gets better is recorded
-- without an event, so a later fall is announced again. Rows exist only for the bad states.
--
-- Two batches judging one campaign at once write here with INSERT … ON CONFLICT DO UPDATE … WHERE the state
-- differs: the second waits for the first's row and changes nothing when it reached the same state, so one
-- crossing gives one event.

CREATE TABLE kpi_target_alerts (
    target_id   uuid PRIMARY KEY,
    org_id      text NOT NULL,
    campaign_id uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('at_risk', 'missed')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- a replaced set of targets starts afresh (new rows, new ids)
    CONSTRAINT kpi_target_alerts_target FOREIGN KEY (target_id) REFERENCES kpi_targets (id) ON DELETE CASCADE
);

CREATE TABLE campaign_budget_alerts (
    campaign_id uuid PRIMARY KEY,
    org_id      text NOT NULL,
    level       text NOT NULL CHECK (level IN ('warn', 'block')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaign_budget_alerts_campaign FOREIGN KEY (org_id, campaign_id)
        REFERENCES campaigns (org_id, id) ON DELETE CASCADE
);
