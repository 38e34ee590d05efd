/* measurement_store.h — measurement SQL. Every statement scopes by
 * organisation; a batch is stored with a few statements whatever its size. */
#ifndef CAMPAIGND_MEASUREMENT_STORE_H
#define CAMPAIGND_MEASUREMENT_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const measurement_sort_names[]; /* NULL-terminated */

/* Upserts the valid rows of a batch (rows_json: a JSON array of rows, each
 * with "ord"; keys unique within it) on (organisation, source,
 * external_id), in one statement: a new key is created, a known key with
 * other values updated, one with the same values left unchanged. owner: NULL
 * for a caller who may write any campaign's measurements, else the subject
 * whose campaigns alone they may write. *results (malloc'd JSON text) is an
 * array, by ord, of {"ord", "status": created|updated|unchanged|failed,
 * "id", "field", "message"} (field and message for a row the database
 * refused: unknown or foreign campaign, money without a campaign currency). */
app_err measurement_store_upsert(db_conn *conn, const char *org, const char *owner, const char *rows_json,
                                 char **results, app_refusal *why);

app_err measurement_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* measurement_store_get's statement: (org, id) -> document, version. */
extern const db_stmt measurement_store_get_stmt;
app_err measurement_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err measurement_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why);

typedef struct measurement_filter {
    const char *campaign_id, *channel, *source, *from, *to;
} measurement_filter;

app_err measurement_store_list(db_conn *conn, const char *org, const measurement_filter *f, int sort, int desc,
                               const char *cursor_key, const char *cursor_id, int limit, list_result *out);

#endif
