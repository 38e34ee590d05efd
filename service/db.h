/* db.h — a bounded pool of PostgreSQL connections and the one way to run SQL.
 * Every statement is a db_stmt with $n parameters, prepared by name on its
 * first use on each connection (a per-connection hash set of the statements
 * prepared there: O(1) lookup, no cap; a reconnect forgets them all).
 * A PGresult never leaves the *_store.c / db layer. */
#ifndef CAMPAIGND_DB_H
#define CAMPAIGND_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "errors.h"

typedef struct db_pool db_pool;
typedef struct db_conn db_conn;

/* A statement: a static constant, or built once at run time (db_list.c) and
 * then never moved or freed while a pool lives — its address is its identity
 * on a connection. name must be unique across the program. */
typedef struct db_stmt {
    const char *name;
    const char *sql;
    int nparams;
} db_stmt;

/* SQL text: the row of table alias `a` whose primary key is `id`, if it belongs
 * to organisation `org` (id and org are SQL expressions, usually parameters).
 * The organisation is compared in a form no index can serve, so the only way
 * to the row is the primary key and the organisation is checked on that one
 * row. Written "a.org_id = org AND a.id = id", a generic plan on a table without
 * statistics may take any index led by org_id (the planner then believes an
 * organisation holds one row) and filter the organisation's rows for the id.
 * tests/db/test_plans.c reads the generic plans. */
#define DB_BY_KEY(a, id, org) a ".id = " id " AND (" a ".org_id = " org ") IS TRUE"

/* Creates a pool of size connections to url (connected lazily, re-connected
 * after failures). Every session gets statement_timeout and UTC. NULL on OOM. */
db_pool *db_pool_create(const char *url, unsigned size, unsigned statement_timeout_ms);
void db_pool_free(db_pool *pool);

/* Takes a connection, waiting at most a short bounded time. APP_ERR_UNAVAILABLE
 * when none frees up or the database cannot be reached (fails fast for a second
 * after a failed connect, so an outage costs no connect attempt per request).
 * When the first statement sent on the connection finds it lost (the server
 * restarted or ended the backend while it sat in the pool), it is reconnected
 * and that statement sent once more: so the first statement of a checkout must
 * be safe to send twice — BEGIN, a read, a SET — never a write outside BEGIN. */
app_err db_acquire(db_pool *pool, db_conn **out);

/* Returns conn to the pool; rolls back a transaction left open. NULL is a no-op. */
void db_release(db_pool *pool, db_conn *conn);

void db_pool_stats(db_pool *pool, unsigned *size, unsigned *in_use);

/* Runs stmt with params (text, NULL = SQL NULL; stmt->nparams of them).
 * On APP_OK, *out (if out is not NULL) is the result to PQclear; otherwise
 * nothing is returned but the error, mapped through the error table. */
app_err db_exec(db_conn *conn, const db_stmt *stmt, const char *const *params, PGresult **out);

/* The same for a write the database may refuse: on failure *why (if not NULL)
 * is the refusal as the error table describes it (code, rule, field, sentence,
 * the items in the way); release it with app_refusal_clear. */
app_err db_write(db_conn *conn, const db_stmt *stmt, const char *const *params, PGresult **out, app_refusal *why);

/* Runs stmt, which must return exactly one row (APP_ERR_NOT_FOUND otherwise):
 * *first gets a malloc'd copy of its first column; second (if not NULL) gets
 * its second column, truncated to second_size. Out-params are set only on success. */
app_err db_one_row(db_conn *conn, const db_stmt *stmt, const char *const *params, char **first, char *second,
                   size_t second_size);

/* db_one_row for a write the database may refuse (*why as in db_write). */
app_err db_write_row(db_conn *conn, const db_stmt *stmt, const char *const *params, char **first, char *second,
                     size_t second_size, app_refusal *why);

/* A document as the API shows it and its version (its ETag), read together so
 * nothing re-parses the JSON to find the version. Locks also say whose it is
 * and of what kind, for the write-own permission and the refusal messages. */
typedef struct db_doc {
    char *json;      /* malloc'd; NULL when the write returned no document (a delete) */
    int version;
    char owner[256]; /* locks: the owner the write-own permission checks ("" when none) */
    char kind[16];   /* locks: the resource kind a booking's refusals are told in ("" when none) */
} db_doc;

/* Frees d->json and resets *d. NULL is a no-op. */
void db_doc_free(db_doc *d);

/* Runs stmt, which returns one row (document, version[, id]) and fills *doc
 * (and id_out, when not NULL, from the third column). APP_ERR_NOT_FOUND when
 * no row came back; *why as in db_write. *doc is set only on success. */
app_err db_doc_row(db_conn *conn, const db_stmt *stmt, const char *const *params, db_doc *doc, char id_out[37],
                   app_refusal *why);

/* Runs a lock statement, which returns one row (document, version[, owner[,
 * kind]]) and fills *doc. APP_ERR_NOT_FOUND when no row came back. */
app_err db_lock_row(db_conn *conn, const db_stmt *stmt, const char *const *params, db_doc *doc);

/* One-document reads of many requests in one round trip: reads[i].stmt, with
 * (org, id) as its parameters, returns a row (document, version) or none.
 * Every statement goes in one pipeline with one sync (one implicit read-only
 * transaction: one wake-up of the backend and of the caller for all of them);
 * a statement the failure of another one aborted is sent again in the next
 * round trip, so each read gets its own answer. reads[i].err is APP_OK with
 * reads[i].doc filled (free it with db_doc_free), APP_ERR_NOT_FOUND when no
 * row came back, or the read's error. */
typedef struct db_read {
    const db_stmt *stmt;
    const char *org, *id;
    app_err err; /* out */
    db_doc doc;  /* out */
} db_read;

void db_read_docs(db_conn *conn, db_read *reads, size_t n);

/* Fills *doc (and id_out, when not NULL, from the third column) from a result of one row (document, version[,
 * id]), as db_doc_row does: for a statement whose result was kept (db_defer). APP_ERR_NOT_FOUND when res is NULL
 * or holds no row. *doc is set only on success. */
app_err db_doc_take(PGresult *res, db_doc *doc, char id_out[37]);

/* A statement's result kept for later (db_defer's keep) by the code that holds a request's state between round
 * trips: only the store that queued it reads it (a PGresult never leaves the store and db layer). */
typedef struct db_kept {
    PGresult *res;
} db_kept;

/* Clears k's result. */
void db_kept_clear(db_kept *k);

/* Sends what is queued on conn and waits for it (one round trip); APP_OK when nothing was queued. The first
 * failure is the error, with *why (if not NULL) as db_write fills it. */
app_err db_send(db_conn *conn, app_refusal *why);

/* Writes of many requests in one round trip (an HTTP thread's batch: api/server.c). A request queues its
 * statements on the batch's connection as for any round trip (db_defer, with keep for the results it needs, and
 * db_commit_with_next), then db_queue_take moves them off the connection into a db_queue of its own; the
 * connection's queue is empty again for the next request. db_run_queues sends every queue's statements in one
 * pipeline, a sync after each queue: each queue is its own transaction (implicit, committed at its sync, unless
 * it holds BEGIN/COMMIT), so one request's refusal or failure never touches another's. Afterwards each queue's
 * db_queue_result is its first failure (with the refusal as db_write gives it) or APP_OK with every kept result
 * where its statement asked. The connection's queue must be empty when it runs. A queue that was never run
 * leaves its keeps NULL. */
typedef struct db_queue db_queue;

/* Moves conn's queued statements (and a COMMIT asked with db_commit_with_next) into a new queue; NULL out of
 * memory (conn's queue is then dropped). reads: they only read, take no lock and set nothing for a transaction,
 * so they may share one (a sync) with the other such queues next to them in the round trip, as db_read_docs's
 * reads do: one transaction's end and one answer's flush for all of them rather than one each. A failure of
 * one aborts the rest of its sync; those are sent again in another round trip, so each gets its own answer. */
db_queue *db_queue_take(db_conn *conn, int reads);
void db_run_queues(db_conn *conn, db_queue **queues, size_t n);
/* The queue's outcome after db_run_queues; *why (if not NULL) gets its refusal, to release with
 * app_refusal_clear. */
app_err db_queue_result(db_queue *q, app_refusal *why);
void db_queue_free(db_queue *q);

/* Queues stmt to be sent in the round trip of the next statement whose answer
 * is awaited (db_exec and the like, db_commit): for a statement the caller
 * needs no answer from now — a write whose failure is the failure of the
 * whole transaction, a lock, a read whose result can wait. Its failure is the
 * error of that next call (and the statements after it are skipped). keep
 * (may be NULL) gets its result there, to PQclear; NULL when it failed.
 * params are copied. */
app_err db_defer(db_conn *conn, const db_stmt *stmt, const char *const *params, PGresult **keep);

/* COMMIT is sent right after the next statement, in its round trip: when that
 * statement succeeds the transaction is committed (db_commit then has nothing
 * left to do); when it fails, so does the COMMIT, and the transaction is rolled
 * back as usual. For the last write of a transaction that needs nothing after it. */
void db_commit_with_next(db_conn *conn);

/* Whether anything was sent on this checkout yet (a first round trip that finds the pooled connection lost is
 * sent again on a new one: see db_acquire). */
int db_sent(const db_conn *conn);

/* Round trips to the database so far, all connections together (each wait for
 * the server's answers: one per pipeline of statements); /metrics shows it. */
unsigned long long db_round_trips(void);

/* Checkouts that found every pooled connection taken and had to wait (or gave up), all pools together. */
unsigned long long db_pool_waits(void);

/* Runs parameterless SQL text that is a program constant (migrations). */
app_err db_exec_script(db_conn *conn, const char *sql);

/* BEGIN is queued (db_defer): it goes with the transaction's first statement. */
app_err db_begin(db_conn *conn);
app_err db_commit(db_conn *conn);
void db_rollback(db_conn *conn);

/* The raw libpq connection, for the migration runner only. May be NULL. */
PGconn *db_conn_pg(db_conn *conn);

#endif
