/* crud.c — see crud.h. */
#define _GNU_SOURCE
#include "crud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "respond.h"

static const char *const no_params[] = {NULL};

static void reply_missing(req_ctx *ctx, const crud_desc *d, app_err e)
{
    char detail[96];
    snprintf(detail, sizeof detail, "no %s with this id", d->name);
    reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? detail : NULL);
}

void crud_get(req_ctx *ctx, const crud_desc *d)
{
    char id[37], etag[24];
    db_doc doc = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, d->read) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, d->id_segment, id))
        return;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = d->get(conn, ctx->claims.org, id, &doc);
    db_release(ctx->app->pool, conn);
    if (e) { reply_missing(ctx, d, e); return; }
    etag_format(doc.version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, doc.json);
    db_doc_free(&doc);
}

int crud_may_write_or_reply(req_ctx *ctx, const crud_desc *d)
{
    if (d->write_own != PERM__COUNT && auth_role_can(ctx->claims.role, d->write_own)) return 1;
    return require_perm_or_reply(ctx, d->write);
}

void crud_lock_free(crud_lock *lk)
{
    db_doc_free(&lk->doc);
    json_decref(lk->j_current);
    lk->j_current = NULL;
}

int crud_open_or_reply(req_ctx *ctx, const crud_desc *d, write_tx *tx, json_t *j_body, const char *id,
                           crud_lock *lk)
{
    memset(lk, 0, sizeof *lk);
    if (!tx_begin_or_reply(ctx, tx, j_body)) return 0;
    app_err e = d->lock(tx->conn, ctx->claims.org, id, &lk->doc);
    if (!e && !(lk->j_current = json_loads(lk->doc.json, 0, NULL))) e = APP_ERR_INTERNAL;
    char detail[128];
    if (e) {
        snprintf(detail, sizeof detail, "no %s with this id", d->name);
        tx_fail_reply(ctx, tx, e, e == APP_ERR_NOT_FOUND ? detail : NULL, NULL);
        goto refused;
    }
    if (!auth_role_can(ctx->claims.role, d->write) && strcmp(lk->doc.owner, ctx->claims.sub) != 0) {
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN, d->not_owner, NULL);
        goto refused;
    }
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    char etag[24];
    etag_format(lk->doc.version, etag);
    if (if_match && !etag_matches(if_match, etag)) {
        snprintf(detail, sizeof detail, "the %s has changed since you read it; GET it again", d->name);
        tx_fail_reply(ctx, tx, APP_ERR_PRECONDITION_FAILED, detail, NULL);
        goto refused;
    }
    return 1;
refused:
    crud_lock_free(lk);
    return 0;
}
