/* export.c — see export.h. */
#define _GNU_SOURCE
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_rows.h"
#include "respond.h"

/* The member at path ("a.b") of j_doc, borrowed; NULL when absent. */
static json_t *member(json_t *j_doc, const char *path)
{
    char key[64];
    const char *dot;
    while ((dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path) < sizeof key - 1 ? (size_t)(dot - path) : sizeof key - 1;
        memcpy(key, path, n);
        key[n] = '\0';
        j_doc = json_object_get(j_doc, key);
        path = dot + 1;
    }
    return json_object_get(j_doc, path);
}

char *export_field(json_t *j_doc, const export_column *c)
{
    json_t *j_v = member(j_doc, c->path);
    if (json_is_string(j_v)) return strdup(json_string_value(j_v));
    if (!j_v || json_is_null(j_v)) return strdup("");
    return json_dumps(j_v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* One document as a record of columns. 0, or -1 out of memory. */
static int write_record(char **buf, size_t *len, size_t *cap, json_t *j_doc, const export_column *columns)
{
    for (int i = 0; columns[i].header; i++) {
        char *s = export_field(j_doc, &columns[i]);
        int rc = s ? csv_append_field(buf, len, cap, s, i == 0) : -1;
        free(s);
        if (rc != 0) return -1;
    }
    return csv_end_record(buf, len, cap);
}

app_err export_rows(db_conn *conn, export_page_fn page, void *page_arg, export_record_fn record, void *record_arg,
                    char **buf, size_t *len, size_t *cap, size_t *total)
{
    char *key = NULL, *id = NULL;
    app_err e = APP_OK;
    *total = 0;
    while (!e) {
        list_result res = {0};
        e = page(page_arg, conn, key, id, EXPORT_PAGE, &res);
        for (size_t i = 0; !e && i < res.n; i++) {
            json_t *j_doc = json_loads(res.items[i], 0, NULL);
            if (!j_doc || record(record_arg, buf, len, cap, j_doc) != 0) e = APP_ERR_INTERNAL;
            json_decref(j_doc);
        }
        *total += res.n;
        free(key);
        free(id);
        key = res.next_key;
        id = res.next_id;
        res.next_key = res.next_id = NULL;
        list_result_free(&res);
        if (!key || *total > EXPORT_MAX_ROWS) break;
    }
    free(key);
    free(id);
    return e;
}

void export_reply(req_ctx *ctx, const char *buf, size_t len, const char *filename)
{
    char disposition[96];
    ctx->status = 200;
    ulfius_set_binary_body_response(ctx->resp, 200, buf ? buf : "", len);
    reply_header(ctx, "Content-Type", "text/csv; charset=utf-8");
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    reply_header(ctx, "Content-Disposition", disposition);
}

/* export_rows' callbacks for a descriptor's list and a table of columns. */
typedef struct {
    const crud_desc *d;
    const char *org;
    crud_filter *f;
} crud_pages;

static app_err crud_page(void *arg, db_conn *conn, char *key, char *id, int limit, list_result *res)
{
    crud_pages *p = arg;
    list_params lp = {.limit = limit, .cursor_key = key, .cursor_id = id};
    return p->d->list(conn, p->org, p->f, &lp, res);
}

static int column_record(void *arg, char **buf, size_t *len, size_t *cap, json_t *j_doc)
{
    return write_record(buf, len, cap, j_doc, arg);
}

void export_csv(req_ctx *ctx, const crud_desc *d, const export_column *columns, const char *filename)
{
    crud_filter f = {0};
    db_conn *conn = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, total = 0;
    app_err e = APP_OK;

    if (!require_perm_or_reply(ctx, d->read) || !query_known_or_reply(ctx, d->query_params) ||
        !d->filters_or_reply(ctx, &f))
        goto out;
    for (int i = 0; columns[i].header; i++)
        if (csv_append_field(&buf, &len, &cap, columns[i].header, i == 0) != 0) e = APP_ERR_INTERNAL;
    if (!e && csv_end_record(&buf, &len, &cap) != 0) e = APP_ERR_INTERNAL;
    if (!e) e = db_acquire(ctx->app->pool, &conn);
    crud_pages pages = {d, ctx->claims.org, &f};
    if (!e) e = export_rows(conn, crud_page, &pages, column_record, (void *)columns, &buf, &len, &cap, &total);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    if (total > EXPORT_MAX_ROWS) {
        reply_bad_param(ctx, "from", "the export has more than 200000 rows: narrow it with the list's filters");
        goto out;
    }
    export_reply(ctx, buf, len, filename);
out:
    for (size_t i = 0; i < sizeof f.owned / sizeof f.owned[0]; i++) free(f.owned[i]);
    free(buf);
}
