/* db_list.c — see db_list.h. */
#define _GNU_SOURCE
#include "db_list.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds the 4 x nsorts statements of lq from its program constants: for each
 * sort and direction, the first page and the page after a cursor. They are
 * separate statements so that the cursor is a row comparison the sort's index
 * serves ((org_id, key, id) > ($k, $k+1)); written as "$k IS NULL OR ..." it
 * would be a filter in the generic plan, and every page would scan the
 * organisation's rows from the first one. */
static void build(list_query *lq)
{
    int k = lq->nfilters + 1; /* first parameter after the filters */
    for (size_t s = 0; s < lq->nsorts && s < LIST_MAX_SORTS; s++) {
        for (int v = 0; v < 4; v++) {
            int desc = v & 1, after = v >> 1;
            size_t i = s * 4 + (size_t)v;
            const sort_spec *sp = &lq->sorts[s];
            const char *dir = desc ? "DESC" : "ASC";
            char *cursor = NULL;
            if (after ? asprintf(&cursor, " AND (%s, t.id) %s ($%d::%s, $%d::%s)", sp->column, desc ? "<" : ">", k,
                                 sp->type, k + 1, lq->id_type ? lq->id_type : "uuid") < 0
                      : !(cursor = strdup("")))
                continue;
            if (asprintf(&lq->sql[i], "SELECT %s, (%s)::text, t.id::text FROM %s WHERE %s%s ORDER BY %s %s, t.id %s LIMIT $%d",
                         lq->projection, sp->column, lq->from, lq->where, cursor, sp->column, dir, dir,
                         after ? k + 2 : k) < 0)
                lq->sql[i] = NULL;
            free(cursor);
            char *name = NULL;
            if (!lq->sql[i] ||
                asprintf(&name, "%s_%s_%s%s", lq->name, sp->name, desc ? "desc" : "asc", after ? "_after" : "") < 0)
                name = NULL;
            lq->stmts[i].name = name;
            lq->stmts[i].sql = lq->sql[i];
            lq->stmts[i].nparams = after ? k + 2 : k;
        }
    }
}

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

app_err list_query_run(db_conn *conn, list_query *lq, const char *const *filters, int sort, int desc,
                       const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    pthread_mutex_lock(&build_lock);
    if (!lq->built) {
        build(lq);
        lq->built = 1;
    }
    pthread_mutex_unlock(&build_lock);

    /* A description past the fixed bounds is a programming error: refused, never read out of bounds. */
    if (sort < 0 || (size_t)sort >= lq->nsorts || sort >= LIST_MAX_SORTS || lq->nfilters < 0 ||
        lq->nfilters > LIST_MAX_FILTERS)
        return APP_ERR_INTERNAL;
    size_t idx = (size_t)sort * 4 + (desc ? 1 : 0) + (cursor_key ? 2 : 0);
    if (!lq->stmts[idx].name || !lq->stmts[idx].sql) return APP_ERR_INTERNAL;

    const char *params[LIST_MAX_FILTERS + 3];
    int n = 0;
    for (int i = 0; i < lq->nfilters; i++) params[n++] = filters[i];
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1);
    if (cursor_key) {
        params[n++] = cursor_key;
        params[n++] = cursor_id;
    }
    params[n++] = lim;

    PGresult *res = NULL;
    app_err e = db_exec(conn, &lq->stmts[idx], params, &res);
    if (e == APP_ERR_VALIDATION && cursor_key) return APP_ERR_INVALID_CURSOR;
    if (e) return e;
    int rows = PQntuples(res);
    int take = rows > limit ? limit : rows;
    list_result r = {0};
    int ok = (r.items = calloc((size_t)take + 1, sizeof *r.items)) != NULL;
    for (int i = 0; ok && i < take; i++) ok = (r.items[r.n++] = strdup(PQgetvalue(res, i, 0))) != NULL;
    if (ok && rows > limit && take > 0)
        ok = (r.next_key = strdup(PQgetvalue(res, take - 1, 1))) && (r.next_id = strdup(PQgetvalue(res, take - 1, 2)));
    PQclear(res);
    if (!ok) {
        list_result_free(&r);
        return APP_ERR_INTERNAL;
    }
    *out = r;
    return APP_OK;
}

void list_result_free(list_result *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->items[i]);
    free(r->items);
    free(r->next_key);
    free(r->next_id);
    memset(r, 0, sizeof *r);
}
