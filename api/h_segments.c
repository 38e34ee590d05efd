/* h_segments.c — /v1/segments: list, create, get, patch, delete, all through
 * the shared pipeline (crud.c). The tree's rules (same organisation, no
 * cycles) and the references that keep a segment are in the schema. */
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
