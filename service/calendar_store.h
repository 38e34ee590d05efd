/* calendar_store.h — key events, the calendar query and feed tokens: SQL, scoped by organisation.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_CALENDAR_STORE_H
#define CAMPAIGND_CALENDAR_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const key_event_sort_names[];
extern const char *const feed_token_sort_names[];

app_err key_event_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* key_event_store_get's statement: (org, id) -> document, version. */
extern const db_stmt key_event_store_get_stmt;
/* Locks the event for an update; *doc is the stored event and its version. */
app_err key_event_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err key_event_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                               app_refusal *why);
app_err key_event_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                               app_refusal *why);
app_err key_event_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why);
/* kinds is a PostgreSQL array literal or NULL; from/to overlap the event's days (org time zone). */
app_err key_event_store_list(db_conn *conn, const char *org, const char *kinds, const char *from, const char *to,
                             const char *q, int sort, int desc, const char *cursor_key, const char *cursor_id,
                             int limit, list_result *out);

/* What GET /v1/calendar and the feed show, all optional but the window. */
typedef struct calendar_filter {
    const char *from, *to;       /* the window [from, to): RFC 3339 or dates */
    const char *resource_id;
    const char *segment_id;
    const char *channel;
    const char *owner;
    const char *types;           /* PostgreSQL array literal of item types */
    int include_cancelled;
} calendar_filter;

/* The columns of one calendar row (all text; "" for SQL NULL, see is_null). */
enum {
    CAL_TYPE, CAL_ID, CAL_TITLE, CAL_START, CAL_END, CAL_ALL_DAY, CAL_STATUS, CAL_KIND, CAL_COLOUR_KEY,
    CAL_CAMPAIGN_ID, CAL_RESOURCE_ID, CAL_SEGMENT_ID, CAL_SEQUENCE, CAL_STAMP, CAL_ICS_START, CAL_ICS_END,
    CAL_DESCRIPTION, CAL__COLUMNS
};

typedef struct calendar_rows {
    size_t n;
    char **cells;     /* n * CAL__COLUMNS strings */
    char *is_null;    /* n * CAL__COLUMNS flags */
    int truncated;    /* more items than the limit overlap the window */
    char time_zone[64];
} calendar_rows;

/* The items overlapping the window, ordered by start, at most limit of them. */
app_err calendar_store_items(db_conn *conn, const char *org, const calendar_filter *f, int limit,
                             calendar_rows *out);
void calendar_rows_free(calendar_rows *r);
/* Cell (row, column); NULL when SQL NULL. Borrowed. */
const char *calendar_cell(const calendar_rows *r, size_t row, int column);

/* Stores a feed token's hash (never the token), returns the stored token document. */
app_err feed_token_store_insert(db_conn *conn, const char *org, const char *actor, const char *token,
                                const char *body_json, char **json, char id_out[37], app_refusal *why);
/* The organisation and filters (JSON object text) of a live token; APP_ERR_NOT_FOUND if unknown or revoked. */
app_err feed_token_store_lookup(db_conn *conn, const char *token, char org_out[65], char **filters_json);
/* Lists tokens; creator NULL lists everyone's. */
app_err feed_token_store_list(db_conn *conn, const char *org, const char *creator, int include_revoked, int sort,
                              int desc, const char *cursor_key, const char *cursor_id, int limit, list_result *out);
/* Revokes (idempotently); creator NULL may revoke anyone's. APP_ERR_NOT_FOUND when no such token for the caller. */
app_err feed_token_store_revoke(db_conn *conn, const char *org, const char *id, const char *creator, app_refusal *why);
/* Whether the ids a feed token's filters name exist in the organisation (each may be NULL). */
app_err feed_token_store_refs(db_conn *conn, const char *org, const char *resource_id, const char *segment_id,
                              int *resource_found, int *segment_found);

#endif
