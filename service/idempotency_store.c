/* idempotency_store.c — see idempotency_store.h. */
#define _GNU_SOURCE
#include "idempotency_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt q_begin = {"tx_begin", "SELECT campaignd_begin($1, $2, $3, $4)", 4};

/* campaignd_begin() without its look-up of the organisation (a statement of its own inside it): the request context
 * alone, in one statement with no function of ours to run. */
static const db_stmt q_context = {
    "tx_context",
    "SELECT set_config('campaignd.actor', $1, true), set_config('campaignd.role', $2, true),"
    " set_config('campaignd.request_id', $3, true)",
    3};

static const db_stmt q_lock = {
    "idem_lock", "SELECT pg_try_advisory_xact_lock(hashtextextended('idem:' || $1 || ':' || $2, 0))", 2};

static const db_stmt q_find = {
    "idem_find",
    "SELECT request_hash = encode(sha256(convert_to($3, 'UTF8')), 'hex'), status_code, location, body,"
    " coalesce(etag_version, 0)"
    " FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'",
    3};

static const db_stmt q_save = {
    "idem_save",
    "INSERT INTO idempotency_keys (org_id, key, request_hash, status_code, location, body, etag_version)"
    " VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'), $4, $5, $6, nullif($7::integer, 0))"
    " ON CONFLICT (org_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
    " status_code = EXCLUDED.status_code, location = EXCLUDED.location, body = EXCLUDED.body,"
    " etag_version = EXCLUDED.etag_version,"
    " created_at = now() WHERE idempotency_keys.created_at <= now() - interval '24 hours'",
    7};

app_err tx_store_begin(db_conn *conn, const char *org, const char *actor, const char *role, const char *request_id)
{
    const char *params[] = {org, actor, role, request_id};
    return db_defer(conn, &q_begin, params, NULL);
}

app_err tx_store_context(db_conn *conn, const char *actor, const char *role, const char *request_id)
{
    const char *params[] = {actor, role, request_id};
    return db_defer(conn, &q_context, params, NULL);
}

app_err idem_store_lock(db_conn *conn, const char *org, const char *key, int *taken)
{
    const char *params[] = {org, key};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_lock, params, &res);
    if (e) return e;
    *taken = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return APP_OK;
}

app_err idem_store_find(db_conn *conn, const char *org, const char *key, const char *fingerprint, idem_record *out)
{
    const char *params[] = {org, key, fingerprint};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_find, params, &res);
    if (e) return e;
    idem_record rec = {0};
    if (PQntuples(res) == 1) {
        rec.found = 1;
        rec.same = PQgetvalue(res, 0, 0)[0] == 't';
        rec.status = atoi(PQgetvalue(res, 0, 1));
        rec.body = strdup(PQgetvalue(res, 0, 3));
        if (!PQgetisnull(res, 0, 2) && !(rec.location = strdup(PQgetvalue(res, 0, 2)))) e = APP_ERR_INTERNAL;
        if (!rec.body) e = APP_ERR_INTERNAL;
        rec.etag_version = atoi(PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    if (e) {
        idem_record_free(&rec);
        return e;
    }
    *out = rec;
    return APP_OK;
}

app_err idem_store_claim(db_conn *conn, const char *org, const char *key, const char *fingerprint, int *taken,
                         idem_record *out)
{
    const char *params[] = {org, key};
    PGresult *lock = NULL;
    app_err e = db_defer(conn, &q_lock, params, &lock);
    if (!e) e = idem_store_find(conn, org, key, fingerprint, out);
    if (e) return e;
    *taken = lock && PQgetvalue(lock, 0, 0)[0] == 't';
    PQclear(lock);
    return APP_OK;
}

void idem_record_free(idem_record *r)
{
    free(r->location);
    free(r->body);
    memset(r, 0, sizeof *r);
}

app_err idem_store_save(db_conn *conn, const char *org, const char *key, const char *fingerprint, int status,
                        const char *location, const char *body, int etag_version)
{
    char st[12], ev[12];
    snprintf(st, sizeof st, "%d", status);
    snprintf(ev, sizeof ev, "%d", etag_version);
    const char *params[] = {org, key, fingerprint, st, location, body, ev};
    return db_defer(conn, &q_save, params, NULL);
}
