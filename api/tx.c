/* tx.c — see tx.h. */
#define _GNU_SOURCE
#include "tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "idempotency_store.h"
#include "respond.h"

static int valid_idem_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255) return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7E) return 0;
    return 1;
}

static void release(req_ctx *ctx, write_tx *tx)
{
    db_rollback(tx->conn);
    if (!tx->borrowed) db_release(ctx->app->pool, tx->conn);
    tx->conn = NULL;
    free(tx->fingerprint);
    tx->fingerprint = NULL;
}

/* tx_begin_or_reply and tx_begin_reads_or_reply; late: without a key, begin nothing (see tx.h). */
static int begin_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body, int late)
{
    memset(tx, 0, sizeof *tx);
    app_err e;
    const char *org = ctx->claims.org;

    if (strcmp(ctx->req->http_verb, "POST") == 0)
        tx->idem_key = u_map_get_case(ctx->req->map_header, "Idempotency-Key");
    if (tx->idem_key) {
        if (!valid_idem_key(tx->idem_key)) {
            reply_bad_param(ctx, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
            return 0;
        }
        /* Without its body the fingerprint would match another request's. */
        char *canon = j_body ? json_dumps(j_body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        if ((j_body && !canon) ||
            asprintf(&tx->fingerprint, "%s %s\n%s", ctx->req->http_verb, ctx->req->url_path, canon ? canon : "") < 0)
            tx->fingerprint = NULL;
        free(canon);
        if (!tx->fingerprint) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); return 0; }
    }
    if ((e = db_acquire(ctx->app->pool, &tx->conn))) {
        free(tx->fingerprint);
        tx->fingerprint = NULL;
        tx->conn = NULL;
        reply_problem(ctx, e, "the database is not reachable; retry shortly");
        return 0;
    }
    if (late && !tx->idem_key) {
        tx->late = ctx;
        return 1;
    }
    if ((e = db_begin(tx->conn)) ||
        (e = tx_store_begin(tx->conn, org, ctx->claims.sub, auth_role_name(ctx->claims.role), ctx->request_id)))
        goto fail;
    if (!tx->idem_key) return 1;

    int taken = 0;
    idem_record rec;
    if ((e = idem_store_claim(tx->conn, org, tx->idem_key, tx->fingerprint, &taken, &rec))) goto fail;
    if (!taken) {
        idem_record_free(&rec);
        tx_fail_reply(ctx, tx, APP_ERR_IDEMPOTENCY_IN_PROGRESS,
                      "a request with this Idempotency-Key is still being processed; retry later", NULL);
        return 0;
    }
    if (rec.found && !rec.same) {
        idem_record_free(&rec);
        tx_fail_reply(ctx, tx, APP_ERR_IDEMPOTENCY_KEY_REUSED,
                      "this Idempotency-Key was already used with a different request", NULL);
        return 0;
    }
    if (rec.found) {
        release(ctx, tx);
        if (rec.location) reply_header(ctx, "Location", rec.location);
        if (rec.etag_version > 0) {
            char etag[24];
            etag_format(rec.etag_version, etag);
            reply_header(ctx, "ETag", etag);
        }
        reply_header(ctx, "Idempotent-Replayed", "true");
        if (rec.body[0]) reply_json_text(ctx, rec.status, rec.body);
        else reply_empty(ctx, rec.status);
        idem_record_free(&rec);
        return 0;
    }
    return 1;
fail:
    tx_fail_reply(ctx, tx, e, NULL, NULL);
    return 0;
}

int tx_begin_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body) { return begin_or_reply(ctx, tx, j_body, 0); }

int tx_begin_reads_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body) { return begin_or_reply(ctx, tx, j_body, 1); }

/* Saves, commits and replies; etag_version 0: no ETag. */
static void commit_reply(req_ctx *ctx, write_tx *tx, int status, const char *location, const char *json_body,
                         int etag_version)
{
    app_err e = APP_OK;
    if (tx->idem_key)
        e = idem_store_save(tx->conn, ctx->claims.org, tx->idem_key, tx->fingerprint, status, location,
                            json_body ? json_body : "", etag_version);
    if (!e) e = db_commit(tx->conn);
    if (e) {
        tx_fail_reply(ctx, tx, e, NULL, NULL);
        return;
    }
    release(ctx, tx);
    if (location) reply_header(ctx, "Location", location);
    if (etag_version > 0) {
        char etag[24];
        etag_format(etag_version, etag);
        reply_header(ctx, "ETag", etag);
    }
    if (json_body) reply_json_text(ctx, status, json_body);
    else reply_empty(ctx, status);
}

void tx_commit_reply(req_ctx *ctx, write_tx *tx, int status, const char *location, const char *json_body)
{
    commit_reply(ctx, tx, status, location, json_body, 0);
}

void tx_commit_doc(req_ctx *ctx, write_tx *tx, int status, const char *location, const db_doc *doc)
{
    commit_reply(ctx, tx, status, location, doc->json, doc->json ? doc->version : 0);
}

app_err tx_last_write(write_tx *tx)
{
    if (tx->idem_key) return APP_OK; /* its record is saved after the write, then COMMIT */
    req_ctx *ctx = tx->late;
    if (ctx) {
        /* The write's round trip is its transaction; a first round trip is sent again on a new connection when
         * the pooled one was found lost, which a write committed by it must never be: then BEGIN and COMMIT. */
        const char *role = auth_role_name(ctx->claims.role);
        if (db_sent(tx->conn)) /* the reads before found the organisation's rows: it exists */
            return tx_store_context(tx->conn, ctx->claims.sub, role, ctx->request_id);
        app_err e = db_begin(tx->conn);
        if (!e) e = tx_store_begin(tx->conn, ctx->claims.org, ctx->claims.sub, role, ctx->request_id);
        if (e) return e;
    }
    db_commit_with_next(tx->conn);
    return APP_OK;
}

app_err tx_last_write_carrying(write_tx *tx, tx_context *carry)
{
    req_ctx *ctx = tx->late;
    *carry = (tx_context){0};
    if (tx->idem_key || !ctx || !db_sent(tx->conn)) return tx_last_write(tx);
    *carry = (tx_context){ctx->claims.sub, auth_role_name(ctx->claims.role), ctx->request_id};
    return APP_OK;
}

void tx_fail_reply(req_ctx *ctx, write_tx *tx, app_err err, const char *detail, json_t *j_extra)
{
    release(ctx, tx);
    reply_problem_extra(ctx, err, detail, j_extra);
}

void tx_refused_reply(req_ctx *ctx, write_tx *tx, app_err err, app_refusal *why, const char *detail)
{
    release(ctx, tx);
    reply_refusal(ctx, err, why, detail);
    app_refusal_clear(why);
}

void tx_abort(req_ctx *ctx, write_tx *tx) { release(ctx, tx); }
