/* target_store.c — see target_store.h. */
#define _GNU_SOURCE
#include "target_store.h"

#include <stdlib.h>

/* The set as the API shows it: each target in its unit's JSON type (a count an integer, money a decimal string
 * with 2 decimals in the campaign's currency, a ratio a number). */
/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt target_store_get_stmt = {
    "target_get",
    "SELECT json_build_object('campaign_id', c.id, 'currency', c.budget_currency,"
    " 'targets', coalesce((SELECT json_agg(json_build_object('kpi', t.kpi, 'channel', t.channel, 'unit', t.unit,"
    "   'target', CASE t.unit WHEN 'money' THEN to_json(t.target::numeric(16, 2)::text)"
    "    WHEN 'count' THEN to_json(t.target::bigint) ELSE to_json(trim_scale(t.target)) END,"
    "   'direction', t.direction) ORDER BY t.position)"
    "  FROM kpi_targets t WHERE t.org_id = c.org_id AND t.campaign_id = c.id), '[]'::json),"
    " 'version', coalesce(s.version, 0), 'updated_at', s.updated_at)::text, coalesce(s.version, 0)"
    " FROM campaigns c LEFT JOIN kpi_target_sets s ON s.org_id = c.org_id AND s.campaign_id = c.id"
    " WHERE " DB_BY_KEY("c", "$2", "$1"),
    2};

static const db_stmt q_ensure_set = {
    "target_ensure_set",
    "INSERT INTO kpi_target_sets (org_id, campaign_id, version) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", 2};

static const db_stmt q_lock_set = {
    "target_lock_set",
    "SELECT version::text FROM kpi_target_sets WHERE org_id = $1 AND campaign_id = $2 FOR UPDATE", 2};

static const db_stmt q_delete = {"target_delete", "DELETE FROM kpi_targets WHERE org_id = $1 AND campaign_id = $2",
                                 2};

static const db_stmt q_insert = {
    "target_insert",
    "INSERT INTO kpi_targets (org_id, campaign_id, kpi, unit, channel, target, direction, position)"
    " SELECT $1, $2, r.kpi, r.unit, r.channel, r.target, r.direction, r.position"
    " FROM jsonb_to_recordset($3::jsonb) AS r(kpi text, unit text, channel text, target numeric,"
    "  direction text, position int)",
    3};

/* The version moves on (touch_row) and the change is announced in the same transaction. */
static const db_stmt q_bump = {
    "target_bump",
    "WITH s AS (UPDATE kpi_target_sets SET updated_at = now() WHERE org_id = $1 AND campaign_id = $2"
    "  RETURNING version)"
    " SELECT emit_event($1, 'campaign.targets_changed', 'campaign', $2::uuid,"
    "  jsonb_build_object('campaign_id', $2::uuid, 'version', s.version, 'targets', $3::jsonb)) FROM s",
    3};

app_err target_store_get(db_conn *conn, const char *org, const char *campaign_id, db_doc *doc)
{
    const char *params[] = {org, campaign_id};
    return db_doc_row(conn, &target_store_get_stmt, params, doc, NULL, NULL);
}

app_err target_store_lock(db_conn *conn, const char *org, const char *campaign_id, int *version)
{
    const char *params[] = {org, campaign_id};
    char *v = NULL;
    app_err e = db_write(conn, &q_ensure_set, params, NULL, NULL);
    if (!e) e = db_one_row(conn, &q_lock_set, params, &v, NULL, 0);
    if (!e) *version = atoi(v);
    free(v);
    return e;
}

app_err target_store_replace(db_conn *conn, const char *org, const char *campaign_id, const char *rows_json,
                             db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, campaign_id, rows_json};
    app_err e = db_write(conn, &q_delete, params, NULL, why);
    if (!e) e = db_write(conn, &q_insert, params, NULL, why);
    if (!e) e = db_write(conn, &q_bump, params, NULL, why);
    if (!e) e = target_store_get(conn, org, campaign_id, doc);
    return e;
}
