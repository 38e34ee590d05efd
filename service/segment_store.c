/* segment_store.c — see segment_store.h. */
#define _GNU_SOURCE
#include "segment_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The segment as the API shows it; inline in each statement (see campaign_store.c). */
#define SEGMENT_DOC                                                                                        \
    "json_build_object('id', t.id, 'name', t.name, 'description', t.description,"                          \
    " 'estimated_size', t.estimated_size, 'parent_id', t.parent_id, 'version', t.version,"                 \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt segment_store_get_stmt = {
    "segment_get", "SELECT " SEGMENT_DOC ", t.version FROM segments t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_lock = {
    "segment_lock", "SELECT " SEGMENT_DOC ", t.version FROM segments t WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE",
    2};
static const db_stmt q_insert = {
    "segment_insert",
    "INSERT INTO segments AS t (org_id, name, description, estimated_size, parent_id)"
    " SELECT $1, d->>'name', d->>'description', (d->>'estimated_size')::bigint, (d->>'parent_id')::uuid"
    " FROM (SELECT $2::jsonb AS d) p RETURNING " SEGMENT_DOC ", t.version, t.id::text",
    2};
static const db_stmt q_update = {
    "segment_update",
    "UPDATE segments t SET"
    " name = CASE WHEN d ? 'name' THEN d->>'name' ELSE t.name END,"
    " description = CASE WHEN d ? 'description' THEN d->>'description' ELSE t.description END,"
    " estimated_size = CASE WHEN d ? 'estimated_size' THEN (d->>'estimated_size')::bigint ELSE t.estimated_size END,"
    " parent_id = CASE WHEN d ? 'parent_id' THEN (d->>'parent_id')::uuid ELSE t.parent_id END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " SEGMENT_DOC ", t.version",
    3};
static const db_stmt q_delete = {"segment_delete", "DELETE FROM segments WHERE " DB_BY_KEY("segments", "$2", "$1"), 2};

/* A segment's declared overlaps, both sides of each pair, by the other segment's id; the segment's version is
 * the set's ETag. */
static const db_stmt q_overlaps = {
    "segment_overlaps_get",
    "SELECT json_build_object('segment_id', t.id, 'overlaps', coalesce((SELECT json_agg(json_build_object("
    "  'segment_id', x.other, 'ratio', x.ratio::float8) ORDER BY x.other) FROM ("
    "  SELECT o.segment_b AS other, o.ratio FROM segment_overlaps o WHERE o.segment_a = t.id"
    "  UNION ALL SELECT o.segment_a, o.ratio FROM segment_overlaps o WHERE o.segment_b = t.id) x), '[]'::json),"
    " 'version', t.version)::text, t.version FROM segments t WHERE " DB_BY_KEY("t", "$2", "$1"),
    2};
static const db_stmt q_overlaps_put = {
    "segment_overlaps_put", "SELECT segment_overlaps_put($1, $2::uuid, $3::jsonb->'overlaps')", 3};

static const sort_spec segment_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
    {"name", "t.name", "text"},
};
const char *const segment_sort_names[] = {"created_at", "name", NULL};

static list_query segment_list = {
    .name = "segment_list",
    .projection = SEGMENT_DOC,
    .from = "segments t",
    .where = "t.org_id = $1 AND ($2::uuid IS NULL OR t.parent_id = $2::uuid)"
             " AND ($3::text IS NULL OR strpos(lower(t.name), lower($3)) > 0)",
    .nfilters = 3,
    .sorts = segment_sorts,
    .nsorts = sizeof segment_sorts / sizeof segment_sorts[0],
};

app_err segment_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &segment_store_get_stmt, params, doc, NULL, NULL);
}

app_err segment_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err segment_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                             app_refusal *why)
{
    const char *params[] = {org, body_json};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err segment_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

app_err segment_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why)
{
    const char *params[] = {org, id};
    return db_write(conn, &q_delete, params, NULL, why);
}

app_err segment_store_list(db_conn *conn, const char *org, const char *parent_id, const char *q, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, parent_id, q};
    return list_query_run(conn, &segment_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err segment_store_overlaps(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &q_overlaps, params, doc, NULL, NULL);
}

app_err segment_store_put_overlaps(db_conn *conn, const char *org, const char *id, const char *body_json,
                                   db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, id, body_json};
    app_err e = db_write(conn, &q_overlaps_put, params, NULL, why);
    return e ? e : db_doc_row(conn, &q_overlaps, params, doc, NULL, why);
}
