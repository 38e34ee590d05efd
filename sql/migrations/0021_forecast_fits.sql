-- 0021_forecast_fits.sql — fitted forecast models kept in the database, so a forecast or an allocation on a
-- history that has not changed reads its fit instead of fitting again (the fit is most of a request's time).
-- A row is one organisation's model of one KPI for one scope: the history's currency, the campaign left out (a
-- forecast of an existing campaign) and the channels fitted, as a SHA-256 of them. `inputs` is the SHA-256 of
-- everything the fit reads (the engine's fit version, the scope, the history exactly as the store read it): a
-- fit is used only when the inputs of the request are the same, so a stale fit is never used, whatever changed
-- the history (a measurement, a campaign's status, budget, dates or segments) and whichever replica reads it. A
-- new history replaces the scope's row (one row per scope, whatever the history went through); concurrent fills
-- of a scope are upserts, the last one kept, each correct for its own inputs. The model is the engine's bytes
-- (fc_model_encode): a build that cannot read them fits again and replaces them.
CREATE TABLE forecast_fits (
    org_id    text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    scope     text NOT NULL CHECK (scope ~ '^[0-9a-f]{64}$'),
    kpi       text NOT NULL CHECK (kpi IN ('leads', 'conversions', 'revenue')),
    inputs    text NOT NULL CHECK (inputs ~ '^[0-9a-f]{64}$'),
    model     bytea NOT NULL CHECK (octet_length(model) > 0),
    fitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, scope, kpi)
);
