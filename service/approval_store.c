/* approval_store.c — see approval_store.h. */
#define _GNU_SOURCE
#include "approval_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKFLOW_DOC                                                                                           \
    "json_build_object('id', t.id, 'name', t.name, 'description', t.description, 'steps', t.steps,"            \
    " 'distinct_deciders', t.distinct_deciders, 'active', t.active, 'version', t.version, 'created_by', t.created_by, 'created_at', t.created_at,"       \
    " 'updated_at', t.updated_at)::text"

/* Steps as stored: every step has its three keys. */
#define STEPS_OF(j)                                                                                            \
    "(SELECT jsonb_agg(jsonb_build_object('name', s->>'name', 'role', s->>'role', 'approver_sub',"             \
    " s->'approver_sub') ORDER BY n) FROM jsonb_array_elements(" j ") WITH ORDINALITY AS x(s, n))"

#define APPROVAL_DOC                                                                                           \
    "json_build_object('id', t.id, 'campaign_id', t.campaign_id, 'workflow_id', t.workflow_id,"                \
    " 'workflow_name', t.workflow_name, 'status', t.status, 'steps', t.steps,"                                 \
    " 'distinct_deciders', t.distinct_deciders,"                                                               \
    " 'current_step', CASE WHEN t.status = 'pending' THEN"                                                     \
    "  jsonb_build_object('index', t.current_step) || (t.steps -> t.current_step) END,"                        \
    " 'submitted_by', t.submitted_by, 'campaign_owner', t.campaign_owner, 'comment', t.comment,"               \
    " 'decisions', coalesce((SELECT json_agg(json_build_object('step', d.step, 'step_name', d.step_name,"     \
    "  'decision', d.decision, 'comment', d.comment, 'decided_by', d.decided_by, 'role', d.decided_role,"      \
    "  'as_admin', d.as_admin, 'decided_at', d.decided_at) ORDER BY d.step)"                                   \
    "  FROM approval_decisions d WHERE d.request_id = t.id), '[]'::json),"                                     \
    " 'version', t.version, 'created_at', t.created_at, 'updated_at', t.updated_at,"                          \
    " 'closed_at', t.closed_at)::text"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt workflow_store_get_stmt = {
    "workflow_get", "SELECT " WORKFLOW_DOC ", t.version FROM workflows t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_wf_lock = {
    "workflow_lock", "SELECT " WORKFLOW_DOC ", t.version FROM workflows t WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE", 2};
static const db_stmt q_wf_insert = {
    "workflow_insert",
    "INSERT INTO workflows AS t (org_id, name, description, steps, distinct_deciders, created_by)"
    " SELECT $1, d->>'name', d->>'description', " STEPS_OF("d->'steps'") ","
    " coalesce((d->>'distinct_deciders')::boolean, true), $2"
    " FROM (SELECT $3::jsonb AS d) p RETURNING " WORKFLOW_DOC ", t.version, t.id::text",
    3};
static const db_stmt q_wf_update = {
    "workflow_update",
    "UPDATE workflows t SET"
    " name = CASE WHEN d ? 'name' THEN d->>'name' ELSE t.name END,"
    " description = CASE WHEN d ? 'description' THEN d->>'description' ELSE t.description END,"
    " steps = CASE WHEN d ? 'steps' THEN " STEPS_OF("d->'steps'") " ELSE t.steps END,"
    " distinct_deciders = CASE WHEN d ? 'distinct_deciders' THEN (d->>'distinct_deciders')::boolean"
    "  ELSE t.distinct_deciders END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " WORKFLOW_DOC ", t.version",
    3};
static const db_stmt q_wf_delete_unused = {
    "workflow_delete_unused",
    "DELETE FROM workflows t WHERE " DB_BY_KEY("t", "$2", "$1")
    " AND NOT EXISTS (SELECT 1 FROM approval_requests r WHERE r.workflow_id = t.id)",
    2};
static const db_stmt q_wf_archive = {
    "workflow_archive", "UPDATE workflows t SET active = false WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " WORKFLOW_DOC ", t.version",
    2};

static const sort_spec workflow_sorts[] = {
    {"name", "t.name", "text"},
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const workflow_sort_names[] = {"name", "created_at", NULL};

static list_query workflow_list = {
    .name = "workflow_list",
    .projection = WORKFLOW_DOC,
    .from = "workflows t",
    .where = "t.org_id = $1 AND ($2::boolean IS NULL OR t.active = $2::boolean)"
             " AND ($3::text IS NULL OR strpos(lower(t.name), lower($3)) > 0)",
    .nfilters = 3,
    .sorts = workflow_sorts,
    .nsorts = sizeof workflow_sorts / sizeof workflow_sorts[0],
};

static const db_stmt q_submit = {
    "approval_submit",
    "INSERT INTO approval_requests AS t (org_id, campaign_id, workflow_id, workflow_name, steps,"
    " distinct_deciders, submitted_by, campaign_owner)"
    " SELECT w.org_id, $2, w.id, w.name, w.steps, w.distinct_deciders, $4, $5 FROM workflows w"
    " WHERE " DB_BY_KEY("w", "$3", "$1") " AND w.active RETURNING " APPROVAL_DOC ", t.version, t.id::text",
    5};
/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt approval_store_get_stmt = {
    "approval_get", "SELECT " APPROVAL_DOC ", t.version FROM approval_requests t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_lock = {
    "approval_lock", "SELECT " APPROVAL_DOC ", t.version FROM approval_requests t WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE",
    2};
static const db_stmt q_decide = {
    "approval_decide",
    "INSERT INTO approval_decisions (org_id, request_id, step, step_name, decision, comment, decided_by,"
    " decided_role, as_admin) VALUES ($1, $2, $3::integer, '', $4, $5, $6, $7, $8::boolean)",
    8};
/* A decision's reads, in one round trip (approval_store_lock_for_decision). */
static const db_stmt q_seen_version = {
    "approval_seen_version", "SELECT t.version FROM approval_requests t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_campaign_lock = {
    "approval_campaign_lock",
    "SELECT 1 FROM campaigns c WHERE c.id = (SELECT r.campaign_id FROM approval_requests r WHERE "
    DB_BY_KEY("r", "$2", "$1") ") AND (c.org_id = $1) IS TRUE FOR UPDATE",
    2};
static const db_stmt q_advance = {
    "approval_advance",
    "UPDATE approval_requests t SET status = $3, current_step = $4::integer, comment = coalesce($5, t.comment)"
    " WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " APPROVAL_DOC ", t.version",
    5};

static const sort_spec approval_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
    {"updated_at", "t.updated_at", "timestamptz"},
};
const char *const approval_sort_names[] = {"created_at", "updated_at", NULL};

/* mine: pending, not the caller's own campaign, and the current step is the
 * caller's (by name, else by role; any step for an admin) and, when the request
 * wants distinct deciders, the caller has not decided another step of it
 * (admins excepted) — approval_may_decide().
 * The count is a correlated subquery on purpose: a NOT EXISTS under OR becomes
 * a hashed subplan reading every organisation's decisions. */
static list_query approval_list = {
    .name = "approval_list",
    .projection = APPROVAL_DOC,
    .from = "approval_requests t",
    .where = "t.org_id = $1 AND ($2::text[] IS NULL OR t.status = ANY ($2::text[]))"
             " AND ($3::uuid IS NULL OR t.campaign_id = $3::uuid)"
             " AND ($4::text IS NULL OR (t.status = 'pending' AND t.campaign_owner <> $4 AND ($5::text = 'admin' OR ("
             "  CASE WHEN t.steps -> t.current_step ->> 'approver_sub' IS NOT NULL"
             "   THEN t.steps -> t.current_step ->> 'approver_sub' = $4"
             "   ELSE t.steps -> t.current_step ->> 'role' = $5::text END"
             "  AND (NOT t.distinct_deciders"
             "   OR (SELECT count(*) FROM approval_decisions d WHERE d.request_id = t.id AND d.decided_by = $4) = 0)))))",
    .nfilters = 5,
    .sorts = approval_sorts,
    .nsorts = sizeof approval_sorts / sizeof approval_sorts[0],
};

app_err workflow_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &workflow_store_get_stmt, params, doc, NULL, NULL);
}

app_err workflow_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_wf_lock, params, doc);
}

app_err workflow_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                              char id_out[37], app_refusal *why)
{
    const char *params[] = {org, actor, body_json};
    return db_doc_row(conn, &q_wf_insert, params, doc, id_out, why);
}

app_err workflow_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_wf_update, params, doc, NULL, why);
}

app_err workflow_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, id};
    PGresult *res = NULL;
    app_err e = db_write(conn, &q_wf_delete_unused, params, &res, why);
    if (e) return e;
    int deleted = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    if (deleted) {
        memset(doc, 0, sizeof *doc);
        return APP_OK;
    }
    return db_doc_row(conn, &q_wf_archive, params, doc, NULL, why);
}

app_err workflow_store_list(db_conn *conn, const char *org, const char *active, const char *q, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, active, q};
    return list_query_run(conn, &workflow_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err approval_store_submit(db_conn *conn, const char *org, const char *campaign_id, const char *workflow_id,
                              const char *submitted_by, const char *campaign_owner, db_doc *doc, char id_out[37],
                              app_refusal *why)
{
    const char *params[] = {org, campaign_id, workflow_id, submitted_by, campaign_owner};
    return db_doc_row(conn, &q_submit, params, doc, id_out, why);
}

app_err approval_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &approval_store_get_stmt, params, doc, NULL, NULL);
}

app_err approval_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err approval_store_decide(db_conn *conn, const char *org, const char *id, int step, const char *decision,
                              const char *comment, const char *actor, const char *role, int as_admin, app_refusal *why)
{
    char step_s[16];
    snprintf(step_s, sizeof step_s, "%d", step);
    const char *params[] = {org, id, step_s, decision, comment, actor, role, as_admin ? "true" : "false"};
    if (why) app_refusal_clear(why);
    return db_defer(conn, &q_decide, params, NULL);
}

app_err approval_store_lock_for_decision(db_conn *conn, const char *org, const char *id, int *seen_version,
                                         db_doc *request)
{
    const char *params[] = {org, id};
    PGresult *seen = NULL;
    app_err e = db_defer(conn, &q_seen_version, params, &seen);
    if (!e) e = db_defer(conn, &q_campaign_lock, params, NULL);
    if (!e) e = approval_store_lock(conn, org, id, request);
    if (!e && (!seen || PQntuples(seen) != 1)) e = APP_ERR_NOT_FOUND;
    if (!e) *seen_version = atoi(PQgetvalue(seen, 0, 0));
    PQclear(seen);
    if (e) db_doc_free(request);
    return e;
}

app_err approval_store_advance(db_conn *conn, const char *org, const char *id, const char *status, int step,
                               const char *comment, db_doc *doc, app_refusal *why)
{
    char step_s[16];
    snprintf(step_s, sizeof step_s, "%d", step);
    const char *params[] = {org, id, status, step_s, comment};
    return db_doc_row(conn, &q_advance, params, doc, NULL, why);
}

app_err approval_store_list(db_conn *conn, const char *org, const approval_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->statuses, f->campaign_id, f->mine_sub, f->role};
    return list_query_run(conn, &approval_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
