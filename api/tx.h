/* tx.h — the write path every mutating handler shares: take a connection,
 * BEGIN, record who is acting (for the audit trigger), honour Idempotency-Key
 * on POST, and at the end save the response for replays and COMMIT — so the
 * change, its audit entries and its idempotency record land together or not at all. */
#ifndef CAMPAIGND_TX_H
#define CAMPAIGND_TX_H

#include <jansson.h>

#include "http.h"
#include "idempotency_store.h"

typedef struct write_tx {
    db_conn *conn;
    const char *idem_key;  /* borrowed from the request headers; NULL without one */
    char *fingerprint;     /* method, path and canonical body of the request */
    req_ctx *late;         /* tx_begin_reads_or_reply without a key: the request whose context goes with the write */
    int borrowed;          /* conn is a batch's (reply_after_writes): replying never releases it */
} write_tx;

/* Starts the transaction. j_body (may be NULL) is the parsed request body.
 * Returns 1 to go on; 0 after replying (error, in-progress, key reuse, or the
 * replay of an earlier response). */
int tx_begin_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body);

/* The same for a write whose statements before its last write (tx_last_write) are reads that take no lock (what
 * it refers to, what it is judged by) and find a row of the organisation when it goes on (so the organisation's
 * own row exists). Without an Idempotency-Key nothing is begun: each round trip of those reads runs alone (a
 * transaction at READ COMMITTED gives them nothing more: each statement sees the rows committed when it starts,
 * and none of them locks a row), and the request context is sent with the last write, whose round trip is then
 * the whole transaction: PostgreSQL runs the statements of one pipeline as one implicit transaction that the
 * pipeline's sync commits (or rolls back, when one fails), so neither BEGIN nor COMMIT is sent. With a key, the
 * same as tx_begin_or_reply: the key's claim and record are in the write's transaction. */
int tx_begin_reads_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body);

/* Saves the idempotent response, commits and replies status with the JSON
 * text body (NULL for an empty body) and Location (may be NULL). */
void tx_commit_reply(req_ctx *ctx, write_tx *tx, int status, const char *location, const char *json_body);

/* The same for a response that is one versioned document: the body is
 * doc->json and the ETag its version, saved with the response so that a
 * replay of the request answers the same ETag. */
void tx_commit_doc(req_ctx *ctx, write_tx *tx, int status, const char *location, const db_doc *doc);

/* Says that the next statement is the transaction's last write: without an
 * Idempotency-Key (whose record is saved after it) the COMMIT goes in that
 * statement's round trip, and when it succeeds the transaction is committed
 * before the reply is built: call it only when nothing after that statement
 * can refuse the request (tx_commit_reply then only replies). After
 * tx_begin_reads_or_reply, the request context is queued to go with it (and
 * BEGIN with it too when nothing was read before). APP_OK, or the error
 * (out of memory) to reply. */
app_err tx_last_write(write_tx *tx);

/* tx_last_write for a write statement that can carry the request context itself: when the context would go in a
 * statement of its own before the write (tx_begin_reads_or_reply without a key, after its reads), *carry gets it
 * instead (borrowed from the request) and nothing is queued; otherwise carry->actor is NULL and it is
 * tx_last_write. */
app_err tx_last_write_carrying(write_tx *tx, tx_context *carry);

/* Rolls back and replies the problem (j_extra stolen, may be NULL). */
void tx_fail_reply(req_ctx *ctx, write_tx *tx, app_err err, const char *detail, json_t *j_extra);

/* Rolls back, replies the refusal (see reply_refusal) and clears *why. */
void tx_refused_reply(req_ctx *ctx, write_tx *tx, app_err err, app_refusal *why, const char *detail);

/* Rolls back and releases without replying (after a reply_validation etc.). */
void tx_abort(req_ctx *ctx, write_tx *tx);

#endif
