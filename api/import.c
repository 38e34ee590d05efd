/* import.c — see import.h. */
#define _GNU_SOURCE
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_rows.h"
#include "respond.h"
#include "tx.h"

static int is_csv_type(const char *ct)
{
    if (!ct) return 0;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    return n == 8 && strncasecmp(ct, "text/csv", 8) == 0;
}

/* A row's field as text ("" when empty). */
static const char *field_text(json_t *j_row, const char *column, char num[32])
{
    json_t *j_v = json_object_get(j_row, column);
    if (json_is_integer(j_v)) {
        snprintf(num, 32, "%lld", (long long)json_integer_value(j_v));
        return num;
    }
    return json_is_string(j_v) ? json_string_value(j_v) : "";
}

/* Whether the stored document, written as the export writes it, has the row's every field. -1 out of memory. */
static int same_as_stored(const import_desc *d, json_t *j_row, json_t *j_doc, const char **differs)
{
    for (int i = 0; d->columns[i].header; i++) {
        char num[32], *stored = export_field(j_doc, &d->columns[i]);
        if (!stored) return -1;
        int same = strcmp(stored, field_text(j_row, d->columns[i].header, num)) == 0;
        free(stored);
        if (!same) {
            *differs = d->columns[i].header;
            return 0;
        }
    }
    return 1;
}

/* The row's field errors, each naming its column too: the one the field is (budget.amount is budget_amount) or
 * sits in (segment_ids[2] is in segment_ids). A new reference. */
static json_t *row_errors(const import_desc *d, verrs *v)
{
    json_t *j_list = verrs_take(v), *j_e;
    size_t i;
    json_array_foreach(j_list, i, j_e) {
        const char *field = json_string_value(json_object_get(j_e, "field"));
        char flat[128];
        snprintf(flat, sizeof flat, "%s", field ? field : "");
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 0) for (char *c = flat; *c; c++) *c = *c == '.' ? '_' : *c;
            else {
                snprintf(flat, sizeof flat, "%s", field ? field : "");
                flat[strcspn(flat, ".[")] = '\0';
            }
            int k = 0;
            while (d->columns[k].header && strcmp(d->columns[k].header, flat) != 0) k++;
            if (d->columns[k].header) {
                json_object_set_new(j_e, "column", json_string(flat));
                break;
            }
        }
    }
    return j_list;
}

/* The outcome of one row: {index, line, status[, id][, errors][, code, detail[, rule]]}. */
static json_t *outcome(size_t index, int line, const char *status)
{
    return json_pack("{s:I, s:i, s:s}", "index", (json_int_t)index, "line", line, "status", status);
}

static const char *const savepoint = "SAVEPOINT import_row";
static const char *const rollback_row = "ROLLBACK TO SAVEPOINT import_row";
static const char *const release_row = "RELEASE SAVEPOINT import_row";

/* Outcome of row i (a create or an unchanged row); *fatal set for an error that ends the whole import (the
 * database is gone, a bug): then NULL is returned and the transaction must be failed with *fatal. */
static json_t *import_row(req_ctx *ctx, const import_desc *d, write_tx *tx, json_t *j_row, size_t i, int line,
                          app_err *fatal)
{
    json_t *j_out = NULL, *j_body = NULL;
    db_doc doc = {0};
    verrs v;
    verrs_init(&v);
    *fatal = APP_OK;
    json_t *j_count = json_object_get(j_row, "");
    if (j_count) {
        j_out = outcome(i, line, "failed");
        json_object_set_new(j_out, "errors", json_pack("[{s:s, s:s+}]", "field", "", "message",
                                                       json_string_value(j_count), ", not one per column"));
        goto out;
    }
    const char *id = json_string_value(json_object_get(j_row, "id"));
    if (id && valid_uuid(id)) {
        app_err e = d->get(tx->conn, ctx->claims.org, id, &doc);
        if (e && e != APP_ERR_NOT_FOUND) { *fatal = e; goto out; }
        if (!e) {
            json_t *j_doc = json_loads(doc.json, 0, NULL);
            const char *differs = NULL;
            int same = j_doc ? same_as_stored(d, j_row, j_doc, &differs) : -1;
            json_decref(j_doc);
            if (same < 0) { *fatal = APP_ERR_INTERNAL; goto out; }
            if (same) {
                j_out = outcome(i, line, "unchanged");
                json_object_set_new(j_out, "id", json_string(id));
            } else {
                char detail[200];
                snprintf(detail, sizeof detail, "this %s exists with another %s: change it with PATCH %s/%s", d->name,
                         differs, d->patch_path, id);
                j_out = outcome(i, line, "failed");
                json_object_set_new(j_out, "id", json_string(id));
                json_object_set_new(j_out, "code", json_string(app_err_lookup(APP_ERR_CONFLICT)->code));
                json_object_set_new(j_out, "detail", json_string(detail));
            }
            goto out;
        }
    }
    if (!(j_body = d->body(j_row, &v))) { *fatal = APP_ERR_INTERNAL; goto out; }
    if (verrs_count(&v)) {
        j_out = outcome(i, line, "failed");
        json_object_set_new(j_out, "errors", row_errors(d, &v));
        goto out;
    }
    app_err e = db_exec_script(tx->conn, savepoint);
    if (e) { *fatal = e; goto out; }
    char new_id[37] = "", detail[300] = "";
    const char *rule = NULL;
    e = d->create(ctx, tx->conn, j_body, new_id, &v, detail, sizeof detail, &rule);
    if (e == APP_ERR_UNAVAILABLE || e == APP_ERR_TIMEOUT || e == APP_ERR_INTERNAL) { *fatal = e; goto out; }
    app_err e2 = db_exec_script(tx->conn, e ? rollback_row : release_row);
    if (e2) { *fatal = e2; goto out; }
    if (!e) {
        j_out = outcome(i, line, "created");
        json_object_set_new(j_out, "id", json_string(new_id));
    } else {
        j_out = outcome(i, line, "failed");
        if (verrs_count(&v)) json_object_set_new(j_out, "errors", row_errors(d, &v));
        if (e != APP_ERR_VALIDATION || !json_object_get(j_out, "errors")) {
            json_object_set_new(j_out, "code", json_string(app_err_lookup(e)->code));
            json_object_set_new(j_out, "detail", json_string(detail[0] ? detail : app_err_lookup(e)->title));
            if (rule) json_object_set_new(j_out, "rule", json_string(rule));
        }
    }
out:
    if (!*fatal && !j_out) *fatal = APP_ERR_INTERNAL;
    if (*fatal) {
        json_decref(j_out);
        j_out = NULL;
    }
    db_doc_free(&doc);
    json_decref(j_body);
    verrs_free(&v);
    return j_out;
}

json_t *import_body(json_t *j_row, const char *const *text_columns, const char *const *json_columns, verrs *v)
{
    json_t *j_body = json_object();
    if (!j_body) return NULL;
    for (int i = 0; text_columns && text_columns[i]; i++) {
        json_t *j_v = json_object_get(j_row, text_columns[i]);
        if (j_v && json_object_set(j_body, text_columns[i], j_v) != 0) goto oom;
    }
    for (int i = 0; json_columns && json_columns[i]; i++) {
        const char *text = json_string_value(json_object_get(j_row, json_columns[i]));
        if (!text) continue;
        json_t *j_v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
        if (!j_v) {
            verrs_add(v, json_columns[i], "is not JSON (write it as the export does, e.g. [\"email\"])");
            continue;
        }
        if (json_object_set_new(j_body, json_columns[i], j_v) != 0) goto oom;
    }
    return j_body;
oom:
    json_decref(j_body);
    return NULL;
}

/* Every failed row's errors as a problem's errors[]: "line N: <field>" and the message, or the row's refusal. */
static json_t *all_errors(json_t *j_results)
{
    json_t *j_all = json_array(), *j_r, *j_err;
    size_t i, k;
    json_array_foreach(j_results, i, j_r) {
        long long line = json_integer_value(json_object_get(j_r, "line"));
        char field[160];
        json_array_foreach(json_object_get(j_r, "errors"), k, j_err) {
            snprintf(field, sizeof field, "line %lld: %s", line, json_string_value(json_object_get(j_err, "field")));
            if (!j_all || json_array_append_new(j_all, json_pack("{s:s, s:O}", "field", field, "message",
                                                                   json_object_get(j_err, "message"))) != 0)
                goto oom;
        }
        const char *detail = json_string_value(json_object_get(j_r, "detail"));
        if (detail) {
            snprintf(field, sizeof field, "line %lld", line);
            if (!j_all || json_array_append_new(j_all, json_pack("{s:s, s:s}", "field", field, "message", detail)) != 0)
                goto oom;
        }
    }
    return j_all;
oom:
    json_decref(j_all);
    return NULL;
}

bool csv_body_read_or_reply(req_ctx *ctx, const char *const *columns, const char *const *required,
                            const char *const *integer_columns, size_t max_rows, csv_rows *rows)
{
    const struct _u_request *req = ctx->req;
    size_t limit = config_body_limit(ctx->app->cfg, req->url_path);
    if (req->binary_body_length > limit) {
        char detail[96];
        snprintf(detail, sizeof detail, "the body must be at most %zu bytes", limit);
        reply_problem(ctx, APP_ERR_PAYLOAD_TOO_LARGE, detail);
        return false;
    }
    if (!is_csv_type(u_map_get_case(req->map_header, "Content-Type"))) {
        reply_problem(ctx, APP_ERR_UNSUPPORTED_MEDIA_TYPE, "send Content-Type: text/csv (UTF-8)");
        return false;
    }
    int rc = csv_rows_read(req->binary_body ? req->binary_body : "", req->binary_body_length, columns, required,
                           integer_columns, max_rows, rows);
    if (rc < 0) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        return false;
    }
    if (rc > 0) {
        char detail[300];
        if (rows->error_column)
            snprintf(detail, sizeof detail, "line %d, column %d: %s", rows->error_line, rows->error_column,
                     rows->error);
        else
            snprintf(detail, sizeof detail, "line %d: %s", rows->error_line, rows->error);
        json_t *j_extra = json_pack("{s:i, s:i}", "line", rows->error_line, "column", rows->error_column);
        reply_problem_extra(ctx, APP_ERR_MALFORMED_CSV, detail, j_extra);
        return false;
    }
    return true;
}

void import_csv(req_ctx *ctx, const import_desc *d)
{
    const struct _u_request *req = ctx->req;
    const char *headers[64];
    csv_rows rows = {0};
    json_t *j_request = NULL, *j_results = NULL;
    char *text = NULL;
    size_t counts[3] = {0}; /* created, unchanged, failed */
    write_tx tx;

    size_t ncol = 0;
    for (; d->columns[ncol].header && ncol < 63; ncol++) headers[ncol] = d->columns[ncol].header;
    headers[ncol] = NULL;
    if (!query_known_or_reply(ctx, (const char *[]){NULL})) return;
    if (!csv_body_read_or_reply(ctx, headers, d->required, d->integer_columns, IMPORT_MAX_ROWS, &rows)) goto out;
    /* The Idempotency-Key fingerprint sees the file as text (valid UTF-8 once read). */
    if (!(j_request = json_stringn(req->binary_body, req->binary_body_length)) || !(j_results = json_array())) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!tx_begin_or_reply(ctx, &tx, j_request)) goto out;
    for (size_t i = 0; i < rows.n; i++) {
        app_err fatal;
        json_t *j_out = import_row(ctx, d, &tx, json_array_get(rows.j_rows, i), i, rows.lines[i], &fatal);
        if (!j_out) { tx_fail_reply(ctx, &tx, fatal, NULL, NULL); goto out; }
        const char *st = json_string_value(json_object_get(j_out, "status"));
        counts[strcmp(st, "created") == 0 ? 0 : strcmp(st, "unchanged") == 0 ? 1 : 2]++;
        json_array_append_new(j_results, j_out);
    }
    json_t *j_reply = json_pack("{s:{s:I, s:I, s:I}, s:O}", "summary", "created", (json_int_t)counts[0], "unchanged",
                                (json_int_t)counts[1], "failed", (json_int_t)counts[2], "results", j_results);
    if (!j_reply) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL); goto out; }
    if (counts[0] + counts[1] == 0) {
        /* Nothing stored: a problem a script can stop on, with every row's outcome and errors. */
        json_t *j_errors = all_errors(j_results);
        if (!j_errors || json_object_set_new(j_reply, "errors", j_errors) != 0) {
            json_decref(j_reply);
            tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
            goto out;
        }
        tx_fail_reply(ctx, &tx, APP_ERR_VALIDATION, rows.n ? "no row was stored: every row has errors"
                                                            : "the file has no rows", j_reply);
        goto out;
    }
    text = json_dumps(j_reply, JSON_COMPACT);
    json_decref(j_reply);
    if (!text) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL); goto out; }
    tx_commit_reply(ctx, &tx, 200, NULL, text);
out:
    free(text);
    json_decref(j_results);
    json_decref(j_request);
    csv_rows_free(&rows);
}

void import_refusal(app_err e, app_refusal *why, verrs *v, char *detail, size_t detail_len)
{
    if (e && why->field) verrs_add(v, why->field, "%s", why->sentence ? why->sentence : app_err_lookup(e)->title);
    else if (e && why->sentence) snprintf(detail, detail_len, "%s", why->sentence);
    app_refusal_clear(why);
}
