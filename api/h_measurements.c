/* h_measurements.c — the KPI catalogue and measured results:
 * GET /v1/kpis, POST /v1/measurements/batch, GET /v1/measurements,
 * DELETE /v1/measurements/{id}. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "alert_store.h"
#include "crud.h"
#include "handlers.h"
#include "dashboard_store.h"
#include "kpi.h"
#include "measurement.h"
#include "measurement_store.h"
#include "respond.h"
#include "tx.h"

static const char *const no_params[] = {NULL};

void h_kpi_catalogue(req_ctx *ctx)
{
    if (!require_perm_or_reply(ctx, PERM_KPI_READ) || !query_known_or_reply(ctx, no_params)) return;
    json_t *j = kpi_catalogue_json();
    if (!j) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); return; }
    reply_json(ctx, 200, j);
    json_decref(j);
}

/* Merges the rows' own errors (b) with the store's outcomes (j_stored, by
 * ord) into results[] and a summary; lines (may be NULL) are the CSV lines
 * of the rows. Returns the response body (new reference) and *failed. */
static json_t *batch_outcome(const measurement_batch *b, json_t *j_stored, const int *lines, size_t *failed)
{
    size_t counts[4] = {0}; /* created, updated, unchanged, failed */
    static const char *const names[] = {"created", "updated", "unchanged", "failed"};
    json_t *j_results = json_array();
    size_t k = 0;
    for (size_t i = 0; j_results && i < b->n; i++) {
        json_t *j_errs = json_array_get(b->j_errors, i), *j_r = NULL;
        if (!json_is_null(j_errs)) {
            j_r = json_pack("{s:I, s:s, s:O}", "index", (json_int_t)i, "status", "failed", "errors", j_errs);
            counts[3]++;
        } else {
            json_t *j_s = json_array_get(j_stored, k++);
            const char *status = json_string_value(json_object_get(j_s, "status"));
            int which = status ? 0 : 3;
            while (which < 3 && strcmp(names[which], status) != 0) which++;
            counts[which]++;
            if (which == 3)
                j_r = json_pack("{s:I, s:s, s:[{s:O, s:O}]}", "index", (json_int_t)i, "status", "failed", "errors",
                                "field", json_object_get(j_s, "field"), "message", json_object_get(j_s, "message"));
            else
                j_r = json_pack("{s:I, s:s, s:O}", "index", (json_int_t)i, "status", names[which], "id",
                                json_object_get(j_s, "id"));
        }
        if (j_r && lines && json_object_set_new(j_r, "line", json_integer(lines[i])) != 0) {
            json_decref(j_r);
            j_r = NULL;
        }
        if (!j_r || json_array_append_new(j_results, j_r) != 0) {
            json_decref(j_results);
            j_results = NULL;
        }
    }
    *failed = counts[3];
    if (!j_results) return NULL;
    return json_pack("{s:{s:I, s:I, s:I, s:I}, s:o}", "summary", "created", (json_int_t)counts[0], "updated",
                     (json_int_t)counts[1], "unchanged", (json_int_t)counts[2], "failed", (json_int_t)counts[3],
                     "results", j_results);
}

/* The field errors of every failed row as one errors[] (rows[i].field, or
 * line N column for CSV), for the 422 of a batch where no row was good. */
static json_t *all_errors(json_t *j_results, const int *lines)
{
    json_t *j_all = json_array();
    size_t i, e;
    json_t *j_r, *j_err;
    json_array_foreach(j_results, i, j_r) {
        json_array_foreach(json_object_get(j_r, "errors"), e, j_err) {
            const char *f = json_string_value(json_object_get(j_err, "field"));
            char *field = NULL;
            if (lines ? asprintf(&field, "line %d%s%s", lines[i], f && *f ? ": " : "", f ? f : "") < 0
                      : asprintf(&field, "rows[%zu]%s%s", i, f && *f ? "." : "", f ? f : "") < 0)
                field = NULL;
            json_t *j_one = field ? json_pack("{s:s, s:O}", "field", field, "message", json_object_get(j_err, "message"))
                                  : NULL;
            free(field);
            if (!j_one || json_array_append_new(j_all, j_one) != 0) {
                json_decref(j_all);
                return NULL;
            }
        }
    }
    return j_all;
}

/* The KPI alerts (service/alert.c) of the campaigns whose measurements the batch created or changed, in its
 * transaction: three reads in one round trip and one write, whatever the batch's size; nothing for a batch
 * that changed nothing. j_stored[k] is the outcome of b->j_valid[k]. */
static app_err alerts_after_batch(db_conn *conn, const char *org, const measurement_batch *b, json_t *j_stored,
                                  app_refusal *why)
{
    json_t *j_seen = json_object(), *j_ids = json_array(), *j_changes = NULL, *j_s;
    dash_campaign *camps = NULL;
    char *ids = NULL, *changes = NULL;
    size_t n = 0, k;
    app_err e = APP_ERR_INTERNAL;
    if (!j_seen || !j_ids) goto out;
    json_array_foreach(j_stored, k, j_s) {
        const char *status = json_string_value(json_object_get(j_s, "status"));
        const char *id = json_string_value(json_object_get(json_array_get(b->j_valid, k), "campaign_id"));
        if (!status || !id || (strcmp(status, "created") != 0 && strcmp(status, "updated") != 0) ||
            json_object_get(j_seen, id))
            continue;
        if (json_object_set_new(j_seen, id, json_true()) != 0 || json_array_append_new(j_ids, json_string(id)) != 0)
            goto out;
    }
    if (!json_array_size(j_ids)) { e = APP_OK; goto out; }
    if (!(ids = json_dumps(j_ids, JSON_COMPACT))) goto out;
    if ((e = dash_store_alert_inputs(conn, org, ids, &camps, &n))) goto out;
    e = APP_ERR_INTERNAL;
    if (!(j_changes = alert_judge(camps, n))) goto out;
    if (!json_array_size(j_changes)) { e = APP_OK; goto out; }
    if (!(changes = json_dumps(j_changes, JSON_COMPACT))) goto out;
    e = alert_store_record(conn, org, changes, why);
out:
    for (size_t i = 0; i < n; i++) dash_campaign_free(&camps[i]);
    free(camps);
    free(ids);
    free(changes);
    json_decref(j_changes);
    json_decref(j_ids);
    json_decref(j_seen);
    return e;
}

void measurement_ingest(req_ctx *ctx, json_t *j_request, json_t *j_rows, const int *lines)
{
    measurement_batch b = {0};
    json_t *j_stored = NULL, *j_out = NULL;
    char *rows_text = NULL, *stored_text = NULL, *out_text = NULL;
    write_tx tx = {0};

    if (measurement_batch_check(j_rows, lines != NULL, &b) != 0) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_request)) goto out;
    if (json_array_size(b.j_valid)) {
        const char *owner = auth_role_can(ctx->claims.role, PERM_MEASUREMENT_WRITE_ANY) ? NULL : ctx->claims.sub;
        app_refusal why = {0};
        if (!(rows_text = json_dumps(b.j_valid, JSON_COMPACT))) {
            tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
            goto out;
        }
        app_err e = measurement_store_upsert(tx.conn, ctx->claims.org, owner, rows_text, &stored_text, &why);
        if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
        if (!(j_stored = json_loads(stored_text, 0, NULL))) {
            tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, NULL, NULL);
            goto out;
        }
        if ((e = alerts_after_batch(tx.conn, ctx->claims.org, &b, j_stored, &why))) {
            tx_refused_reply(ctx, &tx, e, &why, NULL);
            goto out;
        }
    }
    size_t failed = 0;
    if (!(j_out = batch_outcome(&b, j_stored, lines, &failed))) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    if (failed == b.n) {
        /* Nothing stored: a problem a script can stop on, with every row's errors. */
        json_t *j_errors = all_errors(json_object_get(j_out, "results"), lines);
        if (!j_errors || json_object_set_new(j_out, "errors", j_errors) != 0) {
            tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
            goto out;
        }
        tx_fail_reply(ctx, &tx, APP_ERR_VALIDATION, "no row was stored: every row has errors", j_out);
        j_out = NULL;
        goto out;
    }
    if (!(out_text = json_dumps(j_out, JSON_COMPACT))) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    tx_commit_reply(ctx, &tx, 200, NULL, out_text);
out:
    measurement_batch_free(&b);
    json_decref(j_stored);
    json_decref(j_out);
    free(rows_text);
    free(stored_text);
    free(out_text);
}

int measurement_may_ingest_or_reply(req_ctx *ctx)
{
    if (auth_role_can(ctx->claims.role, PERM_MEASUREMENT_WRITE_OWN)) return 1;
    return require_perm_or_reply(ctx, PERM_MEASUREMENT_WRITE_ANY);
}

void h_measurement_batch(req_ctx *ctx)
{
    json_t *j_body = NULL;
    verrs v;
    verrs_init(&v);

    if (!measurement_may_ingest_or_reply(ctx) || !query_known_or_reply(ctx, no_params)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    json_t *j_rows = json_object_get(j_body, "rows");
    const char *key;
    json_t *j_val;
    json_object_foreach(j_body, key, j_val)
        if (strcmp(key, "rows") != 0) verrs_add(&v, key, "is not a known field");
    if (!j_rows) verrs_add(&v, "rows", "is required");
    else if (!json_is_array(j_rows) || json_array_size(j_rows) < 1 || json_array_size(j_rows) > MEASUREMENT_BATCH_MAX)
        verrs_add(&v, "rows", "must be an array of 1 to %d rows", MEASUREMENT_BATCH_MAX);
    if (verrs_count(&v)) { reply_validation(ctx, &v); goto out; }
    measurement_ingest(ctx, j_body, j_rows, NULL);
out:
    json_decref(j_body);
    verrs_free(&v);
}

/* Lists and deletes go through the shared pipeline (crud.c); a batch is not a
 * descriptor's create: many rows, each with its own outcome. */
int measurement_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const query *q = &ctx->q;
    const char *camp = query_get(q, "campaign_id"), *channel = query_get(q, "channel"),
               *source = query_get(q, "source"), *from = query_get(q, "from"), *to = query_get(q, "to");
    if (camp && !valid_uuid(camp)) { reply_bad_param(ctx, "campaign_id", "must be a UUID"); return 0; }
    if (channel && (strlen(channel) > 50 || !valid_text_chars(channel, 0))) {
        reply_bad_param(ctx, "channel", "must be at most 50 characters without control characters");
        return 0;
    }
    if (source && (utf8_length(source) > 100 || !valid_text_chars(source, 0))) {
        reply_bad_param(ctx, "source", "must be at most 100 characters without control characters");
        return 0;
    }
    if (from && !valid_date(from)) { reply_bad_param(ctx, "from", "must be a calendar date YYYY-MM-DD"); return 0; }
    if (to && !valid_date(to)) { reply_bad_param(ctx, "to", "must be a calendar date YYYY-MM-DD"); return 0; }
    if (from && to && strcmp(from, to) > 0) { reply_bad_param(ctx, "to", "must not be before from"); return 0; }
    f->v[0] = camp;
    f->v[1] = channel;
    f->v[2] = source;
    f->v[3] = from;
    f->v[4] = to;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    measurement_filter mf = {f->v[0], f->v[1], f->v[2], f->v[3], f->v[4]};
    return measurement_store_list(conn, org, &mf, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

static app_err remove_row(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    memset(doc, 0, sizeof *doc);
    return measurement_store_delete(conn, org, id, why);
}

static const crud_desc measurement_crud = {
    .name = "measurement",
    .id_segment = 2, /* /v1/measurements/<id> */
    .read = PERM_MEASUREMENT_READ,
    .write = PERM_MEASUREMENT_DELETE, /* rows are written by batches; a row's one write is its delete */
    .collection = "/v1/measurements",
    .get = measurement_store_get,
    .get_stmt = &measurement_store_get_stmt,
    .lock = measurement_store_lock,
    .remove = remove_row,
    .query_params = (const char *const[]){"campaign_id", "channel", "source", "from", "to", NULL},
    .sorts = measurement_sort_names,
    .filters_or_reply = measurement_filters_or_reply,
    .list = list,
};

void h_measurement_list(req_ctx *ctx) { crud_list(ctx, &measurement_crud); }
void h_measurement_delete(req_ctx *ctx) { crud_delete(ctx, &measurement_crud); }
