/* booking_store.c — see booking_store.h. */
#define _GNU_SOURCE
#include "booking_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The booking as the API shows it, inline in each statement (see campaign_store.c). */
#define BOOKING_DOC                                                                                            \
    "json_build_object('id', t.id, 'campaign_id', t.campaign_id, 'resource_id', t.resource_id,"                \
    " 'segment_id', t.segment_id, 'start', lower(t.period), 'end', upper(t.period), 'quantity', t.quantity,"   \
    " 'status', t.status, 'status_reason', t.status_reason, 'notes', t.notes,"                                 \
    " 'cost_estimate', CASE WHEN t.cost_amount IS NOT NULL THEN"                                               \
    "  json_build_object('amount', t.cost_amount::text, 'currency', t.cost_currency) END,"                     \
    " 'created_by', t.created_by, 'version', t.version, 'created_at', t.created_at,"                          \
    " 'updated_at', t.updated_at)::text"

static const db_stmt q_refs = {
    "booking_refs",
    "SELECT c.owner, c.status, r.kind, r.active, s.id IS NOT NULL FROM (SELECT 1) one"
    " LEFT JOIN campaigns c ON " DB_BY_KEY("c", "$2::uuid", "$1")
    " LEFT JOIN resources r ON " DB_BY_KEY("r", "$3::uuid", "$1")
    " LEFT JOIN segments s ON " DB_BY_KEY("s", "$4::uuid", "$1"),
    4};
static const db_stmt q_insert = {
    "booking_insert",
    "INSERT INTO bookings AS t (org_id, campaign_id, resource_id, segment_id, period, quantity, status, notes,"
    " created_by)"
    " SELECT $1, (d->>'campaign_id')::uuid, (d->>'resource_id')::uuid, (d->>'segment_id')::uuid,"
    " tstzrange((d->>'start')::timestamptz, (d->>'end')::timestamptz, '[)'), coalesce((d->>'quantity')::integer, 1),"
    " coalesce(d->>'status', 'tentative'), d->>'notes', $2"
    " FROM (SELECT $3::jsonb AS d) p RETURNING " BOOKING_DOC ", t.version, t.id::text",
    3};
/* q_insert that sets the request context itself (read by the statement's triggers: the audit entry, the event),
 * one statement fewer than the context's own before it: the actor as the creator it stores, the role and request
 * id in its WHERE, all evaluated as the row is made, before any trigger of the insert runs. */
static const db_stmt q_insert_ctx = {
    "booking_insert_ctx",
    "INSERT INTO bookings AS t (org_id, campaign_id, resource_id, segment_id, period, quantity, status, notes,"
    " created_by)"
    " SELECT $1, (d->>'campaign_id')::uuid, (d->>'resource_id')::uuid, (d->>'segment_id')::uuid,"
    " tstzrange((d->>'start')::timestamptz, (d->>'end')::timestamptz, '[)'), coalesce((d->>'quantity')::integer, 1),"
    " coalesce(d->>'status', 'tentative'), d->>'notes', set_config('campaignd.actor', $2, true)"
    " FROM (SELECT $3::jsonb AS d) p"
    " WHERE set_config('campaignd.role', $4, true) IS NOT NULL AND set_config('campaignd.request_id', $5, true) IS NOT NULL"
    " RETURNING " BOOKING_DOC ", t.version, t.id::text",
    5};
/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt booking_store_get_stmt = {
    "booking_get", "SELECT " BOOKING_DOC ", t.version FROM bookings t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
/* The campaign (shared), then the resource: the lock order of every booking writer (0010_campaign_holds.sql). */
static const db_stmt q_lock_parents = {"booking_lock_parents", "SELECT booking_lock_parents($1, $2::uuid)", 2};
static const db_stmt q_lock = {
    "booking_lock",
    "SELECT " BOOKING_DOC ", t.version, c.owner, r.kind FROM bookings t JOIN campaigns c ON c.id = t.campaign_id"
    " JOIN resources r ON r.id = t.resource_id WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE OF t",
    2};
static const db_stmt q_update = {
    "booking_update",
    "UPDATE bookings t SET"
    " period = tstzrange(coalesce((d->>'start')::timestamptz, lower(t.period)),"
    "  coalesce((d->>'end')::timestamptz, upper(t.period)), '[)'),"
    " quantity = CASE WHEN d ? 'quantity' THEN (d->>'quantity')::integer ELSE t.quantity END,"
    " status = CASE WHEN d ? 'status' THEN d->>'status' ELSE t.status END,"
    " notes = CASE WHEN d ? 'notes' THEN d->>'notes' ELSE t.notes END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " BOOKING_DOC ", t.version",
    3};
static const db_stmt q_cancel = {
    "booking_cancel",
    "UPDATE bookings t SET status = 'cancelled', status_reason = $3 WHERE " DB_BY_KEY("t", "$2", "$1")
    " RETURNING " BOOKING_DOC ", t.version",
    3};
static const db_stmt q_in_the_way = {
    "booking_in_the_way",
    "SELECT coalesce(jsonb_agg(booking_ref(b) ORDER BY lower(b.period), b.id), '[]')::text FROM bookings b"
    " WHERE b.org_id = $1 AND b.resource_id = $2::uuid AND b.status <> 'cancelled'"
    " AND b.period && tstzrange($3::timestamptz, $4::timestamptz, '[)') AND ($5::uuid IS NULL OR b.id <> $5::uuid)",
    5};

static const sort_spec booking_sorts[] = {
    {"start", "lower(t.period)", "timestamptz"},
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const booking_sort_names[] = {"start", "created_at", NULL};

static list_query booking_list = {
    .name = "booking_list",
    .projection = BOOKING_DOC,
    .from = "bookings t",
    .where = "t.org_id = $1 AND ($2::uuid IS NULL OR t.campaign_id = $2::uuid)"
             " AND ($3::uuid IS NULL OR t.resource_id = $3::uuid) AND ($4::uuid IS NULL OR t.segment_id = $4::uuid)"
             " AND ($5::text[] IS NULL OR t.status = ANY ($5::text[]))"
             " AND ($6::timestamptz IS NULL OR upper(t.period) > $6::timestamptz)"
             " AND ($7::timestamptz IS NULL OR lower(t.period) < $7::timestamptz)",
    .nfilters = 7,
    .sorts = booking_sorts,
    .nsorts = sizeof booking_sorts / sizeof booking_sorts[0],
};

app_err booking_store_refs_take(const db_kept *kept, booking_refs *out)
{
    const PGresult *res = kept->res;
    if (!res || PQntuples(res) != 1 || PQnfields(res) < 5) return APP_ERR_INTERNAL;
    memset(out, 0, sizeof *out);
    snprintf(out->campaign_owner, sizeof out->campaign_owner, "%s", PQgetvalue(res, 0, 0));
    snprintf(out->campaign_status, sizeof out->campaign_status, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->resource_kind, sizeof out->resource_kind, "%s", PQgetvalue(res, 0, 2));
    out->resource_active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    out->segment_found = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
    return APP_OK;
}

app_err booking_store_refs(db_conn *conn, const char *org, const char *campaign_id, const char *resource_id,
                           const char *segment_id, booking_refs *out)
{
    const char *params[] = {org, campaign_id, resource_id, segment_id};
    db_kept kept = {NULL};
    app_err e = db_exec(conn, &q_refs, params, &kept.res);
    if (!e) e = booking_store_refs_take(&kept, out);
    db_kept_clear(&kept);
    return e;
}

app_err booking_store_refs_defer(db_conn *conn, const char *org, const char *campaign_id, const char *resource_id,
                                 const char *segment_id, db_kept *kept)
{
    const char *params[] = {org, campaign_id, resource_id, segment_id};
    return db_defer(conn, &q_refs, params, &kept->res);
}

app_err booking_store_insert_defer(db_conn *conn, const char *org, const char *actor, const char *body_json,
                                   const tx_context *carry, db_kept *kept)
{
    if (carry && carry->actor) {
        const char *params[] = {org, carry->actor, body_json, carry->role, carry->request_id};
        return db_defer(conn, &q_insert_ctx, params, &kept->res);
    }
    const char *params[] = {org, actor, body_json};
    return db_defer(conn, &q_insert, params, &kept->res);
}

app_err booking_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                             char id_out[37], app_refusal *why)
{
    const char *params[] = {org, actor, body_json};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err booking_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &booking_store_get_stmt, params, doc, NULL, NULL);
}

app_err booking_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    app_err e = db_exec(conn, &q_lock_parents, params, NULL);
    return e ? e : db_lock_row(conn, &q_lock, params, doc);
}

app_err booking_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

app_err booking_store_cancel(db_conn *conn, const char *org, const char *id, const char *reason, db_doc *doc,
                             app_refusal *why)
{
    const char *params[] = {org, id, reason};
    return db_doc_row(conn, &q_cancel, params, doc, NULL, why);
}

app_err booking_store_in_the_way(db_conn *conn, const char *org, const char *resource_id, const char *start,
                                 const char *end, const char *except_id, json_t **j_items)
{
    const char *params[] = {org, resource_id, start, end, except_id};
    char *text = NULL;
    app_err e = db_one_row(conn, &q_in_the_way, params, &text, NULL, 0);
    if (e) return e;
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    if (!j) return APP_ERR_INTERNAL;
    *j_items = j;
    return APP_OK;
}

app_err booking_store_list(db_conn *conn, const char *org, const booking_filter *f, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->campaign_id, f->resource_id, f->segment_id, f->statuses, f->from, f->to};
    return list_query_run(conn, &booking_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
