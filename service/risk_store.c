/* risk_store.c — see risk_store.h. */
#define _GNU_SOURCE
#include "risk_store.h"

#include <string.h>

/* The risk as the API shows it; inline in each statement (see campaign_store.c). */
#define RISK_DOC                                                                                          \
    "json_build_object('id', t.id, 'campaign_id', t.campaign_id, 'title', t.title, 'category', t.category," \
    " 'probability', t.probability, 'impact', t.impact, 'score', t.score, 'level', t.level,"              \
    " 'mitigation', t.mitigation, 'owner', t.owner, 'status', t.status, 'due_date', t.due_date,"          \
    " 'notes', t.notes, 'version', t.version, 'created_by', t.created_by,"                                \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

static const db_stmt q_get = {
    "risk_get", "SELECT " RISK_DOC ", t.version FROM risks t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_lock = {
    "risk_lock",
    "SELECT " RISK_DOC ", t.version, c.owner FROM risks t JOIN campaigns c ON c.org_id = t.org_id"
    " AND c.id = t.campaign_id WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE OF t",
    2};
static const db_stmt q_insert = {
    "risk_insert",
    "INSERT INTO risks AS t (org_id, campaign_id, title, category, probability, impact, mitigation, owner,"
    " status, due_date, notes, created_by)"
    " SELECT $1, (d->>'campaign_id')::uuid, d->>'title', d->>'category', (d->>'probability')::smallint,"
    " (d->>'impact')::smallint, d->>'mitigation', coalesce(d->>'owner', $2), coalesce(d->>'status', 'open'),"
    " (d->>'due_date')::date, d->>'notes', $2"
    " FROM (SELECT $3::jsonb AS d) p RETURNING " RISK_DOC ", t.version, t.id::text",
    3};
static const db_stmt q_update = {
    "risk_update",
    "UPDATE risks t SET"
    " title = CASE WHEN d ? 'title' THEN d->>'title' ELSE t.title END,"
    " category = CASE WHEN d ? 'category' THEN d->>'category' ELSE t.category END,"
    " probability = CASE WHEN d ? 'probability' THEN (d->>'probability')::smallint ELSE t.probability END,"
    " impact = CASE WHEN d ? 'impact' THEN (d->>'impact')::smallint ELSE t.impact END,"
    " mitigation = CASE WHEN d ? 'mitigation' THEN d->>'mitigation' ELSE t.mitigation END,"
    " owner = CASE WHEN d ? 'owner' THEN d->>'owner' ELSE t.owner END,"
    " status = CASE WHEN d ? 'status' THEN d->>'status' ELSE t.status END,"
    " due_date = CASE WHEN d ? 'due_date' THEN (d->>'due_date')::date ELSE t.due_date END,"
    " notes = CASE WHEN d ? 'notes' THEN d->>'notes' ELSE t.notes END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " RISK_DOC ", t.version",
    3};
static const db_stmt q_delete = {"risk_delete", "DELETE FROM risks WHERE " DB_BY_KEY("risks", "$2", "$1"), 2};

static const sort_spec risk_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
    {"score", "t.score", "smallint"},
    {"title", "t.title", "text"},
};
const char *const risk_sort_names[] = {"created_at", "score", "title", NULL};

static list_query risk_list = {
    .name = "risk_list",
    .projection = RISK_DOC,
    .from = "risks t",
    .where = "t.org_id = $1 AND ($2::uuid IS NULL OR t.campaign_id = $2::uuid)"
             " AND ($3::text[] IS NULL OR t.category = ANY ($3::text[]))"
             " AND ($4::text[] IS NULL OR t.status = ANY ($4::text[]))"
             " AND ($5::text[] IS NULL OR t.level = ANY ($5::text[]))"
             " AND ($6::text IS NULL OR t.owner = $6)",
    .nfilters = 6,
    .sorts = risk_sorts,
    .nsorts = sizeof risk_sorts / sizeof risk_sorts[0],
};

app_err risk_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &q_get, params, doc, NULL, NULL);
}

app_err risk_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err risk_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                          char id_out[37], app_refusal *why)
{
    const char *params[] = {org, actor, body_json};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err risk_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                          app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

app_err risk_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    memset(doc, 0, sizeof *doc);
    const char *params[] = {org, id};
    return db_write(conn, &q_delete, params, NULL, why);
}

app_err risk_store_list(db_conn *conn, const char *org, const risk_filter *f, int sort, int desc,
                        const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->campaign_id, f->categories, f->statuses, f->levels, f->owner};
    return list_query_run(conn, &risk_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
