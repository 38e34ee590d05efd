/* migrate.h — forward-only schema migrations embedded from sql/migrations,
 * applied in order under a PostgreSQL advisory lock so replicas starting
 * together are safe (the second waits, then finds nothing left to do). */
#ifndef CAMPAIGND_MIGRATE_H
#define CAMPAIGND_MIGRATE_H

#include <stddef.h>

#include "db.h"

typedef struct migration {
    int version;      /* NNNN of NNNN_name.sql */
    const char *name; /* file name without .sql */
    const char *sql;
} migration;

extern const migration migrations[];
extern const size_t migrations_count;

/* Highest version compiled into this binary. */
int migrate_latest_version(void);

/* Applies pending migrations on conn; *applied counts the new ones. */
app_err migrate_run(db_conn *conn, int *applied);

/* Reads the highest applied version into *out (0 when none). */
app_err migrate_current_version(db_conn *conn, int *out);

#endif
