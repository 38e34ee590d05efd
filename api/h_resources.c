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

/* Resources and their availability periods (locked through the resource). */
static const crud_desc resource_crud = {
    .name = "resource",
    .id_segment = ID_SEGMENT,
    .read = PERM_RESOURCE_READ,
    .write = PERM_RESOURCE_WRITE,
    .write_own = PERM__COUNT,
    .get = resource_store_get,
    .lock = resource_store_lock,
};

static void location_of(const char *id, char out[64]) { snprintf(out, 64, "/v1/resources/%s", id); }

/* A refused resource write; a capacity the live bookings no longer fit names them. */
static void write_failed(req_ctx *ctx, write_tx *tx, app_err e, app_refusal *why, const char *resource_id)
{
    if (e == APP_ERR_BOOKING_CONFLICT)
        reply_booking_conflict(ctx, tx, why, resource_id, NULL, NULL, NULL, NULL,
                               "the new capacity is below what live bookings already hold");
    else
        tx_refused_reply(ctx, tx, e, why, NULL);
}

void h_resource_create(req_ctx *ctx)
{
    json_t *j_body = NULL;
    db_doc doc = {0};
    char *text = NULL, id[37], location[64];
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_RESOURCE_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (resource_validate(j_body, VALIDATE_CREATE, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    app_refusal why = {0};
    app_err e = resource_store_insert(tx.conn, ctx->claims.org, text, &doc, id, &why);
    if (e) { write_failed(ctx, &tx, e, &why, NULL); goto out; }
    location_of(id, location);
    tx_commit_doc(ctx, &tx, 201, location, &doc);
out:
    db_doc_free(&doc);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

void h_resource_get(req_ctx *ctx) { crud_get(ctx, &resource_crud); }

void h_resource_list(req_ctx *ctx)
{
    static const char *const allowed[] = {"limit", "cursor", "sort", "kind", "active", "q", "skill", NULL};
    list_params lp;
    list_result res = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, PERM_RESOURCE_READ) || !query_known_or_reply(ctx, allowed)) return;
    if (!list_params_or_reply(ctx, resource_sort_names, &lp)) return;
    resource_filter f = {query_get(&ctx->q, "kind"), query_get(&ctx->q, "active"), query_get(&ctx->q, "q"),
                         query_get(&ctx->q, "skill")};
    if (f.kind && enum_index(resource_kinds, f.kind) < 0) {
        reply_bad_param(ctx, "kind", "must be one of channel, person, slot, budget_pool");
        goto out;
    }
    if (f.active && strcmp(f.active, "true") != 0 && strcmp(f.active, "false") != 0) {
        reply_bad_param(ctx, "active", "must be true or false");
        goto out;
    }
    if ((f.q && (utf8_length(f.q) > 200 || !valid_text_chars(f.q, 0))) ||
        (f.skill && (utf8_length(f.skill) > 50 || !valid_text_chars(f.skill, 0)))) {
        reply_bad_param(ctx, f.q && (utf8_length(f.q) > 200 || !valid_text_chars(f.q, 0)) ? "q" : "skill",
                        "must be short text without control characters");
        goto out;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = resource_store_list(conn, ctx->claims.org, &f, lp.sort, lp.desc, lp.cursor_key, lp.cursor_id,
                                    lp.limit, &res);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    reply_list(ctx, res.items, res.n, resource_sort_names[lp.sort], lp.desc, res.next_key, res.next_id);
out:
    list_result_free(&res);
    list_params_free(&lp);
}

void h_resource_patch(req_ctx *ctx)
{
    char id[37], *text = NULL;
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_RESOURCE_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (resource_validate(j_body, VALIDATE_PATCH, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!crud_open_or_reply(ctx, &resource_crud, &tx, j_body, id, &lk)) goto out;
    if (resource_validate(j_body, VALIDATE_PATCH, lk.j_current, &v)) {
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    app_refusal why = {0};
    app_err e = resource_store_update(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e) { write_failed(ctx, &tx, e, &why, id); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    db_doc_free(&doc);
    free(text);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}

/* A resource that was ever booked keeps its history: it is deactivated (200
 * with the resource), not deleted (204). */
void h_resource_delete(req_ctx *ctx)
{
    char id[37];
    crud_lock lk;
    db_doc doc = {0};
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_RESOURCE_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    if (!crud_open_or_reply(ctx, &resource_crud, &tx, NULL, id, &lk)) return;
    app_refusal why = {0};
    app_err e = resource_store_remove(tx.conn, ctx->claims.org, id, &doc, &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why, NULL);
    else tx_commit_doc(ctx, &tx, doc.json ? 200 : 204, NULL, &doc);
    db_doc_free(&doc);
    crud_lock_free(&lk);
}

void h_availability_list(req_ctx *ctx)
{
    static const char *const allowed[] = {"limit", "cursor", "sort", "from", "to", NULL};
    char id[37];
    db_doc doc = {0};
    list_params lp;
    list_result res = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, PERM_RESOURCE_READ) || !query_known_or_reply(ctx, allowed) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    if (!list_params_or_reply(ctx, availability_sort_names, &lp)) return;
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to");
    if (!window_params_or_reply(ctx, from, to)) goto out;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = resource_store_get(conn, ctx->claims.org, id, &doc);
    if (!e) e = availability_store_list(conn, ctx->claims.org, id, from, to, lp.sort, lp.desc, lp.cursor_key,
                                        lp.cursor_id, lp.limit, &res);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no resource with this id" : NULL); goto out; }
    reply_list(ctx, res.items, res.n, availability_sort_names[lp.sort], lp.desc, res.next_key, res.next_id);
out:
    db_doc_free(&doc);
    list_result_free(&res);
    list_params_free(&lp);
}

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
