/* h_segments.c — /v1/segments: list, create, get, patch, delete, all through
 * the shared pipeline (crud.c). The tree's rules (same organisation, no
 * cycles) and the references that keep a segment are in the schema. */
#include <stdlib.h>
#include <string.h>

#include "crud.h"
#include "handlers.h"
#include "segment.h"
#include "segment_store.h"

static size_t validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    (void)j_current; /* a segment's fields do not depend on each other */
    return segment_validate(j_body, mode, v);
}

static app_err insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                      char id_out[37], app_refusal *why)
{
    (void)actor;
    return segment_store_insert(conn, org, body_json, doc, id_out, why);
}

static app_err remove_row(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    memset(doc, 0, sizeof *doc);
    return segment_store_delete(conn, org, id, why);
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *parent = query_get(&ctx->q, "parent_id"), *q = query_get(&ctx->q, "q");
    if (parent && !valid_uuid(parent)) { reply_bad_param(ctx, "parent_id", "must be a UUID"); return 0; }
    if (q && (utf8_length(q) > 200 || !valid_text_chars(q, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        return 0;
    }
    f->v[0] = parent;
    f->v[1] = q;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    return segment_store_list(conn, org, f->v[0], f->v[1], lp->sort, lp->desc, lp->cursor_key, lp->cursor_id,
                              lp->limit, out);
}

static const crud_desc segment_crud = {
    .name = "segment",
    .id_segment = 2, /* /v1/segments/<id> */
    .read = PERM_SEGMENT_READ,
    .create = PERM_SEGMENT_WRITE,
    .write = PERM_SEGMENT_WRITE,
    .collection = "/v1/segments",
    .get = segment_store_get,
    .get_stmt = &segment_store_get_stmt,
    .lock = segment_store_lock,
    .validate = validate,
    .insert = insert,
    .update = segment_store_update,
    .remove = remove_row,
    .query_params = (const char *const[]){"parent_id", "q", NULL},
    .sorts = segment_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_segment_list(req_ctx *ctx) { crud_list(ctx, &segment_crud); }
void h_segment_create(req_ctx *ctx) { crud_create(ctx, &segment_crud); }
void h_segment_get(req_ctx *ctx) { crud_get(ctx, &segment_crud); }
void h_segment_patch(req_ctx *ctx) { crud_patch(ctx, &segment_crud); }
void h_segment_delete(req_ctx *ctx) { crud_delete(ctx, &segment_crud); }

/* Not a descriptor's default: a segment's declared overlaps are a set replaced as a whole (PUT), under the
 * segment's version as their ETag. */
void h_segment_overlaps_get(req_ctx *ctx)
{
    static const char *const no_params[] = {NULL};
    char id[37], etag[24];
    db_doc doc = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, PERM_SEGMENT_READ) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, 2, id))
        return;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = segment_store_overlaps(conn, ctx->claims.org, id, &doc);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no segment with this id" : NULL); return; }
    etag_format(doc.version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, doc.json);
    db_doc_free(&doc);
}

void h_segment_overlaps_put(req_ctx *ctx)
{
    static const char *const no_params[] = {NULL};
    char id[37], *text = NULL;
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    app_refusal why = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!crud_may_write_or_reply(ctx, &segment_crud) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, 2, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (segment_validate_overlaps(j_body, id, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!crud_open_or_reply(ctx, &segment_crud, &tx, j_body, id, &lk)) goto out;
    app_err e = segment_store_put_overlaps(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    app_refusal_clear(&why);
    db_doc_free(&doc);
    crud_lock_free(&lk);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}
