/* crud.c — see crud.h. */
#define _GNU_SOURCE
#include "crud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "respond.h"

static const char *const no_params[] = {NULL};

static void reply_missing(req_ctx *ctx, const crud_desc *d, app_err e)
{
    char detail[96];
    snprintf(detail, sizeof detail, "no %s with this id", d->name);
    reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? detail : NULL);
}

/* crud_get's reply once its document is read (doc is the caller's to free). */
static void get_done(req_ctx *ctx, const void *arg, app_err e, db_doc *doc)
{
    const crud_desc *d = arg;
    char etag[24];
    if (e) { reply_missing(ctx, d, e); return; }
    etag_format(doc->version, etag);
    reply_header(ctx, "ETag", etag);
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) reply_empty(ctx, 304);
    else reply_json_text(ctx, 200, doc->json);
}

void crud_get(req_ctx *ctx, const crud_desc *d)
{
    char id[37];
    db_doc doc = {0};
    db_conn *conn = NULL;
    if (!require_perm_or_reply(ctx, d->read) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, d->id_segment, id))
        return;
    if (d->get_stmt) { /* read with the thread's other reads in one round trip */
        reply_after_read(ctx, d->get_stmt, id, get_done, d);
        return;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = d->get(conn, ctx->claims.org, id, &doc);
    db_release(ctx->app->pool, conn);
    get_done(ctx, d, e, &doc);
    db_doc_free(&doc);
}

int crud_may_write_or_reply(req_ctx *ctx, const crud_desc *d)
{
    if (auth_role_can(ctx->claims.role, d->write_own)) return 1;
    return require_perm_or_reply(ctx, d->write);
}

void crud_lock_free(crud_lock *lk)
{
    db_doc_free(&lk->doc);
    json_decref(lk->j_current);
    lk->j_current = NULL;
}

/* crud_open_or_reply; an annotating caller (see crud_desc.annotate) is not checked for ownership. */
static int open_locked_or_reply(req_ctx *ctx, const crud_desc *d, write_tx *tx, json_t *j_body, const char *id,
                                crud_lock *lk, int annotating)
{
    memset(lk, 0, sizeof *lk);
    if (!tx_begin_or_reply(ctx, tx, j_body)) return 0;
    app_err e = d->lock(tx->conn, ctx->claims.org, id, &lk->doc);
    if (!e && !(lk->j_current = json_loads(lk->doc.json, 0, NULL))) e = APP_ERR_INTERNAL;
    char detail[128];
    if (e) {
        snprintf(detail, sizeof detail, "no %s with this id", d->name);
        tx_fail_reply(ctx, tx, e, e == APP_ERR_NOT_FOUND ? detail : NULL, NULL);
        goto refused;
    }
    if (!annotating && !auth_role_can(ctx->claims.role, d->write) && strcmp(lk->doc.owner, ctx->claims.sub) != 0) {
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN, d->not_owner, NULL);
        goto refused;
    }
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    char etag[24];
    etag_format(lk->doc.version, etag);
    if (if_match && !etag_matches(if_match, etag)) {
        snprintf(detail, sizeof detail, "the %s has changed since you read it; GET it again", d->name);
        tx_fail_reply(ctx, tx, APP_ERR_PRECONDITION_FAILED, detail, NULL);
        goto refused;
    }
    return 1;
refused:
    crud_lock_free(lk);
    return 0;
}

int crud_open_or_reply(req_ctx *ctx, const crud_desc *d, write_tx *tx, json_t *j_body, const char *id,
                           crud_lock *lk)
{
    return open_locked_or_reply(ctx, d, tx, j_body, id, lk, 0);
}

/* Locks the parent of a row being created (the transaction open) and checks
 * the caller may write under it; 0 after replying, the transaction closed. */
static int parent_locked_or_reply(req_ctx *ctx, const crud_desc *d, write_tx *tx, const char *parent_id)
{
    db_doc parent = {0};
    app_err e = d->parent_lock(tx->conn, ctx->claims.org, parent_id, &parent);
    char detail[96];
    if (e) {
        snprintf(detail, sizeof detail, "no %s with this id", d->parent_name);
        tx_fail_reply(ctx, tx, e, e == APP_ERR_NOT_FOUND ? detail : NULL, NULL);
    } else if (!auth_role_can(ctx->claims.role, d->write) && strcmp(parent.owner, ctx->claims.sub) != 0) {
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN, d->not_owner, NULL);
        e = APP_ERR_FORBIDDEN;
    }
    db_doc_free(&parent);
    return e == APP_OK;
}

/* The refusal of a write: the descriptor's own reply, or the error table's. */
static void refused(req_ctx *ctx, const crud_desc *d, write_tx *tx, app_err e, app_refusal *why, const char *id)
{
    if (d->refused) d->refused(ctx, tx, e, why, id);
    else tx_refused_reply(ctx, tx, e, why, NULL);
}

/* doc->json with "warnings": j_warnings added; 0 out of memory (doc unchanged). */
static int doc_with_warnings(db_doc *doc, json_t *j_warnings)
{
    json_t *j = json_loads(doc->json, 0, NULL);
    char *text = j && json_object_set(j, "warnings", j_warnings) == 0 ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return 0;
    free(doc->json);
    doc->json = text;
    return 1;
}

void crud_create(req_ctx *ctx, const crud_desc *d)
{
    json_t *j_body = NULL, *j_warnings = NULL;
    char *text = NULL, id[37], parent_id[37], location[128];
    db_doc doc = {0};
    app_refusal why = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!require_perm_or_reply(ctx, d->create) || !query_known_or_reply(ctx, no_params)) goto out;
    if (d->parent_lock && !path_uuid_or_reply(ctx, d->parent_id_segment, parent_id)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (d->validate(j_body, VALIDATE_CREATE, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (d->precheck_or_reply && !d->precheck_or_reply(ctx, j_body)) goto out;
    /* The parent's id comes from the path (the validator refuses it in a body). */
    if ((d->parent_lock && json_object_set_new(j_body, d->parent_field, json_string(parent_id)) != 0) ||
        !(text = json_dumps(j_body, JSON_COMPACT))) {
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
        goto out;
    }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    if (d->parent_lock && !parent_locked_or_reply(ctx, d, &tx, parent_id)) goto out;
    if (d->refs_or_reply && !d->refs_or_reply(ctx, &tx, j_body)) goto out;
    if (d->judge_or_reply && !d->judge_or_reply(ctx, &tx, j_body, &j_warnings)) goto out;
    app_err e = d->insert(tx.conn, ctx->claims.org, ctx->claims.sub, text, &doc, id, &why);
    if (e) { refused(ctx, d, &tx, e, &why, NULL); goto out; }
    if (json_array_size(j_warnings) && !doc_with_warnings(&doc, j_warnings)) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    snprintf(location, sizeof location, "%s/%s", d->collection, id);
    tx_commit_doc(ctx, &tx, 201, location, &doc);
out:
    json_decref(j_warnings);
    app_refusal_clear(&why);
    db_doc_free(&doc);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

/* The checks every write to one row starts with: role, no query, the id. */
static int row_write_or_reply(req_ctx *ctx, const crud_desc *d, char id[37])
{
    return crud_may_write_or_reply(ctx, d) && query_known_or_reply(ctx, no_params) &&
           path_uuid_or_reply(ctx, d->id_segment, id);
}

/* Whether the caller may PATCH rows of d only as an annotator (*annotating
 * set); 0 after replying 403 when the role may not PATCH at all. */
static int patch_role_or_reply(req_ctx *ctx, const crud_desc *d, int *annotating)
{
    auth_role role = ctx->claims.role;
    *annotating = !auth_role_can(role, d->write) && !auth_role_can(role, d->write_own) &&
                  auth_role_can(role, d->annotate);
    return *annotating || crud_may_write_or_reply(ctx, d);
}

/* An annotator's body names only annotate_fields; 0 after replying 403. */
static int annotation_only_or_reply(req_ctx *ctx, const crud_desc *d, json_t *j_body)
{
    const char *key;
    json_t *j_value;
    json_object_foreach(j_body, key, j_value) {
        if (enum_index(d->annotate_fields, key) >= 0) continue;
        char detail[160];
        snprintf(detail, sizeof detail, "the %s role may change only %s%s of a %s",
                 auth_role_name(ctx->claims.role), d->annotate_fields[0], d->annotate_fields[1] ? " and the like" : "",
                 d->name);
        reply_problem(ctx, APP_ERR_FORBIDDEN, detail);
        return 0;
    }
    return 1;
}

void crud_patch(req_ctx *ctx, const crud_desc *d)
{
    char id[37], *text = NULL;
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    app_refusal why = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    int annotating;
    if (!patch_role_or_reply(ctx, d, &annotating) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, d->id_segment, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (annotating && !annotation_only_or_reply(ctx, d, j_body)) goto out;
    /* Field shapes first: no connection is taken for a malformed patch. */
    if (d->validate(j_body, VALIDATE_PATCH, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    if (d->precheck_or_reply && !d->precheck_or_reply(ctx, j_body)) goto out;
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!open_locked_or_reply(ctx, d, &tx, j_body, id, &lk, annotating)) goto out;
    if (d->validate(j_body, VALIDATE_PATCH, lk.j_current, &v)) {
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    if (d->refs_or_reply && !d->refs_or_reply(ctx, &tx, j_body)) goto out;
    app_err e = d->update(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e) { refused(ctx, d, &tx, e, &why, id); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    app_refusal_clear(&why);
    db_doc_free(&doc);
    crud_lock_free(&lk);
    free(text);
    json_decref(j_body);
    verrs_free(&v);
}

void crud_delete(req_ctx *ctx, const crud_desc *d)
{
    char id[37];
    crud_lock lk = {0};
    db_doc doc = {0};
    app_refusal why = {0};
    write_tx tx;

    if (!row_write_or_reply(ctx, d, id) || !crud_open_or_reply(ctx, d, &tx, NULL, id, &lk)) return;
    app_err e = d->remove(tx.conn, ctx->claims.org, id, &doc, &why);
    if (e) refused(ctx, d, &tx, e, &why, id);
    else tx_commit_doc(ctx, &tx, doc.json ? 200 : 204, NULL, &doc);
    app_refusal_clear(&why);
    db_doc_free(&doc);
    crud_lock_free(&lk);
}

void crud_list(req_ctx *ctx, const crud_desc *d)
{
    const char *allowed[CRUD_MAX_FILTERS + 4] = {"limit", "cursor", "sort"};
    for (int i = 0; d->query_params[i] && i < CRUD_MAX_FILTERS; i++) allowed[3 + i] = d->query_params[i];
    list_params lp;
    list_result res = {0};
    crud_filter f = {0};
    db_conn *conn = NULL;

    if (!require_perm_or_reply(ctx, d->read) || !query_known_or_reply(ctx, allowed)) return;
    if (!list_params_or_reply(ctx, d->sorts, &lp)) return;
    if (!d->filters_or_reply(ctx, &f)) goto out;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = d->list(conn, ctx->claims.org, &f, &lp, &res);
    db_release(ctx->app->pool, conn);
    if (e) { reply_missing(ctx, d, e); goto out; } /* a sub-collection's parent may be missing */
    reply_list(ctx, res.items, res.n, d->sorts[lp.sort], lp.desc, res.next_key, res.next_id);
out:
    for (size_t i = 0; i < sizeof f.owned / sizeof f.owned[0]; i++) free(f.owned[i]);
    list_result_free(&res);
    list_params_free(&lp);
}
