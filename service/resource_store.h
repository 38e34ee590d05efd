/* resource_store.h — resource and availability SQL, scoped by organisation.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_RESOURCE_STORE_H
#define CAMPAIGND_RESOURCE_STORE_H

#include <jansson.h>

#include "db.h"
#include "db_list.h"

extern const char *const resource_sort_names[];
extern const char *const availability_sort_names[];

typedef struct resource_filter {
    const char *kind, *active, *q, *skill; /* NULL: not filtered; active is "true"/"false" */
} resource_filter;

app_err resource_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* resource_store_get's statement: (org, id) -> document, version. */
extern const db_stmt resource_store_get_stmt;
/* Locks the resource row (the same lock every booking writer of it takes);
 * *doc is the stored resource, with its kind. */
app_err resource_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err resource_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                              app_refusal *why);
app_err resource_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why);
/* Deletes a resource that never had a booking (doc->json NULL); one with
 * bookings is deactivated instead and *doc is the resource after. */
app_err resource_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why);
app_err resource_store_list(db_conn *conn, const char *org, const resource_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out);

app_err availability_store_insert(db_conn *conn, const char *org, const char *resource_id, const char *actor,
                                  const char *body_json, char **json, char id_out[37], app_refusal *why);
app_err availability_store_delete(db_conn *conn, const char *org, const char *resource_id, const char *id,
                                  app_refusal *why);
app_err availability_store_list(db_conn *conn, const char *org, const char *resource_id, const char *from,
                                const char *to, int sort, int desc, const char *cursor_key, const char *cursor_id,
                                int limit, list_result *out);

#endif
