/* h_imports.c — measurements as CSV: POST /v1/imports/measurements (the
 * batch's semantics, each row's outcome with its line) and
 * GET /v1/measurements.csv (the same columns, so an export re-imports
 * unchanged). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crud.h"
#include "export.h"
#include "csv_rows.h"
#include "handlers.h"
#include "import.h"
#include "measurement.h"
#include "measurement_store.h"
#include "respond.h"

static const char *const required_columns[] = {"campaign_id", "date", "source", "external_id", NULL};
/* The counters: all digits in the file is a count; the rest stay text for the row's validation to judge. */
static const char *const integer_columns[] = {"impressions", "reach", "sends", "opens", "clicks", "bounces",
                                              "unsubscribes", "visits", "leads", "mqls", "sqls", "conversions",
                                              NULL};


void h_measurement_import(req_ctx *ctx)
{
    csv_rows rows = {0};
    json_t *j_request = NULL;
    const struct _u_request *req = ctx->req;

    if (!measurement_may_ingest_or_reply(ctx) || !query_known_or_reply(ctx, (const char *[]){NULL})) return;
    if (!csv_body_read_or_reply(ctx, measurement_columns, required_columns, integer_columns, MEASUREMENT_BATCH_MAX,
                                &rows))
        goto out;
    /* The Idempotency-Key fingerprint sees the file as text (it is valid UTF-8 once read). */
    j_request = json_stringn(req->binary_body, req->binary_body_length);
    if (!j_request) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); goto out; }
    measurement_ingest(ctx, j_request, rows.j_rows, rows.lines);
out:
    json_decref(j_request);
    csv_rows_free(&rows);
}

/* One measurement (its JSON document) as a CSV record of measurement_columns. */
static int write_record(void *arg, char **buf, size_t *len, size_t *cap, json_t *j_m)
{
    (void)arg;
    for (int i = 0; measurement_columns[i]; i++) {
        json_t *j_v = json_object_get(j_m, measurement_columns[i]);
        char num[32];
        const char *s = "";
        if (json_is_string(j_v)) s = json_string_value(j_v);
        else if (json_is_integer(j_v)) { snprintf(num, sizeof num, "%lld", (long long)json_integer_value(j_v)); s = num; }
        if (csv_append_field(buf, len, cap, s, i == 0) != 0) return -1;
    }
    return csv_end_record(buf, len, cap);
}

/* export_rows' pages: the measurements of org that f selects, in date order. */
typedef struct {
    const char *org;
    const measurement_filter *f;
} measurement_pages;

static app_err measurement_page(void *arg, db_conn *conn, char *key, char *id, int limit, list_result *res)
{
    const measurement_pages *p = arg;
    return measurement_store_list(conn, p->org, p->f, 0, 0, key, id, limit, res);
}

void h_measurement_export(req_ctx *ctx)
{
    static const char *const params[] = {"campaign_id", "channel", "source", "from", "to", NULL};
    crud_filter cf = {0};
    db_conn *conn = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, total = 0;
    app_err e = APP_OK;

    if (!require_perm_or_reply(ctx, PERM_MEASUREMENT_READ) || !query_known_or_reply(ctx, params) ||
        !measurement_filters_or_reply(ctx, &cf))
        return;
    measurement_filter f = {cf.v[0], cf.v[1], cf.v[2], cf.v[3], cf.v[4]};
    measurement_pages pages = {ctx->claims.org, &f};
    for (int i = 0; measurement_columns[i]; i++)
        if (csv_append_field(&buf, &len, &cap, measurement_columns[i], i == 0) != 0) e = APP_ERR_INTERNAL;
    if (!e && csv_end_record(&buf, &len, &cap) != 0) e = APP_ERR_INTERNAL;
    if (!e) e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = export_rows(conn, measurement_page, &pages, write_record, NULL, &buf, &len, &cap, &total);
    db_release(ctx->app->pool, conn);
    if (!e && total > EXPORT_MAX_ROWS)
        reply_bad_param(ctx, "from", "the export has more than 200000 rows: narrow it with from/to or campaign_id");
    else if (e)
        reply_problem(ctx, e, NULL);
    else
        export_reply(ctx, buf, len, "measurements.csv");
    free(buf);
}
