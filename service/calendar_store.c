/* calendar_store.c — see calendar_store.h. */
#define _GNU_SOURCE
#include "calendar_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_EVENT_DOC                                                                                          \
    "json_build_object('id', t.id, 'name', t.name, 'kind', t.kind, 'start_date', t.start_date,"                \
    " 'end_date', t.end_date, 'description', t.description, 'version', t.version,"                             \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

#define FEED_TOKEN_DOC                                                                                         \
    "json_build_object('id', t.id, 'name', t.name, 'filters', t.filters, 'created_by', t.created_by,"          \
    " 'created_at', t.created_at, 'revoked_at', t.revoked_at)::text"

/* The day range [start_date, end_date] of a row, as instants in the organisation's time zone. */
#define DAYS_START(alias, tz) "((" alias ".start_date)::timestamp AT TIME ZONE " tz ")"
#define DAYS_END(alias, tz) "((" alias ".end_date + 1)::timestamp AT TIME ZONE " tz ")"

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt key_event_store_get_stmt = {
    "key_event_get", "SELECT " KEY_EVENT_DOC ", t.version FROM key_events t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};
static const db_stmt q_lock = {
    "key_event_lock", "SELECT " KEY_EVENT_DOC ", t.version FROM key_events t WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE", 2};
static const db_stmt q_insert = {
    "key_event_insert",
    "INSERT INTO key_events AS t (org_id, name, kind, start_date, end_date, description)"
    " SELECT $1, d->>'name', d->>'kind', (d->>'start_date')::date, (d->>'end_date')::date, d->>'description'"
    " FROM (SELECT $2::jsonb AS d) p RETURNING " KEY_EVENT_DOC ", t.version, t.id::text",
    2};
static const db_stmt q_update = {
    "key_event_update",
    "UPDATE key_events t SET"
    " name = CASE WHEN d ? 'name' THEN d->>'name' ELSE t.name END,"
    " kind = CASE WHEN d ? 'kind' THEN d->>'kind' ELSE t.kind END,"
    " start_date = CASE WHEN d ? 'start_date' THEN (d->>'start_date')::date ELSE t.start_date END,"
    " end_date = CASE WHEN d ? 'end_date' THEN (d->>'end_date')::date ELSE t.end_date END,"
    " description = CASE WHEN d ? 'description' THEN d->>'description' ELSE t.description END"
    " FROM (SELECT $3::jsonb AS d) p WHERE " DB_BY_KEY("t", "$2", "$1") " RETURNING " KEY_EVENT_DOC ", t.version",
    3};
static const db_stmt q_delete = {"key_event_delete", "DELETE FROM key_events WHERE " DB_BY_KEY("key_events", "$2", "$1"), 2};

static const sort_spec key_event_sorts[] = {
    {"start_date", "t.start_date", "date"},
    {"name", "t.name", "text"},
    {"created_at", "t.created_at", "timestamptz"},
};
const char *const key_event_sort_names[] = {"start_date", "name", "created_at", NULL};

static list_query key_event_list = {
    .name = "key_event_list",
    .projection = KEY_EVENT_DOC,
    .from = "key_events t JOIN organisations o ON o.id = t.org_id",
    .where = "t.org_id = $1 AND ($2::text[] IS NULL OR t.kind = ANY ($2::text[]))"
             " AND ($3::timestamptz IS NULL OR " DAYS_END("t", "o.time_zone") " > $3::timestamptz)"
             " AND ($4::timestamptz IS NULL OR " DAYS_START("t", "o.time_zone") " < $4::timestamptz)"
             " AND ($5::text IS NULL OR strpos(lower(t.name), lower($5)) > 0)",
    .nfilters = 5,
    .sorts = key_event_sorts,
    .nsorts = sizeof key_event_sorts / sizeof key_event_sorts[0],
};

/* UTC instants in iCalendar's basic form. */
/* iCalendar has 4-digit years: the schema keeps dates and periods within them (0009); the clamps keep rows
 * written before that rule out of a 5-digit year. */
#define ICS_UTC(x) "to_char(LEAST((" x ") AT TIME ZONE 'UTC', '9999-12-31 23:59:59'), 'YYYYMMDD\"T\"HH24MISS\"Z\"')"
#define ICS_DATE(x) "to_char(LEAST(" x ", '9999-12-31'::date), 'YYYYMMDD')"
#define JSON_TEXT(x) "(to_json(" x ") #>> '{}')"

/* One statement for the whole calendar: $1 org, $2/$3 the window, $4 resource,
 * $5 channel, $6 segment, $7 owner, $8 item types, $9 include cancelled, $10
 * the row limit. Filters apply to the item types they describe (see
 * openapi.yaml, GET /v1/calendar): key events are context and always shown. */
static const db_stmt q_calendar = {
    "calendar_items",
    "WITH w AS (SELECT $2::timestamptz AS t0, $3::timestamptz AS t1, o.time_zone AS tz,"
    "   ($2::timestamptz AT TIME ZONE o.time_zone)::date - 1 AS d0, ($3::timestamptz AT TIME ZONE o.time_zone)::date + 1 AS d1"
    "   FROM organisations o WHERE o.id = $1),"
    " items AS ("
    "  SELECT 'campaign' AS type, c.id::text AS id, c.name AS title, c.start_date::text AS start_at,"
    "   c.end_date::text AS end_at, true AS all_day, c.status, c.objective AS kind, c.objective AS colour_key,"
    "   c.id::text AS campaign_id, NULL::text AS resource_id, NULL::text AS segment_id, c.version - 1 AS sequence,"
    "   " ICS_UTC("c.updated_at") " AS stamp, " ICS_DATE("c.start_date") " AS ics_start,"
    "   " ICS_DATE("c.end_date + 1") " AS ics_end,"
    "   concat_ws(E'\\n', 'Objective: ' || c.objective, 'Status: ' || c.status, 'Owner: ' || c.owner,"
    "    'Channels: ' || nullif(array_to_string(c.channels, ', '), ''), c.offer_description) AS description,"
    "   " DAYS_START("c", "w.tz") " AS at"
    "  FROM campaigns c, w"
    "  WHERE c.org_id = $1 AND 'campaign' = ANY ($8::text[]) AND ($9::boolean OR c.status <> 'cancelled')"
    "   AND c.end_date >= w.d0 AND c.start_date <= w.d1"
    "   AND " DAYS_START("c", "w.tz") " < w.t1 AND " DAYS_END("c", "w.tz") " > w.t0"
    "   AND ($7::text IS NULL OR c.owner = $7) AND ($5::text IS NULL OR $5 = ANY (c.channels))"
    "   AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM campaign_segments cs WHERE cs.campaign_id = c.id"
    "    AND cs.segment_id = $6::uuid) OR EXISTS (SELECT 1 FROM bookings b WHERE b.campaign_id = c.id"
    "    AND b.segment_id = $6::uuid AND b.status <> 'cancelled'))"
    "   AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM bookings b WHERE b.campaign_id = c.id"
    "    AND b.resource_id = $4::uuid AND b.status <> 'cancelled'))"
    "  UNION ALL"
    "  SELECT 'booking', b.id::text, r.name || ' — ' || c.name, " JSON_TEXT("lower(b.period)") ","
    "   " JSON_TEXT("upper(b.period)") ", false, b.status, r.kind, b.resource_id::text, b.campaign_id::text,"
    "   b.resource_id::text, b.segment_id::text, b.version - 1, " ICS_UTC("b.updated_at") ","
    "   " ICS_UTC("lower(b.period)") ", " ICS_UTC("upper(b.period)") ","
    "   concat_ws(E'\\n', 'Campaign: ' || c.name, 'Resource: ' || r.name || ' (' || r.kind || ')',"
    "    'Quantity: ' || b.quantity, 'Status: ' || b.status, b.notes), lower(b.period)"
    "  FROM bookings b JOIN campaigns c ON c.id = b.campaign_id JOIN resources r ON r.id = b.resource_id, w"
    "  WHERE b.org_id = $1 AND 'booking' = ANY ($8::text[]) AND ($9::boolean OR b.status <> 'cancelled')"
    "   AND b.period && tstzrange(w.t0, w.t1, '[)')"
    "   AND ($4::uuid IS NULL OR b.resource_id = $4::uuid) AND ($7::text IS NULL OR c.owner = $7)"
    "   AND ($5::text IS NULL OR $5 = ANY (c.channels) OR (r.kind = 'channel' AND lower(r.name) = lower($5)))"
    "   AND ($6::uuid IS NULL OR b.segment_id = $6::uuid OR EXISTS (SELECT 1 FROM campaign_segments cs"
    "    WHERE cs.campaign_id = c.id AND cs.segment_id = $6::uuid))"
    "  UNION ALL"
    "  SELECT 'availability', a.id::text, r.name || ': ' || a.kind, " JSON_TEXT("lower(a.period)") ","
    "   " JSON_TEXT("upper(a.period)") ", false, NULL, a.kind, a.kind, NULL, a.resource_id::text, NULL, 0,"
    "   " ICS_UTC("a.created_at") ", " ICS_UTC("lower(a.period)") ", " ICS_UTC("upper(a.period)") ","
    "   concat_ws(E'\\n', 'Resource: ' || r.name || ' (' || r.kind || ')', 'Kind: ' || a.kind, a.note),"
    "   lower(a.period)"
    "  FROM availability a JOIN resources r ON r.id = a.resource_id, w"
    "  WHERE a.org_id = $1 AND 'availability' = ANY ($8::text[]) AND a.period && tstzrange(w.t0, w.t1, '[)')"
    "   AND ($4::uuid IS NULL OR a.resource_id = $4::uuid)"
    "   AND ($5::text IS NULL OR (r.kind = 'channel' AND lower(r.name) = lower($5)))"
    "  UNION ALL"
    "  SELECT 'key_event', k.id::text, k.name, k.start_date::text, k.end_date::text, true, NULL, k.kind, k.kind,"
    "   NULL, NULL, NULL, k.version - 1, " ICS_UTC("k.updated_at") ", " ICS_DATE("k.start_date") ","
    "   " ICS_DATE("k.end_date + 1") ", k.description, " DAYS_START("k", "w.tz")
    "  FROM key_events k, w"
    "  WHERE k.org_id = $1 AND 'key_event' = ANY ($8::text[]) AND k.end_date >= w.d0 AND k.start_date <= w.d1"
    "   AND " DAYS_START("k", "w.tz") " < w.t1 AND " DAYS_END("k", "w.tz") " > w.t0"
    "  UNION ALL"
    "  SELECT 'risk', k.id::text, k.title || ' — ' || c.name, k.due_date::text, k.due_date::text, true, k.status,"
    "   k.category, k.level, k.campaign_id::text, NULL, NULL, k.version - 1, " ICS_UTC("k.updated_at") ","
    "   " ICS_DATE("k.due_date") ", " ICS_DATE("k.due_date + 1") ","
    "   concat_ws(E'\\n', 'Campaign: ' || c.name, 'Category: ' || k.category,"
    "    'Level: ' || k.level || ' (probability ' || k.probability || ' × impact ' || k.impact || ' = ' || k.score || ')',"
    "    'Owner: ' || k.owner, 'Status: ' || k.status, 'Mitigation: ' || k.mitigation),"
    "   (k.due_date::timestamp AT TIME ZONE w.tz)"
    "  FROM risks k JOIN campaigns c ON c.id = k.campaign_id, w"
    "  WHERE k.org_id = $1 AND 'risk' = ANY ($8::text[]) AND ($9::boolean OR k.status <> 'closed')"
    "   AND k.due_date >= w.d0 AND k.due_date <= w.d1"
    "   AND (k.due_date::timestamp AT TIME ZONE w.tz) < w.t1 AND ((k.due_date + 1)::timestamp AT TIME ZONE w.tz) > w.t0"
    "   AND ($7::text IS NULL OR k.owner = $7) AND ($5::text IS NULL OR $5 = ANY (c.channels))"
    "   AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM campaign_segments cs WHERE cs.campaign_id = c.id"
    "    AND cs.segment_id = $6::uuid) OR EXISTS (SELECT 1 FROM bookings b WHERE b.campaign_id = c.id"
    "    AND b.segment_id = $6::uuid AND b.status <> 'cancelled'))"
    "   AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM bookings b WHERE b.campaign_id = c.id"
    "    AND b.resource_id = $4::uuid AND b.status <> 'cancelled')))"
    " SELECT type, id, title, start_at, end_at, all_day::text, status, kind, colour_key, campaign_id, resource_id,"
    "  segment_id, sequence::text, stamp, ics_start, ics_end, nullif(description, ''), (SELECT tz FROM w)"
    " FROM items ORDER BY at, type, id LIMIT $10::integer",
    10};

static const db_stmt q_time_zone = {"calendar_time_zone", "SELECT time_zone FROM organisations WHERE id = $1", 1};

static const db_stmt q_token_insert = {
    "feed_token_insert",
    "INSERT INTO calendar_feed_tokens AS t (org_id, name, token_hash, filters, created_by)"
    " SELECT $1, d->>'name', encode(sha256(convert_to($3, 'UTF8')), 'hex'),"
    " jsonb_strip_nulls(coalesce(d->'filters', '{}')), $2 FROM (SELECT $4::jsonb AS d) p"
    " RETURNING " FEED_TOKEN_DOC ", t.id::text",
    4};
static const db_stmt q_token_lookup = {
    "feed_token_lookup",
    "SELECT org_id, filters::text FROM calendar_feed_tokens"
    " WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') AND revoked_at IS NULL",
    1};
/* Revoking twice changes nothing (and writes no second audit entry); the
 * count says whether the caller may see the token at all. */
static const db_stmt q_token_revoke = {
    "feed_token_revoke",
    "WITH mine AS (SELECT id FROM calendar_feed_tokens WHERE " DB_BY_KEY("calendar_feed_tokens", "$2", "$1")
    "   AND ($3::text IS NULL OR created_by = $3)),"
    " revoked AS (UPDATE calendar_feed_tokens SET revoked_at = now()"
    "   WHERE id IN (SELECT id FROM mine) AND revoked_at IS NULL RETURNING id)"
    " SELECT count(*) FROM mine",
    3};
static const db_stmt q_token_refs = {
    "feed_token_refs",
    "SELECT $2::uuid IS NULL OR EXISTS (SELECT 1 FROM resources WHERE " DB_BY_KEY("resources", "$2::uuid", "$1") "),"
    " $3::uuid IS NULL OR EXISTS (SELECT 1 FROM segments WHERE " DB_BY_KEY("segments", "$3::uuid", "$1") ")",
    3};

static const sort_spec feed_token_sorts[] = {
    {"created_at", "t.created_at", "timestamptz"},
    {"name", "t.name", "text"},
};
const char *const feed_token_sort_names[] = {"created_at", "name", NULL};

static list_query feed_token_list = {
    .name = "feed_token_list",
    .projection = FEED_TOKEN_DOC,
    .from = "calendar_feed_tokens t",
    .where = "t.org_id = $1 AND ($2::text IS NULL OR t.created_by = $2) AND ($3::boolean OR t.revoked_at IS NULL)",
    .nfilters = 3,
    .sorts = feed_token_sorts,
    .nsorts = sizeof feed_token_sorts / sizeof feed_token_sorts[0],
};

app_err key_event_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &key_event_store_get_stmt, params, doc, NULL, NULL);
}

app_err key_event_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err key_event_store_insert(db_conn *conn, const char *org, const char *body_json, db_doc *doc, char id_out[37],
                               app_refusal *why)
{
    const char *params[] = {org, body_json};
    return db_doc_row(conn, &q_insert, params, doc, id_out, why);
}

app_err key_event_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                               app_refusal *why)
{
    const char *params[] = {org, id, patch_json};
    return db_doc_row(conn, &q_update, params, doc, NULL, why);
}

/* Runs a write and reports APP_ERR_NOT_FOUND when it touched no row. */
static app_err one_change(db_conn *conn, const db_stmt *stmt, const char *const *params, app_refusal *why)
{
    PGresult *res = NULL;
    app_err e = db_write(conn, stmt, params, &res, why);
    if (e) return e;
    if (atoi(PQcmdTuples(res)) != 1) app_refusal_set(why, e = APP_ERR_NOT_FOUND);
    PQclear(res);
    return e;
}

app_err key_event_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why)
{
    const char *params[] = {org, id};
    return one_change(conn, &q_delete, params, why);
}

app_err key_event_store_list(db_conn *conn, const char *org, const char *kinds, const char *from, const char *to,
                             const char *q, int sort, int desc, const char *cursor_key, const char *cursor_id,
                             int limit, list_result *out)
{
    const char *filters[] = {org, kinds, from, to, q};
    return list_query_run(conn, &key_event_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

void calendar_rows_free(calendar_rows *r)
{
    if (r->cells)
        for (size_t i = 0; i < r->n * CAL__COLUMNS; i++) free(r->cells[i]);
    free(r->cells);
    free(r->is_null);
    r->cells = NULL;
    r->is_null = NULL;
    r->n = 0;
}

const char *calendar_cell(const calendar_rows *r, size_t row, int column)
{
    size_t i = row * CAL__COLUMNS + (size_t)column;
    return r->is_null[i] ? NULL : r->cells[i];
}

app_err calendar_store_items(db_conn *conn, const char *org, const calendar_filter *f, int limit,
                             calendar_rows *out)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1); /* one more tells whether the window holds more */
    const char *params[] = {org, f->from, f->to, f->resource_id, f->channel, f->segment_id, f->owner, f->types,
                            f->include_cancelled ? "true" : "false", lim};
    PGresult *res = NULL;
    calendar_rows r = {0};
    app_err e = db_exec(conn, &q_calendar, params, &res);
    if (e) return e;
    size_t n = (size_t)PQntuples(res);
    r.truncated = n > (size_t)limit;
    if (r.truncated) n = (size_t)limit;
    if (n > 0) {
        snprintf(r.time_zone, sizeof r.time_zone, "%s", PQgetvalue(res, 0, CAL__COLUMNS));
    } else {
        PGresult *tz = NULL;
        const char *tz_params[] = {org};
        e = db_exec(conn, &q_time_zone, tz_params, &tz);
        if (!e) snprintf(r.time_zone, sizeof r.time_zone, "%s", PQntuples(tz) ? PQgetvalue(tz, 0, 0) : "UTC");
        PQclear(tz);
    }
    r.cells = calloc(n * CAL__COLUMNS + 1, sizeof *r.cells);
    r.is_null = calloc(n * CAL__COLUMNS + 1, 1);
    if (!r.cells || !r.is_null) e = APP_ERR_INTERNAL;
    for (size_t i = 0; !e && i < n; i++) {
        for (int c = 0; c < CAL__COLUMNS; c++) {
            size_t k = i * CAL__COLUMNS + (size_t)c;
            r.is_null[k] = (char)PQgetisnull(res, (int)i, c);
            if (!(r.cells[k] = strdup(PQgetvalue(res, (int)i, c)))) { e = APP_ERR_INTERNAL; break; }
        }
        r.n = i + 1;
    }
    PQclear(res);
    if (e) { calendar_rows_free(&r); return e; }
    *out = r;
    return APP_OK;
}

app_err feed_token_store_insert(db_conn *conn, const char *org, const char *actor, const char *token,
                                const char *body_json, char **json, char id_out[37], app_refusal *why)
{
    const char *params[] = {org, actor, token, body_json};
    return db_write_row(conn, &q_token_insert, params, json, id_out, 37, why);
}

app_err feed_token_store_lookup(db_conn *conn, const char *token, char org_out[65], char **filters_json)
{
    const char *params[] = {token};
    char *org = NULL;
    char filters[4096];
    app_err e = db_one_row(conn, &q_token_lookup, params, &org, filters, sizeof filters);
    if (e) return e;
    char *copy = strdup(filters);
    if (copy) snprintf(org_out, 65, "%s", org);
    free(org);
    if (!copy) return APP_ERR_INTERNAL;
    *filters_json = copy;
    return APP_OK;
}

app_err feed_token_store_list(db_conn *conn, const char *org, const char *creator, int include_revoked, int sort,
                              int desc, const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, creator, include_revoked ? "true" : "false"};
    return list_query_run(conn, &feed_token_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}

app_err feed_token_store_revoke(db_conn *conn, const char *org, const char *id, const char *creator, app_refusal *why)
{
    const char *params[] = {org, id, creator};
    char *count = NULL;
    app_err e = db_write_row(conn, &q_token_revoke, params, &count, NULL, 0, why);
    if (!e && strcmp(count, "1") != 0) e = APP_ERR_NOT_FOUND;
    free(count);
    return e;
}

app_err feed_token_store_refs(db_conn *conn, const char *org, const char *resource_id, const char *segment_id,
                              int *resource_found, int *segment_found)
{
    const char *params[] = {org, resource_id, segment_id};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_token_refs, params, &res);
    if (e) return e;
    *resource_found = PQgetvalue(res, 0, 0)[0] == 't';
    *segment_found = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return APP_OK;
}
