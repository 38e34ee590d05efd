/* webhook_store.c — see webhook_store.h. */
#define _GNU_SOURCE
#include "webhook_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The subscription as the API shows it (never a secret); inline in each statement (see campaign_store.c). */
#define WEBHOOK_DOC                                                                                            \
    "json_build_object('id', t.id, 'url', t.url, 'event_types', t.event_types, 'description', t.description," \
    " 'active', t.active, 'disabled_reason', t.disabled_reason, 'disabled_at', t.disabled_at,"               \
    " 'failing_since', t.failing_since, 'secret_rotated_at', t.secret_rotated_at, 'version', t.version,"     \
    " 'created_by', t.created_by, 'created_at', t.created_at, 'updated_at', t.updated_at)"

/* A delivery with its attempts, oldest first. */
#define DELIVERY_DOC                                                                                            \
    "json_build_object('id', t.id, 'webhook_id', t.subscription_id, 'message_id', 'msg_' || replace(t.id::text, '-', ''),"  \
    " 'event_id', t.event_id, 'event_type', t.event_type, 'status', t.status, 'in_flight', t.claim IS NOT NULL," \
    " 'attempt_count', t.attempt_count,"                                                                        \
    " 'next_attempt_at', CASE WHEN t.claim IS NULL AND t.next_attempt_at < 'infinity' THEN t.next_attempt_at END,"  \
    " 'payload', t.body::json, 'created_at', t.created_at, 'updated_at', t.updated_at,"                         \
    " 'attempts', (SELECT coalesce(json_agg(json_build_object('at', a.at, 'duration_ms', a.duration_ms,"        \
    "   'response_status', a.response_status, 'response_body', a.response_body, 'error', a.error,"             \
    "   'manual', a.manual) ORDER BY a.id), '[]'::json) FROM webhook_attempts a WHERE a.delivery_id = t.id))::text"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt webhook_store_get_stmt = {
    "webhook_get", "SELECT " WEBHOOK_DOC "::text, t.version FROM webhook_subscriptions t WHERE " DB_BY_KEY("t", "$2", "$1"),
    2};
static const db_stmt q_lock = {
    "webhook_lock",
    "SELECT " WEBHOOK_DOC "::text, t.version, '' FROM webhook_subscriptions t WHERE " DB_BY_KEY("t", "$2", "$1")
    " FOR UPDATE",
    2};
static const db_stmt q_insert = {
    "webhook_insert",
    "WITH s AS (INSERT INTO webhook_subscriptions AS t (org_id, url, event_types, description, active, created_by)"
    "  SELECT $1, d->>'url', ARRAY(SELECT jsonb_array_elements_text(d->'event_types')), d->>'description',"
    "  coalesce((d->>'active')::boolean, true), $2 FROM (SELECT $3::jsonb AS d) p RETURNING t.*),"
    " k AS (INSERT INTO webhook_secrets (subscription_id, secret) SELECT id, $4 FROM s)"
    " SELECT (" WEBHOOK_DOC "::jsonb || jsonb_build_object('secret', $4::text))::text, t.version, t.id::text FROM s t",
    4};
static const db_stmt q_update = {
    "webhook_update",
    "UPDATE webhook_subscriptions t SET"
    " url = CASE WHEN d ? 'url' THEN d->>'url' ELSE t.url END,"
    " event_types = CASE WHEN d ? 'event_types' THEN ARRAY(SELECT jsonb_array_elements_text(d->'event_types'))"
    "  ELSE t.event_types END,"
    " description = CASE WHEN d ? 'description' THEN d->>'description' ELSE t.description END,"
    " active = CASE WHEN d ? 'active' THEN (d->>'active')::boolean ELSE t.active END,"
    " disabled_reason = CASE WHEN d ? 'active' THEN NULL ELSE t.disabled_reason END,"
    " disabled_at = CASE WHEN d ? 'active' THEN NULL ELSE t.disabled_at END,"
    " failing_since = CASE WHEN (d->>'active')::boolean THEN NULL ELSE t.failing_since END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " WEBHOOK_DOC "::text, t.version",
    3};
static const db_stmt q_delete = {
    "webhook_delete", "DELETE FROM webhook_subscriptions WHERE " DB_BY_KEY("webhook_subscriptions", "$2", "$1"), 2};

/* Rotation, two statements: the secrets before expire (one current secret at a time, the unique index
 * webhook_secrets_current), then the new one and the subscription's new version. */
static const db_stmt q_expire_secrets = {
    "webhook_expire_secrets",
    "WITH gone AS (DELETE FROM webhook_secrets WHERE subscription_id = $1 AND expires_at <= now())"
    " UPDATE webhook_secrets SET expires_at = now() + $2::integer * interval '1 second'"
    " WHERE subscription_id = $1 AND expires_at IS NULL",
    2};
static const db_stmt q_rotate = {
    "webhook_rotate",
    "WITH k AS (INSERT INTO webhook_secrets (subscription_id, secret) VALUES ($2, $3))"
    " UPDATE webhook_subscriptions t SET secret_rotated_at = now() WHERE " DB_BY_KEY("t", "$2", "$1")
    " RETURNING (" WEBHOOK_DOC "::jsonb || jsonb_build_object('secret', $3::text,"
    "  'previous_secret_expires_at', now() + $4::integer * interval '1 second'))::text, t.version",
    4};

static const db_stmt q_delivery_lock = {
    "webhook_delivery_lock",
    "SELECT t.claim IS NOT NULL AND t.next_attempt_at > now() FROM webhook_deliveries t"
    " WHERE t.id = $3 AND t.subscription_id = $2 AND (t.org_id = $1) IS TRUE FOR UPDATE",
    3};
static const db_stmt q_delivery_retry = {
    "webhook_delivery_retry",
    "UPDATE webhook_deliveries t SET status = 'pending', next_attempt_at = now(), claim = NULL, manual = true,"
    " updated_at = now() WHERE t.id = $3 AND t.subscription_id = $2 AND (t.org_id = $1) IS TRUE"
    " RETURNING " DELIVERY_DOC ", 1",
    3};

static const db_stmt q_fan_out = {"webhook_fan_out", "SELECT webhook_fan_out($1::integer)::text", 1};

/* The most overdue due delivery of an active subscription, leased: the lease moves next_attempt_at past the
 * attempt's end, so no replica takes it again unless the attempt never reports back. */
static const db_stmt q_claim = {
    "webhook_claim",
    "WITH due AS (SELECT d.id FROM webhook_deliveries d"
    "  WHERE d.status = 'pending' AND d.next_attempt_at <= now()"
    "  ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE webhook_deliveries t SET claim = gen_random_uuid(), updated_at = now(),"
    "  next_attempt_at = now() + $1::integer * interval '1 millisecond'"
    " FROM due, webhook_subscriptions s WHERE t.id = due.id AND s.id = t.subscription_id"
    " RETURNING t.id::text, t.claim::text, 'msg_' || replace(t.id::text, '-', ''), s.url, t.body,"
    "  (SELECT string_agg(k.secret, ' ' ORDER BY k.id) FROM webhook_secrets k"
    "   WHERE k.subscription_id = s.id AND (k.expires_at IS NULL OR k.expires_at > now())),"
    "  t.attempt_count::text, s.active",
    1};

static const db_stmt q_attempt_done = {
    "webhook_attempt_done",
    "SELECT coalesce(webhook_attempt_done($1::uuid, $2::uuid, to_timestamp($3::double precision), $4::integer,"
    " $5::integer, $6, $7, $8, $9::bigint, $10::integer * interval '1 second'), '')",
    10};

/* Each part is served by an index: the outbox's pending one (its oldest id), the deliveries' due one, and
 * the subscriptions' own table (small). */
static const db_stmt q_stats = {
    "webhook_stats",
    "SELECT coalesce(extract(epoch FROM now() - (SELECT created_at FROM outbox_events WHERE delivered_at IS NULL"
    "  ORDER BY id LIMIT 1)), 0)::text,"
    " coalesce(extract(epoch FROM now() - (SELECT next_attempt_at FROM webhook_deliveries WHERE status = 'pending'"
    "  AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1)), 0)::text,"
    " (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')::text,"
    " (SELECT count(*) FROM webhook_subscriptions WHERE disabled_reason IS NOT NULL)::text",
    0};

static const sort_spec webhook_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const webhook_sort_names[] = {"created_at", NULL};

static list_query webhook_list = {
    .name = "webhook_list",
    .projection = WEBHOOK_DOC "::text",
    .from = "webhook_subscriptions t",
    .where = "t.org_id = $1 AND ($2::boolean IS NULL OR t.active = $2::boolean)",
    .nfilters = 2,
    .sorts = webhook_sorts,
    .nsorts = sizeof webhook_sorts / sizeof webhook_sorts[0],
};

static const sort_spec delivery_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const webhook_delivery_sort_names[] = {"created_at", NULL};
const char *const webhook_delivery_statuses[] = {"pending", "succeeded", "failed", NULL};

static list_query delivery_list = {
    .name = "webhook_delivery_list",
    .projection = DELIVERY_DOC,
    .from = "webhook_deliveries t",
    .where = "t.subscription_id = $2::uuid AND (t.org_id = $1) IS TRUE"
             " AND ($3::text[] IS NULL OR t.status = ANY ($3::text[]))",
    .nfilters = 3,
    .sorts = delivery_sorts,
    .nsorts = sizeof delivery_sorts / sizeof delivery_sorts[0],
};

app_err webhook_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &webhook_store_get_stmt, params, doc, NULL, NULL);
}

app_err webhook_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err webhook_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                             char id_out[37], app_refusal *why)
{
    char secret[WEBHOOK_SECRET_LEN + 1];
    if (webhook_secret_new(secret) != 0) return APP_ERR_INTERNAL;
    const char *params[] = {org, actor, body_json, secret};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err webhook_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

app_err webhook_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    memset(doc, 0, sizeof *doc);
    const char *params[] = {org, id};
    return db_write(conn, &q_delete, params, NULL, why);
}

app_err webhook_store_list(db_conn *conn, const char *org, const char *active, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, active};
    return list_query_run(conn, &webhook_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err webhook_store_rotate(db_conn *conn, const char *org, const char *id, unsigned overlap_s, db_doc *doc)
{
    char secret[WEBHOOK_SECRET_LEN + 1], overlap[16];
    if (webhook_secret_new(secret) != 0) return APP_ERR_INTERNAL;
    snprintf(overlap, sizeof overlap, "%u", overlap_s);
    const char *expire[] = {id, overlap};
    app_err e = db_defer(conn, &q_expire_secrets, expire, NULL);
    const char *params[] = {org, id, secret, overlap};
    if (!e) e = db_doc_row(conn, &q_rotate, params, doc, NULL, NULL);
    return e;
}

app_err webhook_store_delivery_list(db_conn *conn, const char *org, const char *subscription_id,
                                    const char *statuses, int sort, int desc, const char *cursor_key,
                                    const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, subscription_id, statuses};
    return list_query_run(conn, &delivery_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err webhook_store_delivery_retry(db_conn *conn, const char *org, const char *subscription_id,
                                     const char *delivery_id, db_doc *doc)
{
    const char *params[] = {org, subscription_id, delivery_id};
    char *in_flight = NULL;
    app_err e = db_one_row(conn, &q_delivery_lock, params, &in_flight, NULL, 0);
    if (!e && strcmp(in_flight, "t") == 0) e = APP_ERR_INVALID_STATE;
    free(in_flight);
    if (!e) e = db_doc_row(conn, &q_delivery_retry, params, doc, NULL, NULL);
    return e;
}

app_err webhook_store_fan_out(db_conn *conn, int limit, int *n)
{
    char lim[16], *count = NULL;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {lim};
    app_err e = db_begin(conn);
    if (!e) e = db_one_row(conn, &q_fan_out, params, &count, NULL, 0);
    if (!e) e = db_commit(conn);
    else db_rollback(conn);
    if (!e) *n = atoi(count);
    free(count);
    return e;
}

void webhook_claim_free(webhook_claim *c)
{
    free(c->url);
    free(c->body);
    free(c->secrets);
    memset(c, 0, sizeof *c);
}

app_err webhook_store_claim(db_conn *conn, unsigned lease_ms, webhook_claim *out)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%u", lease_ms);
    const char *params[] = {lease};
    PGresult *res = NULL;
    webhook_claim c = {0};
    app_err e = db_begin(conn);
    if (!e) e = db_exec(conn, &q_claim, params, &res);
    if (!e) e = db_commit(conn);
    else db_rollback(conn);
    if (e) goto out;
    if (PQntuples(res) != 1) { e = APP_ERR_NOT_FOUND; goto out; }
    snprintf(c.id, sizeof c.id, "%s", PQgetvalue(res, 0, 0));
    snprintf(c.claim, sizeof c.claim, "%s", PQgetvalue(res, 0, 1));
    snprintf(c.msg_id, sizeof c.msg_id, "%s", PQgetvalue(res, 0, 2));
    c.url = strdup(PQgetvalue(res, 0, 3));
    c.body = strdup(PQgetvalue(res, 0, 4));
    c.secrets = strdup(PQgetvalue(res, 0, 5));
    c.attempt_count = atoi(PQgetvalue(res, 0, 6));
    if (!c.url || !c.body || !c.secrets) { webhook_claim_free(&c); e = APP_ERR_INTERNAL; goto out; }
    *out = c;
out:
    PQclear(res);
    return e;
}

app_err webhook_store_attempt_done(db_conn *conn, const webhook_claim *c, const webhook_result *r,
                                   unsigned disable_after_s, char status[16])
{
    char started[32], duration[24], http[16], next[24], disable[16];
    snprintf(started, sizeof started, "%.6f", r->started);
    snprintf(duration, sizeof duration, "%lld", r->duration_ms);
    snprintf(http, sizeof http, "%d", r->http_status);
    snprintf(next, sizeof next, "%lld", r->next_ms);
    snprintf(disable, sizeof disable, "%u", disable_after_s);
    const char *params[] = {c->id, c->claim, started, duration, r->http_status ? http : NULL, r->response_body,
                            r->error, r->outcome, r->next_ms >= 0 ? next : NULL, disable};
    char *st = NULL;
    app_err e = db_begin(conn);
    if (!e) e = db_one_row(conn, &q_attempt_done, params, &st, NULL, 0);
    if (!e) e = db_commit(conn);
    else db_rollback(conn);
    if (!e && status) snprintf(status, 16, "%s", st);
    free(st);
    return e;
}

app_err webhook_store_stats(db_conn *conn, webhook_stats *out)
{
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_stats, NULL, &res);
    if (!e && PQntuples(res) == 1) {
        out->outbox_lag_s = atof(PQgetvalue(res, 0, 0));
        out->oldest_due_s = atof(PQgetvalue(res, 0, 1));
        out->pending = atoll(PQgetvalue(res, 0, 2));
        out->disabled = atoll(PQgetvalue(res, 0, 3));
    } else if (!e) {
        e = APP_ERR_INTERNAL;
    }
    PQclear(res);
    return e;
}
