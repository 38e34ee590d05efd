/* alert_store.c — see alert_store.h. */
#include "alert_store.h"

#include <stdlib.h>

/* Fine states delete their rows; bad ones are upserted where they differ (waiting for another transaction's row
 * of the same key, then judging its state); the events go with the rows this statement changed. The rows are
 * written in the changes' order, campaigns by id and targets by position (alert_judge keeps the inputs' order),
 * so two batches over the same campaigns take their locks in one order. */
static const db_stmt q_record = {
    "alert_record",
    "WITH ch AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(kind text, campaign_id uuid, target_id uuid,"
    "  state text, type text, data jsonb)),"
    " t_fine AS (DELETE FROM kpi_target_alerts a USING ch WHERE ch.kind = 'target' AND ch.state IS NULL"
    "  AND a.target_id = ch.target_id AND a.org_id = $1),"
    " t_bad AS (INSERT INTO kpi_target_alerts AS a (target_id, org_id, campaign_id, status)"
    "  SELECT ch.target_id, $1, ch.campaign_id, ch.state FROM ch"
    "  WHERE ch.kind = 'target' AND ch.state IS NOT NULL"
    "  AND EXISTS (SELECT 1 FROM kpi_targets t WHERE " DB_BY_KEY("t", "ch.target_id", "$1") ")"
    "  ON CONFLICT (target_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()"
    "  WHERE a.status <> EXCLUDED.status RETURNING a.target_id),"
    " b_fine AS (DELETE FROM campaign_budget_alerts a USING ch WHERE ch.kind = 'budget' AND ch.state IS NULL"
    "  AND a.campaign_id = ch.campaign_id AND a.org_id = $1),"
    " b_bad AS (INSERT INTO campaign_budget_alerts AS a (campaign_id, org_id, level)"
    "  SELECT ch.campaign_id, $1, ch.state FROM ch WHERE ch.kind = 'budget' AND ch.state IS NOT NULL"
    "  ON CONFLICT (campaign_id) DO UPDATE SET level = EXCLUDED.level, updated_at = now()"
    "  WHERE a.level <> EXCLUDED.level RETURNING a.campaign_id)"
    " SELECT count(emit_event($1, ch.type, 'campaign', ch.campaign_id, ch.data))::text FROM ch"
    " WHERE ch.type IS NOT NULL AND (ch.target_id IN (SELECT target_id FROM t_bad)"
    "  OR (ch.kind = 'budget' AND ch.campaign_id IN (SELECT campaign_id FROM b_bad)))",
    2};

app_err alert_store_record(db_conn *conn, const char *org, const char *changes_json, app_refusal *why)
{
    const char *params[] = {org, changes_json};
    char *count = NULL;
    app_err e = db_write_row(conn, &q_record, params, &count, NULL, 0, why);
    free(count);
    return e;
}
