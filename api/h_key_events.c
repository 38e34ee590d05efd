/* h_key_events.c — /v1/key-events: the industry events, holidays, sales
 * periods and blackouts that give the shared calendar its context. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calendar_store.h"
#include "handlers.h"
#include "respond.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/key-events/<id> */

void h_key_event_list(req_ctx *ctx)
{
    static const char *const allowed[] = {"limit", "cursor", "sort", "kind[]", "from", "to", "q", NULL};
    list_params lp;
    list_result res = {0};
    db_conn *conn = NULL;
    char *kinds = NULL;
    if (!require_perm_or_reply(ctx, PERM_CALENDAR_READ) || !query_known_or_reply(ctx, allowed)) return;
    if (!list_params_or_reply(ctx, key_event_sort_names, &lp)) return;
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to"), *q = query_get(&ctx->q, "q");
    if (!enum_list_or_reply(ctx, "kind", key_event_kinds, &kinds) || !window_params_or_reply(ctx, from, to)) goto out;
    if (q && (utf8_length(q) > 200 || !valid_text_chars(q, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        goto out;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = key_event_store_list(conn, ctx->claims.org, kinds, from, to, q, lp.sort, lp.desc, lp.cursor_key,
                                     lp.cursor_id, lp.limit, &res);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    reply_list(ctx, res.items, res.n, key_event_sort_names[lp.sort], lp.desc, res.next_key, res.next_id);
out:
    free(kinds);
    list_result_free(&res);
    list_params_free(&lp);
}

void h_key_event_create(req_ctx *ctx)
{
    json_t *j_body = NULL;
    char *json = NULL, *text = NULL, id[37], location[64];
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_KEY_EVENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (key_event_validate(j_body, VALIDATE_CREATE, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    app_refusal why = {0};
    app_err e = key_event_store_insert(tx.conn, ctx->claims.org, text, &json, id, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    snprintf(location, sizeof location, "/v1/key-events/%s", id);
    tx_commit_reply(ctx, &tx, 201, location, json);
    if (ctx->status == 201) reply_header(ctx, "ETag", "\"1\"");
out:
    free(json);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

void h_key_event_get(req_ctx *ctx)
{
    char id[37], etag[24], *json = NULL;
    db_conn *conn = NULL;
    int version = 0;
    if (!require_perm_or_reply(ctx, PERM_CALENDAR_READ) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = key_event_store_get(conn, ctx->claims.org, id, &json, &version);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no key event with this id" : NULL); return; }
    etag_format(version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, json);
    free(json);
}

/* Opens the transaction, locks the event and checks If-Match; 0 after replying.
 * *j_current (the stored event) is set only on success. */
static int open_key_event_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body, const char *id, json_t **j_current)
{
    char *text = NULL;
    if (!tx_begin_or_reply(ctx, tx, j_body)) return 0;
    app_err e = key_event_store_lock(tx->conn, ctx->claims.org, id, &text);
    if (!e && !(*j_current = json_loads(text, 0, NULL))) e = APP_ERR_INTERNAL;
    free(text);
    if (e) {
        tx_fail_reply(ctx, tx, e, e == APP_ERR_NOT_FOUND ? "no key event with this id" : NULL, NULL);
        return 0;
    }
    char etag[24];
    etag_format((int)json_integer_value(json_object_get(*j_current, "version")), etag);
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    if (if_match && !etag_matches(if_match, etag)) {
        tx_fail_reply(ctx, tx, APP_ERR_PRECONDITION_FAILED, "the key event has changed since you read it; GET it again",
                      NULL);
        json_decref(*j_current);
        *j_current = NULL;
        return 0;
    }
    return 1;
}

void h_key_event_patch(req_ctx *ctx)
{
    char id[37], etag[24], *json = NULL, *text = NULL;
    json_t *j_body = NULL, *j_current = NULL, *j_after = NULL;
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_KEY_EVENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (key_event_validate(j_body, VALIDATE_PATCH, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!open_key_event_or_reply(ctx, &tx, j_body, id, &j_current)) goto out;
    if (key_event_validate(j_body, VALIDATE_PATCH, j_current, &v)) {
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    app_refusal why = {0};
    app_err e = key_event_store_update(tx.conn, ctx->claims.org, id, text, &json, &why);
    if (!e && !(j_after = json_loads(json, 0, NULL))) e = APP_ERR_INTERNAL;
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    etag_format((int)json_integer_value(json_object_get(j_after, "version")), etag);
    tx_commit_reply(ctx, &tx, 200, NULL, json);
    if (ctx->status == 200) reply_header(ctx, "ETag", etag);
out:
    free(json);
    free(text);
    json_decref(j_body);
    json_decref(j_current);
    json_decref(j_after);
    verrs_free(&v);
}

void h_key_event_delete(req_ctx *ctx)
{
    char id[37];
    json_t *j_current = NULL;
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_KEY_EVENT_WRITE) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        return;
    if (!open_key_event_or_reply(ctx, &tx, NULL, id, &j_current)) return;
    app_refusal why = {0};
    app_err e = key_event_store_delete(tx.conn, ctx->claims.org, id, &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why, NULL);
    else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
    json_decref(j_current);
}
