/* h_settings.c — GET, PATCH /v1/settings: the organisation's one settings document (every threshold of the
 * conflicts engine, the priority weights, the rules that may be forced, the time zone). Not a descriptor's
 * default: a singleton without an id, written from SPEC's defaults on its first change. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "respond.h"
#include "settings.h"
#include "settings_store.h"
#include "tx.h"

static const char *const no_params[] = {NULL};

void h_settings_get(req_ctx *ctx)
{
    char etag[24];
    db_doc doc = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, PERM_SETTINGS_READ) || !query_known_or_reply(ctx, no_params)) return;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = settings_store_get(conn, ctx->claims.org, &doc);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); return; }
    etag_format(doc.version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, doc.json);
    db_doc_free(&doc);
}

void h_settings_patch(req_ctx *ctx)
{
    json_t *j_body = NULL, *j_current = NULL;
    char *text = NULL, etag[24];
    db_doc lock = {0}, doc = {0};
    app_refusal why = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_SETTINGS_WRITE) || !query_known_or_reply(ctx, no_params)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (settings_validate(j_body, VALIDATE_PATCH, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    app_err e = settings_store_lock(tx.conn, ctx->claims.org, &lock);
    if (!e && !(j_current = json_loads(lock.json, 0, NULL))) e = APP_ERR_INTERNAL;
    if (e) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
    etag_format(lock.version, etag);
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    if (if_match && !etag_matches(if_match, etag)) {
        tx_fail_reply(ctx, &tx, APP_ERR_PRECONDITION_FAILED,
                      "the settings have changed since you read them; GET them again", NULL);
        goto out;
    }
    if (settings_validate(j_body, VALIDATE_PATCH, j_current, &v)) {
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    e = settings_store_update(tx.conn, ctx->claims.org, text, &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    app_refusal_clear(&why);
    db_doc_free(&lock);
    db_doc_free(&doc);
    json_decref(j_current);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}
