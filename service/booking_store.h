/* booking_store.h — booking SQL, scoped by organisation. The rules that make
 * double booking impossible are in the schema (bookings_guard and the
 * exclusion constraint); a refusal comes back as APP_ERR_BOOKING_CONFLICT with
 * the refusal (*why) naming the rule and carrying the items in the way.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_BOOKING_STORE_H
#define CAMPAIGND_BOOKING_STORE_H

#include <jansson.h>

#include "db.h"
#include "db_list.h"
#include "idempotency_store.h"

extern const char *const booking_sort_names[];

/* What a new booking refers to, read in the booking's transaction. A field
 * is "" when the row does not exist in the organisation. */
typedef struct booking_refs {
    char campaign_owner[256];
    char campaign_status[16];
    char resource_kind[16];
    int resource_active;
    int segment_found;
} booking_refs;

app_err booking_store_refs(db_conn *conn, const char *org, const char *campaign_id, const char *resource_id,
                           const char *segment_id, booking_refs *out);
/* booking_store_refs in two steps, for a write whose round trips are batched (db_queue): _defer queues the
 * statement on conn (its result in *kept once sent; the strings are copied), _take reads it. */
app_err booking_store_refs_defer(db_conn *conn, const char *org, const char *campaign_id, const char *resource_id,
                                 const char *segment_id, db_kept *kept);
app_err booking_store_refs_take(const db_kept *kept, booking_refs *out);
/* booking_store_insert queued (its row in *kept once sent: read it with db_doc_take, the id in its third column);
 * its refusal is the error of the round trip that sent it. carry (may be NULL, or its actor NULL): the request
 * context the insert sets itself (tx_last_write_carrying), the actor its creator. */
app_err booking_store_insert_defer(db_conn *conn, const char *org, const char *actor, const char *body_json,
                                   const tx_context *carry, db_kept *kept);
app_err booking_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                             char id_out[37], app_refusal *why);
app_err booking_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* booking_store_get's statement: (org, id) -> document, version. */
extern const db_stmt booking_store_get_stmt;
/* Locks the booking's campaign (shared), its resource, then the booking (the
 * order every writer uses). *doc is the booking, with its campaign's owner and its resource's kind. */
app_err booking_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err booking_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why);
app_err booking_store_cancel(db_conn *conn, const char *org, const char *id, const char *reason, db_doc *doc,
                             app_refusal *why);

/* The organisation's live bookings of a resource overlapping [start, end), except one
 * (may be NULL): what the exclusion constraint found in the way, for a refusal
 * that came from it rather than from the guard. Outside any transaction. */
app_err booking_store_in_the_way(db_conn *conn, const char *org, const char *resource_id, const char *start,
                                 const char *end, const char *except_id, json_t **j_items);

typedef struct booking_filter {
    const char *campaign_id, *resource_id, *segment_id, *statuses, *from, *to; /* NULL: not filtered */
} booking_filter;

app_err booking_store_list(db_conn *conn, const char *org, const booking_filter *f, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out);

#endif
