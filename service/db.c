/* db.c — see db.h. */
#define _GNU_SOURCE
#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DB_ACQUIRE_WAIT_MS 2000
#define DB_RECONNECT_BACKOFF_MS 1000

/* The statements prepared on one connection: an open-addressing hash set of
 * db_stmt addresses (a statement's address is its identity: the static ones
 * and the list variants built at run time alike), grown to stay at most half
 * full, so a lookup is O(1) and there is no cap. */
typedef struct stmt_set {
    const db_stmt **slots; /* cap entries, NULL = free */
    size_t cap, n;         /* cap is 0 or a power of two */
} stmt_set;

/* A statement waiting to be sent with the next one whose answer is awaited. */
typedef struct deferred {
    const db_stmt *stmt; /* NULL: the parameterless command `sql` */
    const char *sql;     /* BEGIN or COMMIT (a program constant) */
    char **params;       /* stmt->nparams copies (NULL = SQL NULL), malloc'd */
    PGresult **keep;     /* where its result goes (NULL: checked, then cleared) */
} deferred;

#define DB_MAX_DEFERRED 16 /* a conflicts slice (up to 9 statements) behind a write's BEGIN, context and key */

struct db_conn {
    db_pool *pool;
    PGconn *pg;
    int in_use;
    int fresh; /* nothing sent on this checkout yet: a lost connection may be replaced and the statement retried */
    stmt_set prepared;
    deferred queue[DB_MAX_DEFERRED];
    int nqueued;
    int commit_next; /* db_commit_with_next: COMMIT follows the next statement in its round trip */
};

static atomic_ullong round_trips; /* every wait for the server, all connections */
static atomic_ullong pool_waits;  /* checkouts that found every connection taken and waited */

unsigned long long db_round_trips(void) { return atomic_load(&round_trips); }
unsigned long long db_pool_waits(void) { return atomic_load(&pool_waits); }

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    db_conn *conns;
    unsigned size, in_use;
    char *url;
    char options[256];
    long long last_connect_failure_ms; /* guarded by lock */
};

static size_t stmt_hash(const db_stmt *stmt, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)stmt * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static int stmt_set_has(const stmt_set *set, const db_stmt *stmt)
{
    if (!set->cap) return 0;
    for (size_t i = stmt_hash(stmt, set->cap);; i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == stmt) return 1;
        if (!set->slots[i]) return 0;
    }
}

static void stmt_set_put(stmt_set *set, const db_stmt *stmt)
{
    size_t i = stmt_hash(stmt, set->cap);
    while (set->slots[i] && set->slots[i] != stmt) i = (i + 1) & (set->cap - 1);
    if (!set->slots[i]) set->n++;
    set->slots[i] = stmt;
}

/* Makes room for n more entries (the statements a pipeline prepares), so that
 * the puts after successful PREPAREs cannot fail. -1 on OOM (the set is unchanged). */
static int stmt_set_reserve_n(stmt_set *set, size_t n)
{
    size_t cap = set->cap ? set->cap : 64;
    while ((set->n + n) * 2 > cap) cap *= 2;
    if (cap == set->cap) return 0;
    stmt_set grown = {calloc(cap, sizeof *grown.slots), cap, 0};
    if (!grown.slots) return -1;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i]) stmt_set_put(&grown, set->slots[i]);
    free(set->slots);
    *set = grown;
    return 0;
}

/* Forgets every entry (the connection they were prepared on is gone); keeps the memory. */
static void stmt_set_clear(stmt_set *set)
{
    if (set->cap) memset(set->slots, 0, set->cap * sizeof *set->slots);
    set->n = 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

db_pool *db_pool_create(const char *url, unsigned size, unsigned statement_timeout_ms)
{
    db_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->conns = calloc(size, sizeof *pool->conns);
    pool->url = strdup(url);
    if (!pool->conns || !pool->url) { db_pool_free(pool); return NULL; }
    pool->size = size;
    for (unsigned i = 0; i < size; i++) pool->conns[i].pool = pool;
    /* enable_sort off: every list is keyset-paginated over an index that gives its order (0012_plans.sql), and
     * without statistics (after a bulk load, before autovacuum's ANALYZE) the planner believes an organisation
     * holds one row, so "any index led by org_id, then sort" looks as cheap as the right one and a generic plan
     * may keep reading and sorting the whole organisation for every page. A statement that must sort still
     * sorts (it is only priced last). tests/db/test_plans.c reads the plans.
     * jit off: that price (10^10) passes every JIT threshold, so each statement that must sort (the calendar's
     * one query) was compiled for about a second before reading a handful of rows; no statement of an
     * OLTP service runs long enough to repay compiling it. tests/db/test_calendar_store.c checks it.
     * plan_cache_mode force_generic_plan: a prepared statement (and each statement of a PL/pgSQL trigger) runs
     * the generic plan, made once per connection, which is the plan tests/db/test_plans.c reads. Left to choose,
     * PostgreSQL planned the conflict rules' statements again on every booking write, and the booking guard's
     * load query too (their custom plans looked cheaper): 1.5 ms of planning a write, half the throughput. */
    snprintf(pool->options, sizeof pool->options,
             "-c statement_timeout=%u -c lock_timeout=%u -c TimeZone=UTC -c client_min_messages=warning"
             " -c enable_sort=off -c jit=off -c plan_cache_mode=force_generic_plan",
             statement_timeout_ms, statement_timeout_ms);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    return pool;
}

void db_pool_free(db_pool *pool)
{
    if (!pool) return;
    if (pool->conns) {
        for (unsigned i = 0; i < pool->size; i++) {
            if (pool->conns[i].pg) PQfinish(pool->conns[i].pg);
            free(pool->conns[i].prepared.slots);
        }
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->freed);
    }
    free(pool->conns);
    free(pool->url);
    free(pool);
}

static void conn_close(db_conn *c)
{
    if (c->pg) PQfinish(c->pg);
    c->pg = NULL;
    stmt_set_clear(&c->prepared);
}

/* Connects c; called without the pool lock held (a connect can take seconds). The URL comes after the
 * application name, so an application_name in the URL (to tell replicas apart in pg_stat_activity) wins. */
static int conn_open(db_pool *pool, db_conn *c)
{
    const char *keys[] = {"application_name", "dbname", "connect_timeout", "options", NULL};
    const char *vals[] = {"campaignd", pool->url, "3", pool->options, NULL};
    c->pg = PQconnectdbParams(keys, vals, 1);
    stmt_set_clear(&c->prepared);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* not logged here: the layer that answers (503) or gives up logs it once, with this cause */
        log_note_cause("database connection failed: %s", PQerrorMessage(c->pg));
        conn_close(c);
        return -1;
    }
    return 0;
}

app_err db_acquire(db_pool *pool, db_conn **out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DB_ACQUIRE_WAIT_MS / 1000;

    pthread_mutex_lock(&pool->lock);
    db_conn *c = NULL;
    int waited = 0;
    for (;;) {
        /* Prefer a connection that is already open. */
        for (unsigned i = 0; i < pool->size && !c; i++)
            if (!pool->conns[i].in_use && pool->conns[i].pg) c = &pool->conns[i];
        for (unsigned i = 0; i < pool->size && !c; i++)
            if (!pool->conns[i].in_use) c = &pool->conns[i];
        if (c) break;
        if (!waited) {
            waited = 1;
            atomic_fetch_add(&pool_waits, 1);
        }
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->lock);
            log_note_cause("database pool exhausted after %d ms", DB_ACQUIRE_WAIT_MS);
            return APP_ERR_UNAVAILABLE;
        }
    }
    if (!c->pg && now_ms() - pool->last_connect_failure_ms < DB_RECONNECT_BACKOFF_MS &&
        pool->last_connect_failure_ms) {
        pthread_mutex_unlock(&pool->lock);
        log_note_cause("the database could not be reached less than %d ms ago", DB_RECONNECT_BACKOFF_MS);
        return APP_ERR_UNAVAILABLE;
    }
    c->in_use = 1;
    pool->in_use++;
    pthread_mutex_unlock(&pool->lock);

    if (!c->pg && conn_open(pool, c) != 0) {
        pthread_mutex_lock(&pool->lock);
        pool->last_connect_failure_ms = now_ms();
        c->in_use = 0;
        pool->in_use--;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
        return APP_ERR_UNAVAILABLE;
    }
    c->fresh = 1;
    *out = c;
    return APP_OK;
}

static void queue_clear(db_conn *c);

void db_release(db_pool *pool, db_conn *c)
{
    if (!c) return;
    queue_clear(c);
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK) conn_close(c);
    if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) conn_close(c);
    }
    pthread_mutex_lock(&pool->lock);
    c->in_use = 0;
    pool->in_use--;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

void db_pool_stats(db_pool *pool, unsigned *size, unsigned *in_use)
{
    pthread_mutex_lock(&pool->lock);
    *size = pool->size;
    *in_use = pool->in_use;
    pthread_mutex_unlock(&pool->lock);
}

/* Maps a failed result to an error through the error table, filling *why when
 * given. Logs nothing at error level: a 5xx is logged once, by the layer that
 * replies (it gets the database's message through log_note_cause). */
static app_err result_error(db_conn *c, PGresult *res, const char *what, int deleting, app_refusal *why)
{
    app_refusal local = {0};
    if (!why) why = &local;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    app_err e;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_note_cause("database connection lost during %s: %s", what, PQerrorMessage(c->pg));
        conn_close(c);
        app_refusal_set(why, APP_ERR_UNAVAILABLE);
        e = APP_ERR_UNAVAILABLE;
    } else {
        e = app_refusal_from_db(why, state, cons, detail, deleting);
        log_note_cause("%s failed: SQLSTATE %s%s%s: %s", what, state ? state : "-", cons ? " constraint " : "",
                       cons ? cons : "", msg ? msg : PQerrorMessage(c->pg));
    }
    app_refusal_clear(&local);
    return e;
}

app_err db_write_row(db_conn *conn, const db_stmt *stmt, const char *const *params, char **first, char *second,
                     size_t second_size, app_refusal *why)
{
    PGresult *res = NULL;
    app_err e = db_write(conn, stmt, params, &res, why);
    if (e) return e;
    char *copy = NULL;
    if (PQntuples(res) != 1) e = APP_ERR_NOT_FOUND;
    else if (!(copy = strdup(PQgetvalue(res, 0, 0)))) e = APP_ERR_INTERNAL;
    else {
        *first = copy;
        if (second) snprintf(second, second_size, "%s", PQnfields(res) > 1 ? PQgetvalue(res, 0, 1) : "");
    }
    PQclear(res);
    if (e && why) app_refusal_set(why, e); /* not refused: no row, or no memory */
    return e;
}

void db_doc_free(db_doc *d)
{
    if (!d) return;
    free(d->json);
    memset(d, 0, sizeof *d);
}

app_err db_doc_take(PGresult *res, db_doc *doc, char id_out[37])
{
    char *copy = NULL;
    if (!res || PQntuples(res) != 1 || PQnfields(res) < (id_out ? 3 : 2)) return APP_ERR_NOT_FOUND;
    if (!(copy = strdup(PQgetvalue(res, 0, 0)))) return APP_ERR_INTERNAL;
    memset(doc, 0, sizeof *doc);
    doc->json = copy;
    doc->version = atoi(PQgetvalue(res, 0, 1));
    if (id_out) snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 2));
    return APP_OK;
}

app_err db_doc_row(db_conn *conn, const db_stmt *stmt, const char *const *params, db_doc *doc, char id_out[37],
                   app_refusal *why)
{
    PGresult *res = NULL;
    app_err e = db_write(conn, stmt, params, &res, why);
    if (e) return e;
    e = db_doc_take(res, doc, id_out);
    PQclear(res);
    if (e && why) app_refusal_set(why, e);
    return e;
}

app_err db_lock_row(db_conn *conn, const db_stmt *stmt, const char *const *params, db_doc *doc)
{
    PGresult *res = NULL;
    app_err e = db_exec(conn, stmt, params, &res);
    if (e) return e;
    char *copy = NULL;
    if (PQntuples(res) != 1 || PQnfields(res) < 2) e = APP_ERR_NOT_FOUND;
    else if (!(copy = strdup(PQgetvalue(res, 0, 0)))) e = APP_ERR_INTERNAL;
    else {
        memset(doc, 0, sizeof *doc);
        doc->json = copy;
        doc->version = atoi(PQgetvalue(res, 0, 1));
        if (PQnfields(res) > 2) snprintf(doc->owner, sizeof doc->owner, "%s", PQgetvalue(res, 0, 2));
        if (PQnfields(res) > 3) snprintf(doc->kind, sizeof doc->kind, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    return e;
}

app_err db_one_row(db_conn *conn, const db_stmt *stmt, const char *const *params, char **first, char *second,
                   size_t second_size)
{
    return db_write_row(conn, stmt, params, first, second, second_size, NULL);
}

/* A DELETE that breaks a foreign key leaves rows referencing the deleted one;
 * any other statement that does wrote a row naming a missing parent. */
static int is_delete(const db_stmt *stmt) { return strncmp(stmt->sql, "DELETE", 6) == 0; }

app_err db_exec(db_conn *c, const db_stmt *stmt, const char *const *params, PGresult **out)
{
    return db_write(c, stmt, params, out, NULL);
}

/* Replaces c's lost connection with a new one (the pool's connect back-off
 * applies). 0, or -1 with c->pg NULL. */
static int conn_reopen(db_conn *c)
{
    db_pool *pool = c->pool;
    char lost[256];
    const char *msg = PQerrorMessage(c->pg);
    snprintf(lost, sizeof lost, "%.*s", (int)strcspn(msg, "\n"), msg);
    conn_close(c);
    pthread_mutex_lock(&pool->lock);
    int backing_off =
        pool->last_connect_failure_ms && now_ms() - pool->last_connect_failure_ms < DB_RECONNECT_BACKOFF_MS;
    pthread_mutex_unlock(&pool->lock);
    if (!backing_off && conn_open(pool, c) == 0) {
        /* answered normally: a warning, not an error */
        log_warning("database connection lost while pooled (%s); reconnected", lost);
        return 0;
    }
    if (backing_off) {
        /* the 503's one log line names this cause (conn_open noted its own otherwise) */
        log_note_cause("database connection lost while pooled (%s); "
                       "the database could not be reached less than %d ms ago",
                       lost, DB_RECONNECT_BACKOFF_MS);
    } else {
        pthread_mutex_lock(&pool->lock);
        pool->last_connect_failure_ms = now_ms();
        pthread_mutex_unlock(&pool->lock);
    }
    return -1;
}

static int result_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* Whether a failed first statement may be sent again on a new connection:
 * the connection is gone and nothing of this checkout reached the database
 * before, so no transaction of the caller's is lost (a pooled connection
 * whose server restarted or was terminated while it sat idle). */
static int retry_on_new_connection(db_conn *c)
{
    if (!c->fresh || PQstatus(c->pg) == CONNECTION_OK) return 0;
    c->fresh = 0;
    return 1;
}

static void queue_clear(db_conn *c)
{
    for (int i = 0; i < c->nqueued; i++) {
        deferred *d = &c->queue[i];
        for (int p = 0; d->params && p < d->stmt->nparams; p++) free(d->params[p]);
        free(d->params);
        if (d->keep) *d->keep = NULL;
    }
    memset(c->queue, 0, sizeof c->queue);
    c->nqueued = 0;
    c->commit_next = 0;
}

/* One command of a round trip: a queued one, the awaited statement, or COMMIT. */
typedef struct command {
    const db_stmt *stmt;
    const char *sql;
    const char *const *params;
    int prepare;          /* PREPARE it first (its first use on this connection) */
    int sync;             /* a sync follows it: the statements since the previous sync are one transaction */
    PGresult *prepared;   /* the PREPARE's result */
    PGresult *result;     /* the execution's result */
} command;

/* Sends cmds[0..n) in one pipeline and reads every result into them: a sync after each command that asks for
 * one, and after the last. 0, or -1 when the connection broke (what was read is kept). */
static int send_pipeline(db_conn *c, command *cmds, int n)
{
    PGconn *pg = c->pg;
    atomic_fetch_add(&round_trips, 1);
    if (!PQenterPipelineMode(pg)) return -1;
    int ok = 1;
    for (int i = 0; ok && i < n; i++) {
        command *m = &cmds[i];
        if (!m->stmt) ok = PQsendQueryParams(pg, m->sql, 0, NULL, NULL, NULL, NULL, 0);
        else {
            if (m->prepare) ok = PQsendPrepare(pg, m->stmt->name, m->stmt->sql, m->stmt->nparams, NULL);
            if (ok) ok = PQsendQueryPrepared(pg, m->stmt->name, m->stmt->nparams, m->params, NULL, NULL, 0);
        }
        if (ok && (m->sync || i == n - 1)) ok = PQpipelineSync(pg);
    }
    if (ok && n == 0) ok = PQpipelineSync(pg);
    for (int i = 0; ok && i < n; i++) {
        command *m = &cmds[i];
        PGresult **slots[2] = {m->prepare ? &m->prepared : NULL, &m->result};
        for (int k = 0; ok && k < 2; k++) {
            if (!slots[k]) continue;
            PGresult *r = PQgetResult(pg);
            if (!r) { ok = 0; break; }
            *slots[k] = r;
            PGresult *end = PQgetResult(pg); /* each command's results end with NULL */
            if (end) { PQclear(end); ok = 0; }
        }
        if (ok && (m->sync || i == n - 1)) {
            PGresult *sync = PQgetResult(pg);
            ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
            PQclear(sync);
        }
    }
    if (ok && n == 0) {
        PGresult *sync = PQgetResult(pg);
        ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
        PQclear(sync);
    }
    if (ok) ok = PQexitPipelineMode(pg);
    return ok && PQstatus(pg) == CONNECTION_OK ? 0 : -1;
}

/* Marks the commands whose statement is not prepared on c yet (once each: the first use in the pipeline) and
 * makes room to record them. The number to prepare, or -1 out of memory. */
static long commands_mark_prepare(db_conn *c, command *cmds, int n)
{
    size_t unprepared = 0;
    for (int i = 0; i < n; i++) {
        cmds[i].prepare = cmds[i].stmt && !stmt_set_has(&c->prepared, cmds[i].stmt);
        for (int j = 0; cmds[i].prepare && j < i; j++)
            if (cmds[j].stmt == cmds[i].stmt) cmds[i].prepare = 0; /* prepared earlier in this pipeline */
        unprepared += (size_t)cmds[i].prepare;
    }
    return stmt_set_reserve_n(&c->prepared, unprepared) != 0 ? -1 : (long)unprepared;
}

/* Records the statements that the pipeline prepared. */
static void commands_record_prepared(db_conn *c, command *cmds, int n)
{
    for (int i = 0; i < n; i++)
        if (cmds[i].prepare && cmds[i].prepared && PQresultStatus(cmds[i].prepared) == PGRES_COMMAND_OK)
            stmt_set_put(&c->prepared, cmds[i].stmt);
}

static void commands_clear(command *cmds, int n)
{
    for (int i = 0; i < n; i++) {
        PQclear(cmds[i].prepared);
        PQclear(cmds[i].result);
        cmds[i].prepared = cmds[i].result = NULL;
    }
}

/* One round trip: the queued statements, then stmt (may be NULL), then COMMIT
 * when asked; *out (if not NULL) gets stmt's result. The first failure is the
 * error (later commands are skipped by the server); the queue is emptied and
 * queued results kept where asked, either way. */
static app_err run_batch(db_conn *c, const db_stmt *stmt, const char *const *params, int commit, PGresult **out,
                         app_refusal *why)
{
    command cmds[DB_MAX_DEFERRED + 2];
    int n = 0, fresh = c->fresh, awaited = -1;
    app_err e = APP_OK;
    for (int i = 0; i < c->nqueued; i++)
        cmds[n++] = (command){c->queue[i].stmt, c->queue[i].sql, (const char *const *)c->queue[i].params, 0, 0,
                              NULL, NULL};
    if (stmt) {
        awaited = n;
        cmds[n++] = (command){stmt, NULL, params, 0, 0, NULL, NULL};
    }
    if (commit) cmds[n++] = (command){NULL, "COMMIT", NULL, 0, 0, NULL, NULL};
    c->commit_next = 0;
    if (!c->pg) { e = APP_ERR_UNAVAILABLE; goto out; }
    for (int attempt = 0;; attempt++) {
        if (commands_mark_prepare(c, cmds, n) < 0) {
            log_note_cause("%s: out of memory", stmt ? stmt->name : "pipeline");
            e = APP_ERR_INTERNAL;
            goto out;
        }
        int broken = send_pipeline(c, cmds, n) != 0;
        c->fresh = 0;
        commands_record_prepared(c, cmds, n);
        /* A pooled connection found lost by the first round trip of a checkout: nothing of the caller's
         * reached the database, so the whole pipeline is sent again once on a new connection. */
        if (broken && fresh && attempt == 0 && PQstatus(c->pg) != CONNECTION_OK) {
            commands_clear(cmds, n);
            if (conn_reopen(c) != 0) { e = APP_ERR_UNAVAILABLE; goto out; }
            continue;
        }
        for (int i = 0; i < n && !e; i++) {
            command *m = &cmds[i];
            PGresult *bad = m->prepared && PQresultStatus(m->prepared) != PGRES_COMMAND_OK ? m->prepared
                            : !m->result || !result_ok(m->result)                       ? m->result
                                                                                          : NULL;
            if (!bad && (m->result || !broken)) continue;
            if (bad && PQresultStatus(bad) == PGRES_PIPELINE_ABORTED) continue;
            const char *name = m->stmt ? m->stmt->name : m->sql;
            e = result_error(c, bad, name, m->stmt && bad == m->result && is_delete(m->stmt), why);
        }
        if (!e && broken) e = result_error(c, NULL, stmt ? stmt->name : "pipeline", 0, why);
        /* A pipeline that broke off with the connection still up may leave results unread: never reuse it. */
        if (broken && c->pg) {
            log_note_cause("%s: the pipeline broke off: %s", stmt ? stmt->name : "pipeline", PQerrorMessage(c->pg));
            conn_close(c);
            if (!e) e = APP_ERR_UNAVAILABLE;
        }
        break;
    }
    if (!e) {
        for (int i = 0; i < c->nqueued; i++)
            if (c->queue[i].keep) {
                *c->queue[i].keep = cmds[i].result;
                cmds[i].result = NULL;
                c->queue[i].keep = NULL;
            }
        if (out && awaited >= 0) {
            *out = cmds[awaited].result;
            cmds[awaited].result = NULL;
        }
    }
out:
    commands_clear(cmds, n);
    queue_clear(c);
    if (e && why && !why->err) app_refusal_set(why, e);
    return e;
}

/* Fills r from a read's result: one row (document, version), or none. */
static void read_take(db_read *r, PGresult *res)
{
    if (PQntuples(res) != 1 || PQnfields(res) < 2) { r->err = APP_ERR_NOT_FOUND; return; }
    if (!(r->doc.json = strdup(PQgetvalue(res, 0, 0)))) { r->err = APP_ERR_INTERNAL; return; }
    r->doc.version = atoi(PQgetvalue(res, 0, 1));
    r->err = APP_OK;
}

void db_read_docs(db_conn *c, db_read *reads, size_t n)
{
    command *cmds = calloc(n, sizeof *cmds);
    const char *(*pv)[2] = calloc(n, sizeof *pv);
    size_t *which = calloc(n, sizeof *which);
    unsigned char *answered = calloc(n, 1);
    size_t left = n;
    int fresh = c->fresh;
    for (size_t i = 0; i < n; i++) {
        memset(&reads[i].doc, 0, sizeof reads[i].doc);
        reads[i].err = cmds && pv && which && answered ? APP_ERR_UNAVAILABLE : APP_ERR_INTERNAL;
    }
    if (!cmds || !pv || !which || !answered) { log_note_cause("reads: out of memory"); goto out; }
    if (c->nqueued && run_batch(c, NULL, NULL, 0, NULL, NULL) != APP_OK) goto out;
    /* Each round answers at least one read: after the first failure of a pipeline the rest are aborted. */
    for (size_t round = 0; left && round <= n && c->pg; round++) {
        size_t m = 0, unprepared = 0;
        for (size_t i = 0; i < n; i++) {
            if (answered[i]) continue;
            pv[m][0] = reads[i].org;
            pv[m][1] = reads[i].id;
            which[m] = i;
            cmds[m] = (command){reads[i].stmt, NULL, pv[m], 0, 0, NULL, NULL};
            cmds[m].prepare = !stmt_set_has(&c->prepared, reads[i].stmt);
            for (size_t j = 0; cmds[m].prepare && j < m; j++)
                if (cmds[j].stmt == cmds[m].stmt) cmds[m].prepare = 0; /* prepared earlier in this pipeline */
            unprepared += (size_t)cmds[m].prepare;
            m++;
        }
        if (stmt_set_reserve_n(&c->prepared, unprepared) != 0) {
            log_note_cause("reads: out of memory");
            for (size_t i = 0; i < n; i++)
                if (!answered[i]) reads[i].err = APP_ERR_INTERNAL;
            goto out;
        }
        int broken = send_pipeline(c, cmds, (int)m) != 0;
        c->fresh = 0;
        for (size_t k = 0; k < m; k++)
            if (cmds[k].prepare && cmds[k].prepared && PQresultStatus(cmds[k].prepared) == PGRES_COMMAND_OK)
                stmt_set_put(&c->prepared, cmds[k].stmt);
        /* A pooled connection found lost by the checkout's first round trip: sent again on a new one. */
        if (broken && fresh && round == 0 && PQstatus(c->pg) != CONNECTION_OK) {
            commands_clear(cmds, (int)m);
            fresh = 0;
            if (conn_reopen(c) != 0) goto out;
            continue; /* n rounds are left for n reads */
        }
        fresh = 0;
        for (size_t k = 0; k < m; k++) {
            command *cm = &cmds[k];
            db_read *r = &reads[which[k]];
            PGresult *bad = cm->prepared && PQresultStatus(cm->prepared) != PGRES_COMMAND_OK ? cm->prepared
                            : cm->result && !result_ok(cm->result)                         ? cm->result
                                                                                             : NULL;
            if (!bad && !cm->result) continue; /* never answered: the pipeline broke off */
            if (bad && PQresultStatus(bad) == PGRES_PIPELINE_ABORTED) continue; /* sent again next round */
            if (bad) r->err = result_error(c, bad, cm->stmt->name, 0, NULL);
            else read_take(r, cm->result);
            answered[which[k]] = 1;
            left--;
        }
        commands_clear(cmds, (int)m);
        if (broken) {
            if (c->pg) {
                log_note_cause("reads: the pipeline broke off: %s", PQerrorMessage(c->pg));
                conn_close(c);
            }
            break; /* the reads left are 503s */
        }
    }
out:
    free(cmds);
    free(pv);
    free(which);
    free(answered);
}

/* A request's statements taken off a connection's queue, to go with other requests' in one round trip. */
struct db_queue {
    deferred items[DB_MAX_DEFERRED];
    int n;
    int commit;       /* COMMIT after them (db_commit_with_next) */
    int shared;       /* reads only: may share their sync with other such queues */
    app_err err;      /* after db_run_queues */
    app_refusal why;
};

db_queue *db_queue_take(db_conn *c, int reads)
{
    db_queue *q = calloc(1, sizeof *q);
    if (!q) {
        queue_clear(c);
        return NULL;
    }
    memcpy(q->items, c->queue, sizeof c->queue);
    q->n = c->nqueued;
    q->commit = c->commit_next;
    q->shared = reads && !q->commit;
    memset(c->queue, 0, sizeof c->queue);
    c->nqueued = 0;
    c->commit_next = 0;
    return q;
}

app_err db_queue_result(db_queue *q, app_refusal *why)
{
    if (why) {
        *why = q->why;
        memset(&q->why, 0, sizeof q->why);
    }
    return q->err;
}

void db_queue_free(db_queue *q)
{
    if (!q) return;
    for (int i = 0; i < q->n; i++) {
        deferred *d = &q->items[i];
        for (int p = 0; d->params && p < d->stmt->nparams; p++) free(d->params[p]);
        free(d->params);
        if (d->keep) *d->keep = NULL;
    }
    app_refusal_clear(&q->why);
    free(q);
}

/* Each queue's outcome from its commands' results (first[i]: where queue i's commands start in cmds): its first
 * failure, or the connection's loss when the pipeline broke off before its answers; the results of a queue that
 * succeeded go where its statements asked (keep). A queue whose statements another's failure aborted (a shared
 * sync) stays unanswered: 0 in answered[i]. */
static void queues_take_results(db_conn *c, db_queue **qs, size_t n, command *cmds, const int *first, int broken,
                                unsigned char *answered)
{
    for (size_t i = 0; i < n; i++) {
        db_queue *q = qs[i];
        int k0 = first[i], k1 = first[i] + q->n + q->commit, aborted = 0;
        app_err e = APP_OK;
        for (int k = k0; k < k1 && !e && !aborted; k++) {
            command *m = &cmds[k];
            PGresult *bad = m->prepared && PQresultStatus(m->prepared) != PGRES_COMMAND_OK ? m->prepared
                            : !m->result || !result_ok(m->result)                       ? m->result
                                                                                          : NULL;
            if (!bad && (m->result || !broken)) continue;
            if (bad && PQresultStatus(bad) == PGRES_PIPELINE_ABORTED) {
                aborted = q->shared; /* another queue's failure, before this one in their shared sync */
                continue;
            }
            const char *name = m->stmt ? m->stmt->name : m->sql;
            if (!c->pg) e = APP_ERR_UNAVAILABLE; /* the loss was met (and logged) by a queue before */
            else e = result_error(c, bad, name, m->stmt && bad == m->result && is_delete(m->stmt), &q->why);
        }
        if (aborted && !broken) continue;
        if (!e && broken && k1 > k0 && !cmds[k1 - 1].result) e = APP_ERR_UNAVAILABLE;
        answered[i] = 1;
        q->err = e;
        if (e && !q->why.err) app_refusal_set(&q->why, e);
        for (int k = k0; k < k0 + q->n; k++) {
            deferred *d = &q->items[k - k0];
            if (!d->keep) continue;
            *d->keep = e ? NULL : cmds[k].result;
            if (!e) cmds[k].result = NULL;
            d->keep = NULL;
        }
    }
}

/* The commands of the queues qs[0..n) (first[i]: where queue i's start); a sync after each queue but between two
 * that share one. Their number. */
static int queues_commands(db_queue **qs, size_t n, command *cmds, int *first)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        db_queue *q = qs[i];
        first[i] = k;
        for (int j = 0; j < q->n; j++)
            cmds[k++] = (command){q->items[j].stmt, q->items[j].sql, (const char *const *)q->items[j].params, 0, 0,
                                  NULL, NULL};
        if (q->commit) cmds[k++] = (command){NULL, "COMMIT", NULL, 0, 0, NULL, NULL};
        /* each queue its own transaction (one's failure is not another's), but reads may share one */
        if (k > first[i] && !(q->shared && i + 1 < n && qs[i + 1]->shared)) cmds[k - 1].sync = 1;
    }
    return k;
}

void db_run_queues(db_conn *c, db_queue **qs, size_t n)
{
    int total = 0, fresh = c->fresh;
    for (size_t i = 0; i < n; i++) total += qs[i]->n + qs[i]->commit;
    command *cmds = calloc((size_t)total + 1, sizeof *cmds);
    int *first = calloc(n + 1, sizeof *first);
    db_queue **left = calloc(n + 1, sizeof *left);
    unsigned char *answered = calloc(n + 1, 1);
    size_t nleft = n;
    if (!cmds || !first || !left || !answered || !c->pg || c->nqueued) {
        int oom = !cmds || !first || !left || !answered;
        if (oom) log_note_cause("batch: out of memory");
        for (size_t i = 0; i < n; i++) qs[i]->err = oom ? APP_ERR_INTERNAL : APP_ERR_UNAVAILABLE;
        goto out;
    }
    memcpy(left, qs, n * sizeof *left);
    /* Each round answers at least one queue: after the first failure in a shared sync the rest are sent again. */
    for (size_t round = 0; nleft && round <= n; round++) {
        int m = queues_commands(left, nleft, cmds, first);
        if (commands_mark_prepare(c, cmds, m) < 0) {
            log_note_cause("batch: out of memory");
            for (size_t i = 0; i < nleft; i++) left[i]->err = APP_ERR_INTERNAL;
            goto out;
        }
        int broken = send_pipeline(c, cmds, m) != 0;
        c->fresh = 0;
        commands_record_prepared(c, cmds, m);
        /* A pooled connection found lost by the checkout's first round trip: nothing reached the database, so
         * the whole pipeline is sent again once on a new connection (as run_batch does). */
        if (broken && fresh && round == 0 && PQstatus(c->pg) != CONNECTION_OK) {
            commands_clear(cmds, m);
            fresh = 0;
            if (conn_reopen(c) != 0) {
                for (size_t i = 0; i < nleft; i++) left[i]->err = APP_ERR_UNAVAILABLE;
                goto out;
            }
            continue;
        }
        fresh = 0;
        memset(answered, 0, nleft);
        queues_take_results(c, left, nleft, cmds, first, broken, answered);
        commands_clear(cmds, m);
        if (broken && c->pg) {
            log_note_cause("batch: the pipeline broke off: %s", PQerrorMessage(c->pg));
            conn_close(c);
        }
        size_t kept = 0;
        for (size_t i = 0; i < nleft; i++)
            if (!answered[i]) left[kept++] = left[i];
        nleft = kept;
        if (!c->pg) {
            for (size_t i = 0; i < nleft; i++) left[i]->err = APP_ERR_UNAVAILABLE;
            break;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        if (qs[i]->err && !qs[i]->why.err) app_refusal_set(&qs[i]->why, qs[i]->err);
    free(cmds);
    free(first);
    free(left);
    free(answered);
}

void db_kept_clear(db_kept *k)
{
    PQclear(k->res);
    k->res = NULL;
}

app_err db_send(db_conn *c, app_refusal *why)
{
    if (!c->nqueued && !c->commit_next) return APP_OK;
    return run_batch(c, NULL, NULL, c->commit_next, NULL, why);
}

app_err db_write(db_conn *c, const db_stmt *stmt, const char *const *params, PGresult **out, app_refusal *why)
{
    return run_batch(c, stmt, params, c->commit_next, out, why);
}

app_err db_defer(db_conn *c, const db_stmt *stmt, const char *const *params, PGresult **keep)
{
    if (keep) *keep = NULL;
    if (c->nqueued == DB_MAX_DEFERRED) {
        app_err e = run_batch(c, NULL, NULL, 0, NULL, NULL);
        if (e) return e;
    }
    deferred *d = &c->queue[c->nqueued];
    if (stmt && stmt->nparams > 0) {
        if (!(d->params = calloc((size_t)stmt->nparams, sizeof *d->params))) return APP_ERR_INTERNAL;
        d->stmt = stmt; /* queue_clear frees what was copied so far */
        c->nqueued++;
        for (int p = 0; p < stmt->nparams; p++)
            if (params[p] && !(d->params[p] = strdup(params[p]))) return APP_ERR_INTERNAL;
    } else {
        d->stmt = stmt;
        c->nqueued++;
    }
    d->sql = stmt ? NULL : "BEGIN";
    d->keep = keep;
    return APP_OK;
}

void db_commit_with_next(db_conn *c) { c->commit_next = 1; }

int db_sent(const db_conn *c) { return !c->fresh; }

app_err db_exec_script(db_conn *c, const char *sql)
{
    if (!c->pg) return APP_ERR_UNAVAILABLE;
    if (c->nqueued) {
        app_err e = run_batch(c, NULL, NULL, 0, NULL, NULL);
        if (e) return e;
    }
    atomic_fetch_add(&round_trips, 1);
    PGresult *res = PQexec(c->pg, sql);
    if (!result_ok(res) && retry_on_new_connection(c)) {
        PQclear(res);
        if (conn_reopen(c) != 0) return APP_ERR_UNAVAILABLE;
        res = PQexec(c->pg, sql);
    }
    c->fresh = 0;
    app_err e = result_ok(res) ? APP_OK : result_error(c, res, "script", 0, NULL);
    PQclear(res);
    return e;
}

app_err db_begin(db_conn *c) { return db_defer(c, NULL, NULL, NULL); }

app_err db_commit(db_conn *c)
{
    /* Committed already with the statement before it (db_commit_with_next). */
    if (!c->nqueued && c->pg && PQtransactionStatus(c->pg) == PQTRANS_IDLE) return APP_OK;
    return run_batch(c, NULL, NULL, 1, NULL, NULL);
}

void db_rollback(db_conn *c)
{
    if (!c) return;
    queue_clear(c); /* never sent: nothing to undo */
    if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        atomic_fetch_add(&round_trips, 1);
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
}

PGconn *db_conn_pg(db_conn *c) { return c->pg; }
