/* campaign_store.h — campaign SQL. Every function runs on the caller's
 * connection (inside its transaction for writes) and scopes by organisation:
 * another organisation's campaign is simply not found.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_CAMPAIGN_STORE_H
#define CAMPAIGND_CAMPAIGN_STORE_H

#include <jansson.h>

#include "db.h"
#include "db_list.h"

/* Sort names accepted by campaign lists (NULL-terminated). */
extern const char *const campaign_sort_names[];

typedef struct campaign_filter {
    const char *statuses; /* PostgreSQL array literal of validated statuses, e.g. {draft,live} */
    const char *owner, *objective, *from, *to, *q;
    const char *priority_min; /* a number 0–100: campaigns scoring at least that (unscored ones never) */
} campaign_filter;

/* *doc: the campaign as the API shows it and its version (the ETag). */
app_err campaign_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* campaign_store_get's statement: (org, id) -> document, version. */
extern const db_stmt campaign_store_get_stmt;

/* Locks the row for the rest of the transaction; *doc is the campaign, with its owner. */
app_err campaign_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);

/* Indexes of ids (a JSON array text of UUIDs) not found in the organisation's segments (new reference). */
app_err campaign_store_unknown_segments(db_conn *conn, const char *org, const char *ids_json, json_t **j_missing);

/* Inserts from a validated create body; owner and created_by are actor. */
app_err campaign_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                              char id_out[37], app_refusal *why);

/* Applies a validated patch (segment_ids included) and returns the new JSON. */
app_err campaign_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why);

/* Moves the campaign to status without reading it back: sent with the next
 * statement or the COMMIT (db_defer), which fails with its refusal. */
app_err campaign_store_move(db_conn *conn, const char *org, const char *id, const char *status, const char *reason);

app_err campaign_store_set_status(db_conn *conn, const char *org, const char *id, const char *status,
                                  const char *reason, db_doc *doc, app_refusal *why);

/* Moves campaigns along their dates, in one transaction of its own: scheduled → live on the start date,
 * live → completed after the end date (organisation time zone). *moved is how many changed. */
app_err campaign_store_follow_dates(db_conn *conn, int *moved);

app_err campaign_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why);

app_err campaign_store_list(db_conn *conn, const char *org, const campaign_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out);

#endif
