/* audit_store.c — see audit_store.h. */
#include "audit_store.h"

#define AUDIT_DOC                                                                                          \
    "json_build_object('id', t.id, 'at', t.at, 'actor', t.actor, 'actor_role', t.actor_role,"             \
    " 'action', t.action, 'entity', t.entity, 'entity_id', t.entity_id, 'request_id', t.request_id,"     \
    " 'before', t.before, 'after', t.after)::text"

static const sort_spec audit_sorts[] = {
    {"at", "t.at", "timestamptz"},
};
const char *const audit_sort_names[] = {"at", NULL};
const char *const audit_actions[] = {"create", "update", "delete", "status_change", NULL};

static list_query audit_list = {
    .name = "audit_list",
    .projection = AUDIT_DOC,
    .from = "audit_log t",
    .where = "t.org_id = $1 AND ($2::text IS NULL OR t.entity = $2) AND ($3::uuid IS NULL OR t.entity_id = $3::uuid)"
             " AND ($4::text IS NULL OR t.actor = $4) AND ($5::text[] IS NULL OR t.action = ANY ($5::text[]))"
             " AND ($6::timestamptz IS NULL OR t.at >= $6::timestamptz)"
             " AND ($7::timestamptz IS NULL OR t.at < $7::timestamptz)"
             " AND ($8::text IS NULL OR t.request_id = $8)",
    .nfilters = 8,
    .sorts = audit_sorts,
    .nsorts = sizeof audit_sorts / sizeof audit_sorts[0],
    .id_type = "bigint",
};

app_err audit_store_list(db_conn *conn, const char *org, const audit_filter *f, int sort, int desc,
                         const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->entity, f->entity_id, f->actor, f->actions, f->from, f->to, f->request_id};
    return list_query_run(conn, &audit_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
