/* campaign_store.c — see campaign_store.h. */
#define _GNU_SOURCE
#include "campaign_store.h"

#include <stdlib.h>
#include <string.h>

/* The campaign as the API shows it: campaign_document() (0052_campaign_documents.sql) is its one definition.
 * Reads take it as kept in campaign_documents, by the campaign's key (GET one is one index lookup); a write's
 * answer computes it from the row it returns (RETURNING runs before the triggers that keep the table). */
#define CAMPAIGN_DOC "campaign_document(t)::text"
/* The kept document of campaign row t, for a list's rows (each found by its key). */
#define CAMPAIGN_KEPT_DOC "(SELECT d.doc::text FROM campaign_documents d WHERE d.id = t.id)"

/* channel_budgets of a body d as stored: amounts with 2 decimals, in the order given; null is none. */
#define CHANNEL_BUDGETS_OF(d)                                                                                   \
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('channel', e->>'channel',"                                    \
    " 'amount', ((e->>'amount')::numeric(16, 2))::text) ORDER BY ord), '[]'::jsonb)"                             \
    " FROM jsonb_array_elements(CASE WHEN jsonb_typeof(" d "->'channel_budgets') = 'array'"                       \
    "  THEN " d "->'channel_budgets' ELSE '[]'::jsonb END) WITH ORDINALITY x(e, ord))"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt campaign_store_get_stmt = {
    "campaign_get", "SELECT d.doc::text, d.version FROM campaign_documents d WHERE " DB_BY_KEY("d", "$2", "$1"), 2};

/* Both rows locked: a writer that committed while this waited is read as it left them (the kept document too). */
static const db_stmt q_lock = {
    "campaign_lock",
    "SELECT d.doc::text, t.version, t.owner FROM campaigns t JOIN campaign_documents d ON d.id = t.id"
    " WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE OF t, d",
    2};

static const db_stmt q_unknown_segments = {
    "campaign_unknown_segments",
    "SELECT (s.ord - 1)::text FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY s(v, ord)"
    " WHERE NOT EXISTS (SELECT 1 FROM segments g WHERE " DB_BY_KEY("g", "s.v::uuid", "$1") ") ORDER BY s.ord",
    2};

static const db_stmt q_insert = {
    "campaign_insert",
    "INSERT INTO campaigns (org_id, name, objective, start_date, end_date, budget_amount, budget_currency,"
    " owner, team, has_offer, offer_code, offer_description, offer_terms, channels, tags, notes,"
    " score_engagement, score_cpa, score_experience, score_alignment, created_by, channel_budgets)"
    " SELECT $1, d->>'name', d->>'objective', (d->>'start_date')::date, (d->>'end_date')::date,"
    " (d->'budget'->>'amount')::numeric, d->'budget'->>'currency', $2, d->>'team',"
    " coalesce(jsonb_typeof(d->'offer') = 'object', false), d->'offer'->>'code', d->'offer'->>'description',"
    " d->'offer'->>'terms', ARRAY(SELECT jsonb_array_elements_text(d->'channels')),"
    " ARRAY(SELECT jsonb_array_elements_text(d->'tags')), d->>'notes',"
    " (d->'scoring'->>'engagement_potential')::numeric, (d->'scoring'->>'estimated_cpa')::numeric,"
    " (d->'scoring'->>'customer_experience')::numeric, (d->'scoring'->>'strategic_alignment')::numeric, $2, "
    CHANNEL_BUDGETS_OF("d") " FROM (SELECT $3::jsonb AS d) p RETURNING id::text",
    3};

/* Replaces the segment list when the body has segment_ids: removes the ones
 * no longer listed, adds the new ones, and keeps the given order. */
static const db_stmt q_set_segments = {
    "campaign_set_segments",
    "WITH wanted AS (SELECT v::uuid AS segment_id, ord FROM jsonb_array_elements_text($3::jsonb->'segment_ids')"
    "  WITH ORDINALITY s(v, ord)),"
    " removed AS (DELETE FROM campaign_segments cs WHERE cs.org_id = $1 AND cs.campaign_id = $2"
    "  AND $3::jsonb ? 'segment_ids'"
    "  AND cs.segment_id NOT IN (SELECT segment_id FROM wanted))"
    " INSERT INTO campaign_segments (org_id, campaign_id, segment_id, position)"
    " SELECT $1, $2, w.segment_id, w.ord FROM wanted w"
    " ON CONFLICT (campaign_id, segment_id) DO UPDATE SET position = EXCLUDED.position",
    3};

static const db_stmt q_update = {
    "campaign_update",
    "UPDATE campaigns t SET"
    " name = CASE WHEN d ? 'name' THEN d->>'name' ELSE t.name END,"
    " objective = CASE WHEN d ? 'objective' THEN d->>'objective' ELSE t.objective END,"
    " start_date = CASE WHEN d ? 'start_date' THEN (d->>'start_date')::date ELSE t.start_date END,"
    " end_date = CASE WHEN d ? 'end_date' THEN (d->>'end_date')::date ELSE t.end_date END,"
    " budget_amount = CASE WHEN d ? 'budget' THEN (d->'budget'->>'amount')::numeric ELSE t.budget_amount END,"
    " budget_currency = CASE WHEN d ? 'budget' THEN d->'budget'->>'currency' ELSE t.budget_currency END,"
    " channel_budgets = CASE WHEN d ? 'channel_budgets' THEN " CHANNEL_BUDGETS_OF("d") " ELSE t.channel_budgets END,"
    " team = CASE WHEN d ? 'team' THEN d->>'team' ELSE t.team END,"
    " has_offer = CASE WHEN d ? 'offer' THEN coalesce(jsonb_typeof(d->'offer') = 'object', false)"
    "  ELSE t.has_offer END,"
    " offer_code = CASE WHEN d ? 'offer' THEN d->'offer'->>'code' ELSE t.offer_code END,"
    " offer_description = CASE WHEN d ? 'offer' THEN d->'offer'->>'description' ELSE t.offer_description END,"
    " offer_terms = CASE WHEN d ? 'offer' THEN d->'offer'->>'terms' ELSE t.offer_terms END,"
    " channels = CASE WHEN d ? 'channels' THEN ARRAY(SELECT jsonb_array_elements_text(d->'channels'))"
    "  ELSE t.channels END,"
    " tags = CASE WHEN d ? 'tags' THEN ARRAY(SELECT jsonb_array_elements_text(d->'tags')) ELSE t.tags END,"
    " notes = CASE WHEN d ? 'notes' THEN d->>'notes' ELSE t.notes END,"
    " score_engagement = CASE WHEN d ? 'scoring' THEN (d->'scoring'->>'engagement_potential')::numeric"
    "  ELSE t.score_engagement END,"
    " score_cpa = CASE WHEN d ? 'scoring' THEN (d->'scoring'->>'estimated_cpa')::numeric ELSE t.score_cpa END,"
    " score_experience = CASE WHEN d ? 'scoring' THEN (d->'scoring'->>'customer_experience')::numeric"
    "  ELSE t.score_experience END,"
    " score_alignment = CASE WHEN d ? 'scoring' THEN (d->'scoring'->>'strategic_alignment')::numeric"
    "  ELSE t.score_alignment END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " CAMPAIGN_DOC ", t.version",
    3};

static const db_stmt q_set_status = {
    "campaign_set_status",
    "UPDATE campaigns t SET status = $3, status_reason = $4 WHERE " DB_BY_KEY("t", "$2", "$1")
    " RETURNING " CAMPAIGN_DOC ", t.version",
    4};

static const db_stmt q_delete = {"campaign_delete", "DELETE FROM campaigns WHERE " DB_BY_KEY("campaigns", "$2", "$1"), 2};

static const sort_spec campaign_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"}, {"name", "t.name", "text"},
    {"start_date", "t.start_date", "date"},        {"end_date", "t.end_date", "date"},
    {"updated_at", "t.updated_at", "timestamptz"},
    /* not scored: -1, last ascending (campaigns_priority_idx in 0048_conflict_notes.sql) */
    {"priority_score", "coalesce(t.priority_score, -1)", "numeric"},
};
const char *const campaign_sort_names[] = {"created_at", "name", "start_date", "end_date", "updated_at",
                                           "priority_score", NULL};

static list_query campaign_list = {
    .name = "campaign_list",
    .projection = CAMPAIGN_KEPT_DOC,
    .from = "campaigns t",
    .where = "t.org_id = $1 AND ($2::text[] IS NULL OR t.status = ANY ($2::text[]))"
             " AND ($3::text IS NULL OR t.owner = $3) AND ($4::text IS NULL OR t.objective = $4)"
             " AND ($5::date IS NULL OR t.end_date >= $5::date) AND ($6::date IS NULL OR t.start_date <= $6::date)"
             " AND ($7::text IS NULL OR strpos(lower(t.name), lower($7)) > 0)"
             " AND ($8::numeric IS NULL OR t.priority_score >= $8::numeric)",
    .nfilters = 8,
    .sorts = campaign_sorts,
    .nsorts = sizeof campaign_sorts / sizeof campaign_sorts[0],
};

/* Runs a statement expected to return one row whose first column is text (*why as in db_write). */
static app_err one_text(db_conn *conn, const db_stmt *stmt, const char *const *params, char **out, app_refusal *why)
{
    return db_write_row(conn, stmt, params, out, NULL, 0, why);
}

app_err campaign_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &campaign_store_get_stmt, params, doc, NULL, NULL);
}

app_err campaign_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err campaign_store_unknown_segments(db_conn *conn, const char *org, const char *ids_json, json_t **j_missing)
{
    const char *params[] = {org, ids_json};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_unknown_segments, params, &res);
    if (e) return e;
    json_t *j = json_array();
    for (int r = 0; j && r < PQntuples(res); r++)
        if (json_array_append_new(j, json_integer(atoi(PQgetvalue(res, r, 0)))) != 0) {
            json_decref(j);
            j = NULL;
        }
    PQclear(res);
    if (!j) return APP_ERR_INTERNAL;
    *j_missing = j;
    return APP_OK;
}

app_err campaign_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                              char id_out[37], app_refusal *why)
{
    const char *params[] = {org, actor, body_json};
    char *id = NULL;
    app_err e = one_text(conn, &q_insert, params, &id, why);
    if (e) return e;
    snprintf(id_out, 37, "%s", id);
    free(id);
    const char *sp[] = {org, id_out, body_json};
    if ((e = db_write(conn, &q_set_segments, sp, NULL, why))) return e;
    return campaign_store_get(conn, org, id_out, doc);
}

app_err campaign_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    app_err e = db_write(conn, &q_set_segments, params, NULL, why);
    if (e) return e;
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

static const db_stmt q_move = {
    "campaign_move", "UPDATE campaigns t SET status = $3, status_reason = $4 WHERE " DB_BY_KEY("t", "$2", "$1"), 4};

app_err campaign_store_move(db_conn *conn, const char *org, const char *id, const char *status, const char *reason)
{
    const char *params[] = {org, id, status, reason};
    return db_defer(conn, &q_move, params, NULL);
}

app_err campaign_store_set_status(db_conn *conn, const char *org, const char *id, const char *status,
                                  const char *reason, db_doc *doc, app_refusal *why)
{
    const char *params[] = {org, id, status, reason};
    return db_doc_row(conn, &q_set_status, params, doc, NULL, why);
}

app_err campaign_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why)
{
    const char *params[] = {org, id};
    return db_write(conn, &q_delete, params, NULL, why);
}

app_err campaign_store_list(db_conn *conn, const char *org, const campaign_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->statuses, f->owner, f->objective, f->from, f->to, f->q, f->priority_min};
    return list_query_run(conn, &campaign_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

static const db_stmt q_follow_dates = {"campaign_follow_dates", "SELECT campaigns_follow_dates()", 0};

app_err campaign_store_follow_dates(db_conn *conn, int *moved)
{
    char *count = NULL;
    app_err e = db_begin(conn);
    if (!e) e = db_one_row(conn, &q_follow_dates, NULL, &count, NULL, 0);
    if (!e) e = db_commit(conn);
    else db_rollback(conn);
    if (!e) *moved = atoi(count);
    free(count);
    return e;
}
