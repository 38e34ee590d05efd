/* db_list.h — keyset-paginated list queries, shared by every collection.
 * A store describes its collection once (JSON projection, table, filter
 * clause, sortable columns); the statements for each sort and direction are
 * built once from those program constants and prepared like any other
 * (the first page and the pages after a cursor are separate statements). */
#ifndef CAMPAIGND_DB_LIST_H
#define CAMPAIGND_DB_LIST_H

#include <stddef.h>

#include "db.h"

typedef struct sort_spec {
    const char *name;   /* as in ?sort= */
    const char *column; /* SQL expression over the row alias t; must be NOT NULL */
    const char *type;   /* SQL type the cursor key casts back to */
} sort_spec;

#define LIST_MAX_SORTS 8   /* sorts of one list_query (more are refused with APP_ERR_INTERNAL) */
#define LIST_MAX_FILTERS 37 /* filter parameters of one list_query (idem) */

typedef struct list_query {
    const char *name;        /* statement name prefix, unique */
    const char *projection;  /* SQL expression giving the item's JSON text */
    const char *from;        /* table with alias t */
    const char *where;       /* filter over $1..$nfilters ($1 is the organisation) */
    int nfilters;
    const sort_spec *sorts;  /* nsorts entries */
    size_t nsorts;
    const char *id_type;     /* SQL type of t.id, which breaks ties and ends the cursor (NULL: uuid) */
    /* built on first use: */
    int built;
    db_stmt stmts[4 * LIST_MAX_SORTS]; /* [sort * 4 + desc + 2 * after_cursor] */
    char *sql[4 * LIST_MAX_SORTS];
} list_query;

typedef struct list_result {
    char **items;   /* n JSON texts */
    size_t n;
    char *next_key; /* sort key and id of the last item when more rows follow, else NULL */
    char *next_id;
} list_result;

/* Runs one page: filters are nfilters text parameters (NULL = no filter);
 * cursor_key/cursor_id (both or neither) continue after that row. A cursor
 * key the database cannot read is APP_ERR_INVALID_CURSOR. */
app_err list_query_run(db_conn *conn, list_query *lq, const char *const *filters, int sort, int desc,
                       const char *cursor_key, const char *cursor_id, int limit, list_result *out);
void list_result_free(list_result *r);

#endif
