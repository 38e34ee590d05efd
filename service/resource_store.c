/* resource_store.c — see resource_store.h. */
#define _GNU_SOURCE
#include "resource_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The resource as the API shows it, inline in each statement (see campaign_store.c). */
#define RESOURCE_DOC                                                                                           \
    "json_build_object('id', t.id, 'kind', t.kind, 'name', t.name, 'capacity', t.capacity,"                    \
    " 'capacity_unit', t.capacity_unit, 'cost_per_unit', CASE WHEN t.cost_amount IS NOT NULL THEN"             \
    "  json_build_object('amount', t.cost_amount::text, 'currency', t.cost_currency) END,"                     \
    " 'skills', to_json(t.skills), 'notes', t.notes, 'active', t.active,"                                     \
    " 'frequency_cap', CASE WHEN t.frequency_cap_sends IS NOT NULL THEN"                                       \
    "  json_build_object('sends', t.frequency_cap_sends, 'days', t.frequency_cap_days) END, 'version', t.version," \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

#define AVAILABILITY_DOC                                                                                       \
    "json_build_object('id', t.id, 'resource_id', t.resource_id, 'kind', t.kind, 'start', lower(t.period),"    \
    " 'end', upper(t.period), 'note', t.note, 'created_by', t.created_by, 'created_at', t.created_at)::text"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt resource_store_get_stmt = {
    "resource_get", "SELECT " RESOURCE_DOC ", t.version FROM resources t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_lock = {
    "resource_lock", "SELECT " RESOURCE_DOC ", t.version, '', t.kind FROM resources t WHERE " DB_BY_KEY("t", "$2", "$1")
    " FOR NO KEY UPDATE",
    2};
static const db_stmt q_insert = {
    "resource_insert",
    "INSERT INTO resources AS t (org_id, kind, name, capacity, capacity_unit, cost_amount, cost_currency, skills,"
    " notes, active, frequency_cap_sends, frequency_cap_days)"
    " SELECT $1, d->>'kind', d->>'name', coalesce((d->>'capacity')::integer, 1),"
    " coalesce(d->>'capacity_unit', 'concurrent'), (d->'cost_per_unit'->>'amount')::numeric,"
    " d->'cost_per_unit'->>'currency', ARRAY(SELECT jsonb_array_elements_text(coalesce(d->'skills', '[]'))),"
    " d->>'notes', coalesce((d->>'active')::boolean, true), (d->'frequency_cap'->>'sends')::integer,"
    " (d->'frequency_cap'->>'days')::integer"
    " FROM (SELECT $2::jsonb AS d) p RETURNING " RESOURCE_DOC ", t.version, t.id::text",
    2};
static const db_stmt q_update = {
    "resource_update",
    "UPDATE resources t SET"
    " kind = CASE WHEN d ? 'kind' THEN d->>'kind' ELSE t.kind END,"
    " name = CASE WHEN d ? 'name' THEN d->>'name' ELSE t.name END,"
    " capacity = CASE WHEN d ? 'capacity' THEN (d->>'capacity')::integer ELSE t.capacity END,"
    " capacity_unit = CASE WHEN d ? 'capacity_unit' THEN d->>'capacity_unit' ELSE t.capacity_unit END,"
    " cost_amount = CASE WHEN d ? 'cost_per_unit' THEN (d->'cost_per_unit'->>'amount')::numeric ELSE t.cost_amount END,"
    " cost_currency = CASE WHEN d ? 'cost_per_unit' THEN d->'cost_per_unit'->>'currency' ELSE t.cost_currency END,"
    " skills = CASE WHEN d ? 'skills' THEN ARRAY(SELECT jsonb_array_elements_text(d->'skills')) ELSE t.skills END,"
    " notes = CASE WHEN d ? 'notes' THEN d->>'notes' ELSE t.notes END,"
    " active = CASE WHEN d ? 'active' THEN (d->>'active')::boolean ELSE t.active END,"
    " frequency_cap_sends = CASE WHEN d ? 'frequency_cap' THEN (d->'frequency_cap'->>'sends')::integer"
    "  ELSE t.frequency_cap_sends END,"
    " frequency_cap_days = CASE WHEN d ? 'frequency_cap' THEN (d->'frequency_cap'->>'days')::integer"
    "  ELSE t.frequency_cap_days END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " RESOURCE_DOC ", t.version",
    3};
static const db_stmt q_delete_unbooked = {
    "resource_delete_unbooked",
    "DELETE FROM resources t WHERE " DB_BY_KEY("t", "$2", "$1")
    " AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.resource_id = t.id)",
    2};
static const db_stmt q_deactivate = {
    "resource_deactivate",
    "UPDATE resources t SET active = false WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " RESOURCE_DOC ", t.version", 2};

static const sort_spec resource_sorts[] = {
    {"name", "t.name", "text"},
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const resource_sort_names[] = {"name", "created_at", NULL};

static list_query resource_list = {
    .name = "resource_list",
    .projection = RESOURCE_DOC,
    .from = "resources t",
    .where = "t.org_id = $1 AND ($2::text IS NULL OR t.kind = $2) AND ($3::boolean IS NULL OR t.active = $3::boolean)"
             " AND ($4::text IS NULL OR strpos(lower(t.name), lower($4)) > 0)"
             " AND ($5::text IS NULL OR $5 = ANY (t.skills))",
    .nfilters = 5,
    .sorts = resource_sorts,
    .nsorts = sizeof resource_sorts / sizeof resource_sorts[0],
};

static const db_stmt q_avail_insert = {
    "availability_insert",
    "INSERT INTO availability AS t (org_id, resource_id, kind, period, note, created_by)"
    " SELECT $1, $2, d->>'kind', tstzrange((d->>'start')::timestamptz, (d->>'end')::timestamptz, '[)'),"
    " d->>'note', $3 FROM (SELECT $4::jsonb AS d) p RETURNING " AVAILABILITY_DOC ", t.id::text",
    4};
static const db_stmt q_avail_delete = {
    "availability_delete", "DELETE FROM availability WHERE " DB_BY_KEY("availability", "$3", "$1") " AND resource_id = $2", 3};

static const sort_spec availability_sorts[] = {
    {"start", "lower(t.period)", "timestamptz"},
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const availability_sort_names[] = {"start", "created_at", NULL};

static list_query availability_list = {
    .name = "availability_list",
    .projection = AVAILABILITY_DOC,
    .from = "availability t",
    .where = "t.org_id = $1 AND t.resource_id = $2::uuid"
             " AND ($3::timestamptz IS NULL OR upper(t.period) > $3::timestamptz)"
             " AND ($4::timestamptz IS NULL OR lower(t.period) < $4::timestamptz)",
    .nfilters = 4,
    .sorts = availability_sorts,
    .nsorts = sizeof availability_sorts / sizeof availability_sorts[0],
};

app_err resource_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &resource_store_get_stmt, params, doc, NULL, NULL);
}

app_err resource_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err resource_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                              app_refusal *why)
{
    const char *params[] = {org, body_json};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err resource_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

app_err resource_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, id};
    PGresult *res = NULL;
    app_err e = db_write(conn, &q_delete_unbooked, params, &res, why);
    if (e) return e;
    int deleted = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    if (deleted) {
        memset(doc, 0, sizeof *doc);
        return APP_OK;
    }
    return db_doc_row(conn, &q_deactivate, params, doc, NULL, why);
}

app_err resource_store_list(db_conn *conn, const char *org, const resource_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->kind, f->active, f->q, f->skill};
    return list_query_run(conn, &resource_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err availability_store_insert(db_conn *conn, const char *org, const char *resource_id, const char *actor,
                                  const char *body_json, char **json, char id_out[37], app_refusal *why)
{
    const char *params[] = {org, resource_id, actor, body_json};
    return db_write_row(conn, &q_avail_insert, params, json, id_out, 37, why);
}

app_err availability_store_delete(db_conn *conn, const char *org, const char *resource_id, const char *id,
                                  app_refusal *why)
{
    const char *params[] = {org, resource_id, id};
    PGresult *res = NULL;
    app_err e = db_write(conn, &q_avail_delete, params, &res, why);
    if (e) return e;
    if (atoi(PQcmdTuples(res)) != 1) e = APP_ERR_NOT_FOUND;
    PQclear(res);
    return e;
}

app_err availability_store_list(db_conn *conn, const char *org, const char *resource_id, const char *from,
                                const char *to, int sort, int desc, const char *cursor_key, const char *cursor_id,
                                int limit, list_result *out)
{
    const char *filters[] = {org, resource_id, from, to};
    return list_query_run(conn, &availability_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
