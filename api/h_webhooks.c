/* h_webhooks.c — webhook subscriptions (admin): /v1/webhooks and
 * /v1/webhooks/{id} through the shared pipeline (crud.c), with the URL's
 * SSRF check before any connection is taken; and the handlers that are not a
 * descriptor's default: rotate-secret (a write that answers the new secret),
 * the delivery log (a list under the subscription) and a delivery's manual
 * retry. Delivery itself is the worker's (service/webhook_worker.c). */
#include <stdlib.h>
#include <string.h>

#include "crud.h"
#include "handlers.h"
#include "respond.h"
#include "webhook.h"
#include "webhook_store.h"
#include "webhook_url.h"

#define ID_SEGMENT 2       /* /v1/webhooks/<id> */
#define DELIVERY_SEGMENT 4 /* /v1/webhooks/<id>/deliveries/<delivery id>/retry */
#define SECRET_OVERLAP_S 86400 /* after a rotation the secret before it signs for another 24 hours */

/* The URL's SSRF rules (webhook_url.h): resolved now, before the transaction. */
static int url_or_reply(req_ctx *ctx, json_t *j_body)
{
    const char *url = json_string_value(json_object_get(j_body, "url"));
    if (!url) return 1;
    webhook_url_policy policy = {ctx->app->cfg->webhook.allow_http, ctx->app->cfg->webhook.allow_private};
    const char *why = webhook_url_check(url, &policy);
    if (!why) return 1;
    verrs v;
    verrs_init(&v);
    verrs_add(&v, "url", "%s", why);
    reply_validation(ctx, &v);
    verrs_free(&v);
    return 0;
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *active = query_get(&ctx->q, "active");
    if (active && strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
        reply_bad_param(ctx, "active", "must be true or false");
        return 0;
    }
    f->v[0] = active;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    return webhook_store_list(conn, org, f->v[0], lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit,
                              out);
}

static const crud_desc webhook_crud = {
    .name = "webhook",
    .id_segment = ID_SEGMENT,
    .read = PERM_WEBHOOK_ADMIN,
    .create = PERM_WEBHOOK_ADMIN,
    .write = PERM_WEBHOOK_ADMIN,
    .collection = "/v1/webhooks",
    .get = webhook_store_get,
    .get_stmt = &webhook_store_get_stmt,
    .lock = webhook_store_lock,
    .validate = webhook_validate,
    .precheck_or_reply = url_or_reply,
    .insert = webhook_store_insert,
    .update = webhook_store_update,
    .remove = webhook_store_remove,
    .query_params = (const char *const[]){"active", NULL},
    .sorts = webhook_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_webhook_list(req_ctx *ctx) { crud_list(ctx, &webhook_crud); }
void h_webhook_create(req_ctx *ctx) { crud_create(ctx, &webhook_crud); }
void h_webhook_get(req_ctx *ctx) { crud_get(ctx, &webhook_crud); }
void h_webhook_patch(req_ctx *ctx) { crud_patch(ctx, &webhook_crud); }
void h_webhook_delete(req_ctx *ctx) { crud_delete(ctx, &webhook_crud); }

/* Not a descriptor's default: a write with no body whose answer carries the new secret. If-Match honoured. */
void h_webhook_rotate(req_ctx *ctx)
{
    static const char *const no_params[] = {NULL};
    char id[37];
    crud_lock lk = {0};
    db_doc doc = {0};
    write_tx tx;
    if (!require_perm_or_reply(ctx, webhook_crud.write) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id) || !crud_open_or_reply(ctx, &webhook_crud, &tx, NULL, id, &lk))
        return;
    app_err e = webhook_store_rotate(tx.conn, ctx->claims.org, id, SECRET_OVERLAP_S, &doc);
    if (e) tx_fail_reply(ctx, &tx, e, NULL, NULL);
    else tx_commit_doc(ctx, &tx, 200, NULL, &doc);
    db_doc_free(&doc);
    crud_lock_free(&lk);
}

/* The delivery log: the subscription from the path, which must exist (an empty page would hide a wrong id). */
static int delivery_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    char *id = malloc(37);
    if (!id) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); return 0; }
    f->owned[0] = id;
    if (!path_uuid_or_reply(ctx, ID_SEGMENT, id)) return 0;
    f->v[0] = id;
    if (!enum_list_or_reply(ctx, "status", webhook_delivery_statuses, &f->owned[1])) return 0;
    f->v[1] = f->owned[1];
    return 1;
}

static app_err delivery_list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp,
                             list_result *out)
{
    db_doc doc = {0};
    app_err e = webhook_store_get(conn, org, f->v[0], &doc);
    db_doc_free(&doc);
    return e ? e : webhook_store_delivery_list(conn, org, f->v[0], f->v[1], lp->sort, lp->desc, lp->cursor_key,
                                               lp->cursor_id, lp->limit, out);
}

static const crud_desc delivery_crud = {
    .name = "webhook",
    .read = PERM_WEBHOOK_ADMIN,
    .query_params = (const char *const[]){"status[]", NULL},
    .sorts = webhook_delivery_sort_names,
    .filters_or_reply = delivery_filters_or_reply,
    .list = delivery_list,
};

void h_webhook_delivery_list(req_ctx *ctx) { crud_list(ctx, &delivery_crud); }

/* Not a descriptor's default: an action on a delivery under its subscription's lock (which must be active). 202:
 * the attempt is the worker's, soon. */
void h_webhook_delivery_retry(req_ctx *ctx)
{
    static const char *const no_params[] = {NULL};
    char id[37], delivery_id[37];
    crud_lock lk = {0};
    db_doc doc = {0};
    write_tx tx;
    if (!require_perm_or_reply(ctx, webhook_crud.write) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id) || !path_uuid_or_reply(ctx, DELIVERY_SEGMENT, delivery_id) ||
        !crud_open_or_reply(ctx, &webhook_crud, &tx, NULL, id, &lk))
        return;
    if (!json_is_true(json_object_get(lk.j_current, "active"))) {
        tx_fail_reply(ctx, &tx, APP_ERR_INVALID_STATE,
                      "the webhook is disabled: set active to true first (its held deliveries then resume)", NULL);
        goto out;
    }
    app_err e = webhook_store_delivery_retry(tx.conn, ctx->claims.org, id, delivery_id, &doc);
    if (e == APP_ERR_NOT_FOUND) tx_fail_reply(ctx, &tx, e, "no delivery with this id for this webhook", NULL);
    else if (e == APP_ERR_INVALID_STATE)
        tx_fail_reply(ctx, &tx, e, "an attempt of this delivery is in flight; retry it when that attempt ends", NULL);
    else if (e) tx_fail_reply(ctx, &tx, e, NULL, NULL);
    else tx_commit_reply(ctx, &tx, 202, NULL, doc.json);
out:
    db_doc_free(&doc);
    crud_lock_free(&lk);
}
