/* planning_store.c — see planning_store.h. */
#include "planning_store.h"

/* One statement: the campaigns, then their measurements summed per channel (a campaign's rows are read through
 * measurements_campaign_date, led by (org_id, campaign_id)). */
static const db_stmt q_history = {
    "planning_history",
    "WITH c AS MATERIALIZED (SELECT id, start_date, end_date, channel_budgets FROM campaigns"
    "  WHERE org_id = $1 AND status = 'completed' AND (budget_currency IS NULL OR budget_currency = $2)"
    "  AND ($3::uuid IS NULL OR id <> $3::uuid)),"
    " m AS (SELECT m.campaign_id, m.channel,"
    "  sum(m.spend) FILTER (WHERE m.currency = $2) AS spend, sum(m.leads) AS leads,"
    "  sum(m.conversions) AS conversions, sum(m.revenue) FILTER (WHERE m.currency = $2) AS revenue"
    "  FROM measurements m JOIN c ON m.org_id = $1 AND m.campaign_id = c.id GROUP BY m.campaign_id, m.channel)"
    " SELECT coalesce(json_agg(json_build_object('start', c.start_date, 'end', c.end_date,"
    "  'budgets', c.channel_budgets, 'rows', coalesce((SELECT json_agg(json_build_object('channel', m.channel,"
    "  'spend', m.spend, 'leads', m.leads, 'conversions', m.conversions, 'revenue', m.revenue)"
    "  ORDER BY m.channel NULLS FIRST) FROM m WHERE m.campaign_id = c.id), '[]'::json))"
    "  ORDER BY c.start_date, c.id), '[]'::json)::text FROM c",
    3};

app_err planning_store_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                               char **json)
{
    const char *params[] = {org, currency, exclude_id};
    return db_one_row(conn, &q_history, params, json, NULL, 0);
}
