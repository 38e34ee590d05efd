/* h_resources.c — /v1/resources (list, create, get, patch, delete) and
 * /v1/resources/{id}/availability (list, create, delete). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crud.h"
#include "handlers.h"
#include "resource.h"
#include "resource_store.h"
#include "respond.h"
#include "tx.h"

#define ID_SEGMENT 2       /* /v1/resources/<id> */
#define AVAIL_ID_SEGMENT 4 /* /v1/resources/<id>/availability/<availability_id> */

/* A refused resource write; a capacity the live bookings no longer fit names them. */
static void write_refused(req_ctx *ctx, write_tx *tx, app_err e, app_refusal *why, const char *resource_id)
{
    if (e == APP_ERR_BOOKING_CONFLICT)
        reply_booking_conflict(ctx, tx, why, resource_id, NULL, NULL, NULL, NULL,
                               "the new capacity is below what live bookings already hold");
    else
        tx_refused_reply(ctx, tx, e, why, NULL);
}

static app_err insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                      char id_out[37], app_refusal *why)
{
    (void)actor;
    return resource_store_insert(conn, org, body_json, doc, id_out, why);
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *kind = query_get(&ctx->q, "kind"), *active = query_get(&ctx->q, "active");
    const char *q = query_get(&ctx->q, "q"), *skill = query_get(&ctx->q, "skill");
    if (kind && enum_index(resource_kinds, kind) < 0) {
        reply_bad_param(ctx, "kind", "must be one of channel, person, slot, budget_pool");
        return 0;
    }
    if (active && strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
        reply_bad_param(ctx, "active", "must be true or false");
        return 0;
    }
    int bad_q = q && (utf8_length(q) > 200 || !valid_text_chars(q, 0));
    if (bad_q || (skill && (utf8_length(skill) > 50 || !valid_text_chars(skill, 0)))) {
        reply_bad_param(ctx, bad_q ? "q" : "skill", "must be short text without control characters");
        return 0;
    }
    f->v[0] = kind;
    f->v[1] = active;
    f->v[2] = q;
    f->v[3] = skill;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    resource_filter rf = {f->v[0], f->v[1], f->v[2], f->v[3]};
    return resource_store_list(conn, org, &rf, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

/* Resources; their availability periods are written under the resource's lock. */
static const crud_desc resource_crud = {
    .name = "resource",
    .id_segment = ID_SEGMENT,
    .read = PERM_RESOURCE_READ,
    .create = PERM_RESOURCE_WRITE,
    .write = PERM_RESOURCE_WRITE,
    .collection = "/v1/resources",
    .get = resource_store_get,
    .get_stmt = &resource_store_get_stmt,
    .lock = resource_store_lock,
    .validate = resource_validate,
    .insert = insert,
    .update = resource_store_update,
    .remove = resource_store_remove, /* a resource that was ever booked is deactivated (200), not deleted */
    .refused = write_refused,
    .query_params = (const char *const[]){"kind", "active", "q", "skill", NULL},
    .sorts = resource_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void h_resource_list(req_ctx *ctx) { crud_list(ctx, &resource_crud); }
void h_resource_create(req_ctx *ctx) { crud_create(ctx, &resource_crud); }
void h_resource_get(req_ctx *ctx) { crud_get(ctx, &resource_crud); }
void h_resource_patch(req_ctx *ctx) { crud_patch(ctx, &resource_crud); }
void h_resource_delete(req_ctx *ctx) { crud_delete(ctx, &resource_crud); }

/* --- availability: a sub-collection of one resource (no versions of its own) --- */

static int availability_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to");
    if (!window_params_or_reply(ctx, from, to)) return 0;
    char *rid = malloc(37);
    if (!rid) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); return 0; }
    f->owned[0] = rid;
    if (!path_uuid_or_reply(ctx, ID_SEGMENT, rid)) return 0;
    f->v[0] = rid;
    f->v[1] = from;
    f->v[2] = to;
    return 1;
}

/* The resource must exist in the organisation: an empty page would hide a wrong id. */
static app_err availability_list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp,
                                 list_result *out)
{
    db_doc doc = {0};
    app_err e = resource_store_get(conn, org, f->v[0], &doc);
    db_doc_free(&doc);
    if (!e) e = availability_store_list(conn, org, f->v[0], f->v[1], f->v[2], lp->sort, lp->desc, lp->cursor_key,
                                        lp->cursor_id, lp->limit, out);
    return e;
}

static const crud_desc availability_crud = {
    .name = "resource",
    .read = PERM_RESOURCE_READ,
    .write = PERM_RESOURCE_WRITE,
    .query_params = (const char *const[]){"from", "to", NULL},
    .sorts = availability_sort_names,
    .filters_or_reply = availability_filters_or_reply,
    .list = availability_list,
};

void h_availability_list(req_ctx *ctx) { crud_list(ctx, &availability_crud); }

/* Not crud_create: a period is written under its resource's lock, and the bookings in its way are named. */
void h_availability_create(req_ctx *ctx)
{
    json_t *j_body = NULL;
    crud_lock lk = {0};
    char *json = NULL, *text = NULL, id[37], avail_id[37], location[128];
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_RESOURCE_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (availability_validate(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!crud_open_or_reply(ctx, &resource_crud, &tx, j_body, id, &lk)) goto out;
    app_refusal why = {0};
    app_err e = availability_store_insert(tx.conn, ctx->claims.org, id, ctx->claims.sub, text, &json, avail_id, &why);
    if (e == APP_ERR_BOOKING_CONFLICT) {
        reply_booking_conflict(ctx, &tx, &why, id, json_string_value(json_object_get(j_body, "start")),
                               json_string_value(json_object_get(j_body, "end")), NULL,
                               lk.doc.kind, NULL);
        goto out;
    }
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    snprintf(location, sizeof location, "/v1/resources/%s/availability/%s", id, avail_id);
    tx_commit_reply(ctx, &tx, 201, location, json);
out:
    free(json);
    free(text);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}

/* Under the resource's lock, like every availability write. */
void h_availability_delete(req_ctx *ctx)
{
    char id[37], avail_id[37];
    crud_lock lk;
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_RESOURCE_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id) || !path_uuid_or_reply(ctx, AVAIL_ID_SEGMENT, avail_id))
        return;
    if (!crud_open_or_reply(ctx, &resource_crud, &tx, NULL, id, &lk)) return;
    app_refusal why = {0};
    app_err e = availability_store_delete(tx.conn, ctx->claims.org, id, avail_id, &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why,
                            e == APP_ERR_NOT_FOUND ? "no such availability period on this resource" : NULL);
    else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
    crud_lock_free(&lk);
}
