/* settings_store.c — see settings_store.h. */
#include "settings_store.h"

static const db_stmt q_get = {
    "settings_get", "SELECT settings_json(s)::text, s.version FROM org_settings_of($1) s", 1};
static const db_stmt q_create = {
    "settings_create",
    "INSERT INTO org_settings SELECT (org_settings_of($1)).* ON CONFLICT (org_id) DO NOTHING", 1};
static const db_stmt q_lock = {
    "settings_lock", "SELECT settings_json(s)::text, s.version FROM org_settings s WHERE s.org_id = $1 FOR UPDATE", 1};
static const db_stmt q_update = {
    "settings_update",
    "UPDATE org_settings t SET"
    " time_zone = coalesce(d->>'time_zone', t.time_zone),"
    " overlap_window_days = coalesce((d->>'overlap_window_days')::integer, t.overlap_window_days),"
    " overlap_ratio = coalesce((d->>'overlap_ratio')::numeric, t.overlap_ratio),"
    " frequency_cap_sends = coalesce((d->'frequency_cap'->>'sends')::integer, t.frequency_cap_sends),"
    " frequency_cap_days = coalesce((d->'frequency_cap'->>'days')::integer, t.frequency_cap_days),"
    " budget_warn_percent = coalesce((d->>'budget_warn_percent')::integer, t.budget_warn_percent),"
    " budget_block_percent = coalesce((d->>'budget_block_percent')::integer, t.budget_block_percent),"
    " capacity_warn_percent = coalesce((d->>'capacity_warn_percent')::integer, t.capacity_warn_percent),"
    " unapproved_launch_days = coalesce((d->>'unapproved_launch_days')::integer, t.unapproved_launch_days),"
    " weight_engagement = coalesce((d->'priority_weights'->>'engagement_potential')::integer, t.weight_engagement),"
    " weight_cpa = coalesce((d->'priority_weights'->>'estimated_cpa')::integer, t.weight_cpa),"
    " weight_experience = coalesce((d->'priority_weights'->>'customer_experience')::integer, t.weight_experience),"
    " weight_alignment = coalesce((d->'priority_weights'->>'strategic_alignment')::integer, t.weight_alignment),"
    " risk_low_max = coalesce((d->'risk_level_max'->>'low')::integer, t.risk_low_max),"
    " risk_medium_max = coalesce((d->'risk_level_max'->>'medium')::integer, t.risk_medium_max),"
    " risk_high_max = coalesce((d->'risk_level_max'->>'high')::integer, t.risk_high_max),"
    " forceable_rules = CASE WHEN d ? 'forceable_rules'"
    "  THEN ARRAY(SELECT jsonb_array_elements_text(d->'forceable_rules')) ELSE t.forceable_rules END"
    " FROM (SELECT $2::jsonb AS d) p WHERE t.org_id = $1 RETURNING settings_json(t)::text, t.version",
    2};

app_err settings_store_get(db_conn *conn, const char *org, db_doc *doc)
{
    const char *params[] = {org};
    return db_doc_row(conn, &q_get, params, doc, NULL, NULL);
}

app_err settings_store_lock(db_conn *conn, const char *org, db_doc *doc)
{
    const char *params[] = {org};
    app_err e = db_defer(conn, &q_create, params, NULL);
    return e ? e : db_lock_row(conn, &q_lock, params, doc);
}

app_err settings_store_update(db_conn *conn, const char *org, const char *patch_json, db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}
