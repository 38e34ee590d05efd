/* h_audit.c — GET /v1/audit: the organisation's audit trail (admins and
 * managers), one entry per changed row with its before and after documents,
 * filtered, in cursor pages (a list descriptor: crud.c). */
#include <string.h>

#include "audit_store.h"
#include "crud.h"
#include "handlers.h"
#include "respond.h"

/* A text filter of at most max characters without control characters; 0 after replying 400. */
static int text_param_or_reply(req_ctx *ctx, const char *name, size_t max, const char **out)
{
    const char *v = query_get(&ctx->q, name);
    if (v && (!*v || strlen(v) > max || !valid_text_chars(v, 0))) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be 1 to %zu characters without control characters", max);
        reply_bad_param(ctx, name, msg);
        return 0;
    }
    *out = v;
    return 1;
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *entity_id = query_get(&ctx->q, "entity_id");
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to");
    if (entity_id && !valid_uuid(entity_id)) { reply_bad_param(ctx, "entity_id", "must be a UUID"); return 0; }
    if (!text_param_or_reply(ctx, "entity", 64, &f->v[0]) || !text_param_or_reply(ctx, "actor", 255, &f->v[2]) ||
        !text_param_or_reply(ctx, "request_id", 128, &f->v[6]) ||
        !enum_list_or_reply(ctx, "action", audit_actions, &f->owned[0]) || !window_params_or_reply(ctx, from, to))
        return 0;
    f->v[1] = entity_id;
    f->v[3] = f->owned[0];
    f->v[4] = from;
    f->v[5] = to;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    audit_filter af = {f->v[0], f->v[1], f->v[2], f->v[3], f->v[4], f->v[5], f->v[6]};
    return audit_store_list(conn, org, &af, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

static const crud_desc audit_crud = {
    .name = "audit entry",
    .read = PERM_AUDIT_READ,
    .query_params = (const char *const[]){"entity", "entity_id", "actor", "action[]", "from", "to", "request_id",
                                          NULL},
    .sorts = audit_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_audit_list(req_ctx *ctx) { crud_list(ctx, &audit_crud); }
