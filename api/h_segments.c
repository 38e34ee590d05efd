/* h_segments.c — /v1/segments: list, create, get, patch, delete. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "respond.h"
#include "segment.h"
#include "segment_store.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/segments/<id> */

void h_segment_create(req_ctx *ctx)
{
    json_t *j_body = NULL;
    char *json = NULL, *text = NULL, id[37], location[64];
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL})) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (segment_validate(j_body, VALIDATE_CREATE, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    app_refusal why = {0};
    app_err e = segment_store_insert(tx.conn, ctx->claims.org, text, &json, id, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    snprintf(location, sizeof location, "/v1/segments/%s", id);
    tx_commit_reply(ctx, &tx, 201, location, json);
    if (ctx->status == 201) reply_header(ctx, "ETag", "\"1\"");
out:
    free(json);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

void h_segment_get(req_ctx *ctx)
{
    char id[37], etag[24], *json = NULL;
    db_conn *conn = NULL;
    int version = 0;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_READ) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = segment_store_get(conn, ctx->claims.org, id, &json, &version);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no segment with this id" : NULL); return; }
    etag_format(version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, json);
    free(json);
}

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

/* Opens the transaction, locks the segment and checks If-Match; 0 after replying. */
static int open_segment_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body, const char *id)
{
    int version = 0;
    if (!tx_begin_or_reply(ctx, tx, j_body)) return 0;
    app_err e = segment_store_lock(tx->conn, ctx->claims.org, id, &version);
    if (e) {
        tx_fail_reply(ctx, tx, e, e == APP_ERR_NOT_FOUND ? "no segment with this id" : NULL, NULL);
        return 0;
    }
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    char etag[24];
    etag_format(version, etag);
    if (if_match && !etag_matches(if_match, etag)) {
        tx_fail_reply(ctx, tx, APP_ERR_PRECONDITION_FAILED, "the segment has changed since you read it; GET it again",
                      NULL);
        return 0;
    }
    return 1;
}

void h_segment_patch(req_ctx *ctx)
{
    char id[37], *json = NULL, *text = NULL;
    json_t *j_body = NULL, *j_after = NULL;
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (segment_validate(j_body, VALIDATE_PATCH, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!open_segment_or_reply(ctx, &tx, j_body, id)) goto out;
    app_refusal why = {0};
    app_err e = segment_store_update(tx.conn, ctx->claims.org, id, text, &json, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    j_after = json_loads(json, 0, NULL);
    char etag[24];
    etag_format((int)json_integer_value(json_object_get(j_after, "version")), etag);
    tx_commit_reply(ctx, &tx, 200, NULL, json);
    if (ctx->status == 200) reply_header(ctx, "ETag", etag);
out:
    free(json);
    free(text);
    json_decref(j_body);
    json_decref(j_after);
    verrs_free(&v);
}

void h_segment_delete(req_ctx *ctx)
{
    char id[37];
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    if (!open_segment_or_reply(ctx, &tx, NULL, id)) return;
    app_refusal why = {0};
    app_err e = segment_store_delete(tx.conn, ctx->claims.org, id, &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why, NULL);
    else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
}
