/* import.h — a CSV file as rows created one by one with the JSON API's rules
 * (POST /v1/imports/campaigns, /v1/imports/bookings). The file is the export's
 * (export.h): the same columns, so an export re-imports unchanged. A row whose
 * id names a stored row with the same fields is `unchanged`; with other
 * fields it fails (changes go through PATCH); any other row is created, in a
 * savepoint of the one transaction, so a row the database refuses (a booking
 * conflict in row 7) is that row's error and the others are stored. */
#ifndef CAMPAIGND_IMPORT_H
#define CAMPAIGND_IMPORT_H

#include <stdbool.h>

#include "csv_rows.h"
#include "export.h"

#define IMPORT_MAX_ROWS 5000

typedef struct import_desc {
    const char *name;                      /* in messages: "campaign" */
    const char *patch_path;                /* "/v1/campaigns": a changed row says to PATCH <patch_path>/<id> */
    const export_column *columns;          /* the file's columns (the export's) */
    const char *const *required;           /* the columns a create needs (NULL-terminated) */
    const char *const *integer_columns;    /* columns whose digits are JSON integers (NULL-terminated) */
    app_err (*get)(db_conn *conn, const char *org, const char *id, db_doc *doc);
    /* The body of a create from a row: its writable columns, nested where the API nests them. Errors
     * (by column) go to v. A new reference (NULL only when out of memory). */
    json_t *(*body)(json_t *j_row, verrs *v);
    /* Validates and creates one row in the open transaction. APP_OK with id_out set; otherwise the refusal:
     * APP_ERR_VALIDATION with errors in v, or another error (its detail in detail, "" for the code's title,
     * and a rule when it has one). */
    app_err (*create)(req_ctx *ctx, db_conn *conn, json_t *j_body, char id_out[37], verrs *v, char *detail,
                      size_t detail_len, const char **rule);
} import_desc;

/* A create's refusal e by the database (why) as the row's error: the field why names, with its sentence (or
 * e's title), in v; else why's sentence as the detail. Clears why. */
void import_refusal(app_err e, app_refusal *why, verrs *v, char *detail, size_t detail_len);

/* A create's body from a row: the text_columns as they are, the json_columns parsed (an error by column in v
 * when one is not JSON). Empty fields are absent. A new reference; NULL when out of memory. */
json_t *import_body(json_t *j_row, const char *const *text_columns, const char *const *json_columns, verrs *v);

/* POST /v1/imports/<things> (text/csv): the caller's permission is checked by the handler first. 200 with each
 * row's outcome and the counts; 422 when no row is stored or unchanged; 400 malformed_csv for a file that is
 * not CSV. Honours Idempotency-Key (the file is the request). */
void import_csv(req_ctx *ctx, const import_desc *d);

/* Reads a request's CSV body into rows (csv_rows_read with these columns, at most max_rows records), after
 * checking its size and Content-Type. true when read; false when it has replied (413, 415, 422 naming the
 * line and column, or 500 out of memory). The caller frees rows either way. */
bool csv_body_read_or_reply(req_ctx *ctx, const char *const *columns, const char *const *required,
                            const char *const *integer_columns, size_t max_rows, csv_rows *rows);

#endif
