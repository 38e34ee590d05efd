/* h_key_events.c — /v1/key-events: the industry events, holidays, sales
 * periods and blackouts that give the shared calendar its context; all
 * through the shared pipeline (crud.c). */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calendar_store.h"
#include "crud.h"
#include "handlers.h"

static app_err insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                      char id_out[37], app_refusal *why)
{
    (void)actor;
    return key_event_store_insert(conn, org, body_json, doc, id_out, why);
}

static app_err remove_row(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    memset(doc, 0, sizeof *doc);
    return key_event_store_delete(conn, org, id, why);
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to"), *q = query_get(&ctx->q, "q");
    if (!enum_list_or_reply(ctx, "kind", key_event_kinds, &f->owned[0]) || !window_params_or_reply(ctx, from, to))
        return 0;
    if (q && (utf8_length(q) > 200 || !valid_text_chars(q, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        return 0;
    }
    f->v[0] = f->owned[0];
    f->v[1] = from;
    f->v[2] = to;
    f->v[3] = q;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    return key_event_store_list(conn, org, f->v[0], f->v[1], f->v[2], f->v[3], lp->sort, lp->desc, lp->cursor_key,
                                lp->cursor_id, lp->limit, out);
}

static const crud_desc key_event_crud = {
    .name = "key event",
    .id_segment = 2, /* /v1/key-events/<id> */
    .read = PERM_CALENDAR_READ,
    .create = PERM_KEY_EVENT_WRITE,
    .write = PERM_KEY_EVENT_WRITE,
    .collection = "/v1/key-events",
    .get = key_event_store_get,
    .get_stmt = &key_event_store_get_stmt,
    .lock = key_event_store_lock,
    .validate = key_event_validate,
    .insert = insert,
    .update = key_event_store_update,
    .remove = remove_row,
    .query_params = (const char *const[]){"kind[]", "from", "to", "q", NULL},
    .sorts = key_event_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_key_event_list(req_ctx *ctx) { crud_list(ctx, &key_event_crud); }
void h_key_event_create(req_ctx *ctx) { crud_create(ctx, &key_event_crud); }
void h_key_event_get(req_ctx *ctx) { crud_get(ctx, &key_event_crud); }
void h_key_event_patch(req_ctx *ctx) { crud_patch(ctx, &key_event_crud); }
void h_key_event_delete(req_ctx *ctx) { crud_delete(ctx, &key_event_crud); }
