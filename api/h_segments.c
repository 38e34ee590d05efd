/* h_segments.c — /v1/segments: list, create, get, patch, delete. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crud.h"
#include "handlers.h"
#include "respond.h"
#include "segment.h"
#include "segment_store.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/segments/<id> */

static const crud_desc segment_crud = {
    .name = "segment",
    .id_segment = ID_SEGMENT,
    .read = PERM_SEGMENT_READ,
    .write = PERM_SEGMENT_WRITE,
    .write_own = PERM__COUNT,
    .get = segment_store_get,
    .lock = segment_store_lock,
};

void h_segment_create(req_ctx *ctx)
{
    json_t *j_body = NULL;
    db_doc doc = {0};
    char *text = NULL, id[37], location[64];
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL})) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (segment_validate(j_body, VALIDATE_CREATE, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    app_refusal why = {0};
    app_err e = segment_store_insert(tx.conn, ctx->claims.org, text, &doc, id, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    snprintf(location, sizeof location, "/v1/segments/%s", id);
    tx_commit_doc(ctx, &tx, 201, location, &doc);
out:
    db_doc_free(&doc);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

void h_segment_get(req_ctx *ctx) { crud_get(ctx, &segment_crud); }

void h_segment_list(req_ctx *ctx)
{
    static const char *const allowed[] = {"limit", "cursor", "sort", "parent_id", "q", NULL};
    list_params lp;
    list_result res = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_READ) || !query_known_or_reply(ctx, allowed)) return;
    if (!list_params_or_reply(ctx, segment_sort_names, &lp)) return;
    const char *parent = query_get(&ctx->q, "parent_id"), *q = query_get(&ctx->q, "q");
    if (parent && !valid_uuid(parent)) { reply_bad_param(ctx, "parent_id", "must be a UUID"); goto out; }
    if (q && (utf8_length(q) > 200 || !valid_text_chars(q, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        goto out;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = segment_store_list(conn, ctx->claims.org, parent, q, lp.sort, lp.desc, lp.cursor_key, lp.cursor_id,
                                   lp.limit, &res);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    reply_list(ctx, res.items, res.n, segment_sort_names[lp.sort], lp.desc, res.next_key, res.next_id);
out:
    list_result_free(&res);
    list_params_free(&lp);
}

void h_segment_patch(req_ctx *ctx)
{
    char id[37], *text = NULL;
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (segment_validate(j_body, VALIDATE_PATCH, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!crud_open_or_reply(ctx, &segment_crud, &tx, j_body, id, &lk)) goto out;
    app_refusal why = {0};
    app_err e = segment_store_update(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    db_doc_free(&doc);
    free(text);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}

void h_segment_delete(req_ctx *ctx)
{
    char id[37];
    crud_lock lk;
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    if (!crud_open_or_reply(ctx, &segment_crud, &tx, NULL, id, &lk)) return;
    app_refusal why = {0};
    app_err e = segment_store_delete(tx.conn, ctx->claims.org, id, &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why, NULL);
    else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
    crud_lock_free(&lk);
}
