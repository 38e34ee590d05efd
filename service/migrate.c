/* migrate.c — see migrate.h. */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* An arbitrary constant naming campaignd's migration lock. */
#define MIGRATE_LOCK_KEY "7248310577"

static const db_stmt q_lock = {"migrate_lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0};
static const db_stmt q_unlock = {"migrate_unlock", "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0};
static const db_stmt q_applied = {"migrate_applied", "SELECT 1 FROM schema_migrations WHERE version = $1", 1};
static const db_stmt q_record = {"migrate_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2};
static const db_stmt q_current = {"migrate_current",
                                  "SELECT coalesce(max(version), 0) FROM schema_migrations", 0};

int migrate_latest_version(void)
{
    int v = 0;
    for (size_t i = 0; i < migrations_count; i++)
        if (migrations[i].version > v) v = migrations[i].version;
    return v;
}

app_err migrate_current_version(db_conn *conn, int *out)
{
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_current, NULL, &res);
    if (e) return e;
    *out = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return APP_OK;
}

static app_err apply_one(db_conn *conn, const migration *m, int *applied)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", m->version);
    const char *params[] = {ver, m->name};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_applied, params, &res);
    if (e) return e;
    int done = PQntuples(res) > 0;
    PQclear(res);
    if (done) return APP_OK;

    if ((e = db_begin(conn))) return e;
    if ((e = db_exec_script(conn, m->sql)) || (e = db_exec(conn, &q_record, params, NULL)) ||
        (e = db_commit(conn))) {
        log_error("migration %s failed: %s", m->name, log_cause());
        db_rollback(conn);
        return e;
    }
    log_info("applied migration %s", m->name);
    (*applied)++;
    return APP_OK;
}

app_err migrate_run(db_conn *conn, int *applied)
{
    *applied = 0;
    /* Migrations may run long and wait for another replica's lock. */
    app_err e = db_exec_script(conn, "SET statement_timeout = 0; SET lock_timeout = 0");
    if (!e) e = db_exec(conn, &q_lock, NULL, NULL);
    if (e) return e;
    e = db_exec_script(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             " version integer PRIMARY KEY, name text NOT NULL,"
                             " applied_at timestamptz NOT NULL DEFAULT now())");
    for (size_t i = 0; !e && i < migrations_count; i++) e = apply_one(conn, &migrations[i], applied);
    app_err ue = db_exec(conn, &q_unlock, NULL, NULL);
    if (!ue) ue = db_exec_script(conn, "RESET statement_timeout; RESET lock_timeout");
    return e ? e : ue;
}
