/* export.h — a collection as a CSV file (RFC 4180, UTF-8, CRLF): the rows
 * its list descriptor (crud.h) gives for the request's filters, every page of
 * them, as columns taken from each row's document. */
#ifndef CAMPAIGND_EXPORT_H
#define CAMPAIGND_EXPORT_H

#include "crud.h"

/* A column: its header, and where its value sits in the document ("budget.amount": a member of a member).
 * A string is written as it is, a number or boolean as JSON writes it, null or absent as an empty field;
 * json columns (arrays and objects: channels, offer, ...) as compact JSON, so a file reads back exactly. */
typedef struct export_column {
    const char *header;
    const char *path;
    int json;
} export_column;

/* A column's value in a document as the export writes it (malloc'd; "" for null or absent); NULL when out of
 * memory. */
char *export_field(json_t *j_doc, const export_column *c);

#define EXPORT_MAX_ROWS 200000 /* more is 400: narrow the filters */
#define EXPORT_PAGE 500         /* rows a page of the export reads */

/* One page of a list into *res: at most limit rows after the cursor (key, id, borrowed; NULL: from the
 * start). */
typedef app_err (*export_page_fn)(void *arg, db_conn *conn, char *key, char *id, int limit,
                                  list_result *res);
/* One row's document as a CSV record appended to buf. 0, or -1 out of memory. */
typedef int (*export_record_fn)(void *arg, char **buf, size_t *len, size_t *cap, json_t *j_doc);

/* Appends every row the pages give to buf (keyset pages on one connection: stable while rows arrive), each as
 * record writes it; stops once more than EXPORT_MAX_ROWS were read. *total gets the rows read. */
app_err export_rows(db_conn *conn, export_page_fn page, void *page_arg, export_record_fn record, void *record_arg,
                    char **buf, size_t *len, size_t *cap, size_t *total);

/* 200 text/csv with buf[0..len) (copied), its Content-Disposition naming filename. */
void export_reply(req_ctx *ctx, const char *buf, size_t len, const char *filename);

/* GET <collection>.csv: d's read permission and list filters (d->query_params; no limit, cursor or sort),
 * rows in d's first sort, ascending; 200 text/csv with Content-Disposition naming filename. */
void export_csv(req_ctx *ctx, const crud_desc *d, const export_column *columns, const char *filename);

#endif
