/* risk_store.c — see risk_store.h. */
#define _GNU_SOURCE
#include "risk_store.h"

#include <string.h>

#include "campaign_store.h"
#include "risk.h"

/* The risk as the API shows it; inline in each statement (see campaign_store.c). */
#define RISK_DOC                                                                                          \
    "json_build_object('id', t.id, 'campaign_id', t.campaign_id, 'title', t.title, 'category', t.category," \
    " 'probability', t.probability, 'impact', t.impact, 'score', t.score, 'level', t.level,"              \
    " 'mitigation', t.mitigation, 'owner', t.owner, 'status', t.status, 'due_date', t.due_date,"          \
    " 'notes', t.notes, 'version', t.version, 'created_by', t.created_by,"                                \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

/* The organisation's risk-level lock, shared (0020_risk_levels.sql): every write of a risk takes it before any
 * row lock, so new thresholds (which take it exclusively, then campaigns, then risks) never wait for a writer
 * that waits for them. Sent in the round trip of the lock that follows. */
static const db_stmt q_hold = {"risk_levels_hold", "SELECT risk_levels_hold($1)", 1};

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt risk_store_get_stmt = {
    "risk_get", "SELECT " RISK_DOC ", t.version FROM risks t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
/* The locks in the house order: the campaign's row first (SHARE, as the risk trigger takes it), then the
 * risk's. Deleting a campaign locks its row and then its risks (the cascade); a risk locked first and its
 * campaign second (by the trigger of the update that follows) deadlocked with it. The CTE's rows are locked as
 * the join reads them, before the risk's row lock above the join. */
static const db_stmt q_lock = {
    "risk_lock",
    "WITH c AS MATERIALIZED (SELECT c.id, c.owner FROM campaigns c"
    "  WHERE c.id = (SELECT r.campaign_id FROM risks r WHERE " DB_BY_KEY("r", "$2", "$1") ")"
    "  AND (c.org_id = $1) IS TRUE FOR SHARE OF c)"
    " SELECT " RISK_DOC ", t.version, c.owner FROM risks t JOIN c ON c.id = t.campaign_id"
    " WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE OF t",
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

#define RISK_STR_(x) #x
#define RISK_STR(x) RISK_STR_(x)

/* The matrix: the risks of the campaigns overlapping [from, to] (dates, inclusive) that pass the filters, as
 * 25 cells (probability 1–5 × impact 1–5, in that order) with their count and their oldest ids (at most
 * RISK_MATRIX_CELL_IDS, so a portfolio's matrix stays a screenful of JSON), and the totals by level and
 * by category ($8 and $9: the levels and categories in the order the service names them). */
static const db_stmt q_matrix = {
    "risk_matrix",
    "WITH r AS MATERIALIZED (SELECT t.id, t.probability, t.impact, t.level, t.category, t.created_at"
    "  FROM campaigns c JOIN risks t ON t.campaign_id = c.id AND (t.org_id = c.org_id) IS TRUE"
    "  WHERE c.org_id = $1 AND c.end_date >= $2::date AND c.start_date <= $3::date"
    "  AND ($4::uuid IS NULL OR t.campaign_id = $4::uuid)"
    "  AND ($5::text[] IS NULL OR t.category = ANY ($5::text[]))"
    "  AND ($6::text[] IS NULL OR t.status = ANY ($6::text[]))"
    "  AND ($7::text IS NULL OR t.owner = $7)),"
    " s AS (SELECT risk_low_max AS lo, risk_medium_max AS me, risk_high_max AS hi FROM org_settings_of($1)),"
    " cells AS (SELECT p, i, count(r.id) AS n,"
    "  coalesce(to_json((array_agg(r.id ORDER BY r.created_at, r.id) FILTER (WHERE r.id IS NOT NULL))"
    "   [1:" RISK_STR(RISK_MATRIX_CELL_IDS) "]), '[]'::json) AS ids"
    "  FROM generate_series(1, 5) p CROSS JOIN generate_series(1, 5) i"
    "  LEFT JOIN r ON r.probability = p AND r.impact = i GROUP BY p, i)"
    " SELECT json_build_object('from', $2::date, 'to', $3::date,"
    "  'cells', (SELECT json_agg(json_build_object('probability', p, 'impact', i, 'score', p * i,"
    "    'level', risk_level(p * i, s.lo, s.me, s.hi), 'count', n, 'risk_ids', ids) ORDER BY p, i) FROM cells, s),"
    "  'totals', json_build_object('risks', (SELECT count(*) FROM r),"
    "   'by_level', (SELECT json_object_agg(l, (SELECT count(*) FROM r WHERE r.level = l) ORDER BY o)"
    "    FROM unnest($8::text[]) WITH ORDINALITY AS x(l, o)),"
    "   'by_category', (SELECT json_object_agg(k, (SELECT count(*) FROM r WHERE r.category = k) ORDER BY o)"
    "    FROM unnest($9::text[]) WITH ORDINALITY AS y(k, o))))::text",
    9};

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
    return db_doc_row(conn, &risk_store_get_stmt, params, doc, NULL, NULL);
}

app_err risk_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    app_err e = db_defer(conn, &q_hold, params, NULL);
    return e ? e : db_lock_row(conn, &q_lock, params, doc);
}

app_err risk_store_lock_campaign(db_conn *conn, const char *org, const char *campaign_id, db_doc *doc)
{
    const char *params[] = {org};
    app_err e = db_defer(conn, &q_hold, params, NULL);
    return e ? e : campaign_store_lock(conn, org, campaign_id, doc);
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

/* "{a,b,…}" of plain words (no quoting needed) into buf; 0 when it does not fit. */
static int words_array(const char *const *words, char *buf, size_t size)
{
    size_t n = 0;
    buf[n++] = '{';
    for (size_t i = 0; words[i]; i++) {
        size_t len = strlen(words[i]);
        if (n + len + 3 > size) return 0;
        if (i) buf[n++] = ',';
        memcpy(buf + n, words[i], len);
        n += len;
    }
    buf[n++] = '}';
    buf[n] = '\0';
    return 1;
}

app_err risk_store_matrix(db_conn *conn, const char *org, const char *from, const char *to, const risk_filter *f,
                          char **json)
{
    char levels[64], categories[128];
    if (!words_array(risk_levels, levels, sizeof levels) || !words_array(risk_categories, categories, sizeof categories))
        return APP_ERR_INTERNAL;
    const char *params[] = {org, from, to, f->campaign_id, f->categories, f->statuses, f->owner, levels, categories};
    return db_one_row(conn, &q_matrix, params, json, NULL, 0);
}
