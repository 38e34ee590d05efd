/* segment_store.h — segment SQL, scoped by organisation.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_SEGMENT_STORE_H
#define CAMPAIGND_SEGMENT_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const segment_sort_names[];

app_err segment_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* segment_store_get's statement: (org, id) -> document, version. */
extern const db_stmt segment_store_get_stmt;
/* Locks the row; *doc is the segment and its current version. */
app_err segment_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err segment_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                             app_refusal *why);
app_err segment_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why);
app_err segment_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why);
app_err segment_store_list(db_conn *conn, const char *org, const char *parent_id, const char *q, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out);

/* The segment's declared overlaps: {segment_id, overlaps: [{segment_id, ratio}], version} (the segment's). */
app_err segment_store_overlaps(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* Replaces them (body_json: {"overlaps": [...]}, checked by segment_validate_overlaps; the segment locked) and
 * returns the new set; an unknown segment is *why (422 on overlaps). */
app_err segment_store_put_overlaps(db_conn *conn, const char *org, const char *id, const char *body_json,
                                   db_doc *doc, app_refusal *why);

#endif
