/* audit_store.h — the audit trail as the API reads it. Entries are written by
 * the audit trigger of every audited table, in the changing transaction
 * (audit_row() in sql/migrations/0001_core.sql); this only reads them. */
#ifndef CAMPAIGND_AUDIT_STORE_H
#define CAMPAIGND_AUDIT_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const audit_sort_names[];
extern const char *const audit_actions[]; /* create, update, delete, status_change */

/* A list's filters: NULL is not filtered; actions is a PostgreSQL array
 * literal; from/to bound `at` to [from, to) (dates or RFC 3339 date-times). */
typedef struct audit_filter {
    const char *entity, *entity_id, *actor, *actions, *from, *to, *request_id;
} audit_filter;

app_err audit_store_list(db_conn *conn, const char *org, const audit_filter *f, int sort, int desc,
                         const char *cursor_key, const char *cursor_id, int limit, list_result *out);

#endif
