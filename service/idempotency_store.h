/* idempotency_store.h — Idempotency-Key records, inside the request's own
 * transaction: the saved response commits or rolls back with the change. */
#ifndef CAMPAIGND_IDEMPOTENCY_STORE_H
#define CAMPAIGND_IDEMPOTENCY_STORE_H

#include "db.h"

typedef struct idem_record {
    int found;       /* a record younger than 24 h exists for the key */
    int same;        /* ...and it was made by the same request */
    int status;
    char *location;  /* malloc'd or NULL */
    char *body;      /* malloc'd */
    int etag_version; /* the ETag's version of the document in body; 0: the response had no ETag */
} idem_record;

/* Sets up the request context of a write transaction (organisation, actor,
 * role and request id, read by the audit trigger). Call right after BEGIN;
 * it is sent with the transaction's first statement (db_defer). */
app_err tx_store_begin(db_conn *conn, const char *org, const char *actor, const char *role, const char *request_id);

/* The request context alone (actor, role, request id) for a transaction of an organisation whose row is known to
 * exist (one of its rows was read by the request): tx_store_begin without writing the organisation when it is
 * missing. Queued (db_defer) for the next statement's round trip, in whose transaction it holds. */
app_err tx_store_context(db_conn *conn, const char *actor, const char *role, const char *request_id);

/* The request context as a write statement carries it itself (booking_store_insert_defer): one statement fewer
 * than tx_store_context's before it. actor NULL: the context is not the write's to carry. */
typedef struct tx_context {
    const char *actor, *role, *request_id;
} tx_context;

/* Tries to take the transaction-scoped lock of (org, key): *taken is 0 when
 * another transaction holds it, i.e. the first request is still running. */
app_err idem_store_lock(db_conn *conn, const char *org, const char *key, int *taken);

/* Looks the key up; fingerprint identifies the request (method, path, body).
 * On APP_OK *out is the record (found = 0 when there is none; free it with
 * idem_record_free); otherwise *out is untouched (APP_ERR_INTERNAL: no memory). */
app_err idem_store_find(db_conn *conn, const char *org, const char *key, const char *fingerprint, idem_record *out);
void idem_record_free(idem_record *r);

/* idem_store_lock and idem_store_find in one round trip: *out is the record
 * (free it) and *taken says whether the lock was taken (when not, *out is
 * only what another transaction had committed; ignore it). */
app_err idem_store_claim(db_conn *conn, const char *org, const char *key, const char *fingerprint, int *taken,
                         idem_record *out);

/* Saves the response for the key (replacing an expired record), with the version
 * its ETag named (0: none) so a replay answers the same ETag. Sent with the
 * COMMIT that follows (db_defer): its failure is the commit's. */
app_err idem_store_save(db_conn *conn, const char *org, const char *key, const char *fingerprint, int status,
                        const char *location, const char *body, int etag_version);

#endif
