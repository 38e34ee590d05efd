/* h_workflows.c — /v1/workflows: the approval workflow templates admins keep,
 * all through the shared pipeline (crud.c). A template that requests used is
 * archived rather than deleted (workflow_store_remove); requests keep the
 * steps they copied, so a change applies to later submissions only. */
#include <string.h>

#include "approval.h"
#include "approval_store.h"
#include "crud.h"
#include "handlers.h"

static size_t validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    (void)j_current; /* a template's fields do not depend on its stored ones */
    return workflow_validate(j_body, mode, v);
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *active = query_get(&ctx->q, "active"), *q = query_get(&ctx->q, "q");
    if (active && strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
        reply_bad_param(ctx, "active", "must be true or false");
        return 0;
    }
    if (q && (utf8_length(q) > 200 || !valid_text_chars(q, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        return 0;
    }
    f->v[0] = active;
    f->v[1] = q;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    return workflow_store_list(conn, org, f->v[0], f->v[1], lp->sort, lp->desc, lp->cursor_key, lp->cursor_id,
                               lp->limit, out);
}

static const crud_desc workflow_crud = {
    .name = "workflow",
    .id_segment = 2, /* /v1/workflows/<id> */
    .read = PERM_WORKFLOW_READ,
    .create = PERM_WORKFLOW_WRITE,
    .write = PERM_WORKFLOW_WRITE,
    .collection = "/v1/workflows",
    .get = workflow_store_get,
    .get_stmt = &workflow_store_get_stmt,
    .lock = workflow_store_lock,
    .validate = validate,
    .insert = workflow_store_insert,
    .update = workflow_store_update,
    .remove = workflow_store_remove,
    .query_params = (const char *const[]){"active", "q", NULL},
    .sorts = workflow_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_workflow_list(req_ctx *ctx) { crud_list(ctx, &workflow_crud); }
void h_workflow_create(req_ctx *ctx) { crud_create(ctx, &workflow_crud); }
void h_workflow_get(req_ctx *ctx) { crud_get(ctx, &workflow_crud); }
void h_workflow_patch(req_ctx *ctx) { crud_patch(ctx, &workflow_crud); }
void h_workflow_delete(req_ctx *ctx) { crud_delete(ctx, &workflow_crud); }
