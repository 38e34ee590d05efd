/* measurement_store.c — see measurement_store.h. */
#define _GNU_SOURCE
#include "measurement_store.h"

#include <stdlib.h>
#include <string.h>

/* The counters as SQL column lists, in catalogue order (kpi.c). */
#define COUNTER_COLS                                                                                   \
    "impressions, reach, sends, opens, clicks, bounces, unsubscribes, visits, leads, mqls, sqls, conversions, " \
    "spend, revenue"
#define COUNTER_TYPES                                                                                             \
    "impressions bigint, reach bigint, sends bigint, opens bigint, clicks bigint, bounces bigint,"                  \
    " unsubscribes bigint, visits bigint, leads bigint, mqls bigint, sqls bigint, conversions bigint,"              \
    " spend numeric, revenue numeric"
#define COUNTER_SET(p)                                                                                            \
    "impressions = " p "impressions, reach = " p "reach, sends = " p "sends, opens = " p "opens, clicks = " p     \
    "clicks, bounces = " p "bounces, unsubscribes = " p "unsubscribes, visits = " p "visits, leads = " p "leads," \
    " mqls = " p "mqls, sqls = " p "sqls, conversions = " p "conversions, spend = " p "spend, revenue = " p "revenue"
#define ROW_TUPLE(p)                                                                                              \
    "(" p "campaign_id, " p "channel, " p "date, " p "impressions, " p "reach, " p "sends, " p "opens, " p        \
    "clicks, " p "bounces, " p "unsubscribes, " p "visits, " p "leads, " p "mqls, " p "sqls, " p "conversions, " p \
    "spend, " p "revenue, " p "currency)"

/* A measurement as the API shows it (money as decimal strings in `currency`). */
#define MEASUREMENT_DOC                                                                                           \
    "json_build_object('id', t.id, 'campaign_id', t.campaign_id, 'channel', t.channel, 'date', t.date,"           \
    " 'source', t.source, 'external_id', t.external_id, 'impressions', t.impressions, 'reach', t.reach,"         \
    " 'sends', t.sends, 'opens', t.opens, 'clicks', t.clicks, 'bounces', t.bounces,"                              \
    " 'unsubscribes', t.unsubscribes, 'visits', t.visits, 'leads', t.leads, 'mqls', t.mqls, 'sqls', t.sqls,"      \
    " 'conversions', t.conversions, 'spend', t.spend::text, 'revenue', t.revenue::text, 'currency', t.currency,"  \
    " 'version', t.version, 'created_at', t.created_at, 'updated_at', t.updated_at)::text"

/* The measurement stored under the key of row alias `a` (its source and external_id, in organisation $1) when
 * `when` holds, as a subquery of its column `col`: the key's entry of measurements_key read as a range in that
 * index's order (LIMIT 1), checked equal. */
#define STORED(col, a, when)                                                                                      \
    "SELECT k." col " FROM (SELECT m." col ", m.external_id FROM measurements m WHERE " when " m.org_id = $1"     \
    " AND m.source = " a ".source AND m.external_id >= " a ".external_id AND m.external_id <= " a ".external_id" \
    " ORDER BY m.external_id LIMIT 1) k WHERE k.external_id = " a ".external_id"

/* One statement for the whole batch: the rows are checked against their campaigns (found in the
 * organisation, owned by the caller when only their own may be written, a currency for money), the good
 * ones upserted in key order (two batches racing take their row locks in the same order), and every row's
 * outcome returned in input order. The upsert updates only rows whose values differ, so a replay changes
 * nothing and reports `unchanged`; (xmax = 0) tells an inserted row from an updated one.
 * Each row finds its campaign and its stored measurement by their keys, in lookups kept out of joins (OFFSET
 * 0), so the generic plan reads one index entry per row whatever the batch's size (tests/db/test_plans.c): as
 * joins, planned without statistics, it hashed every campaign of the table and every measurement of the
 * organisation. The stored measurement (its campaign's owner when only their own may be written; its id for a
 * row left unchanged, looked up for those rows only) is STORED: a range of one key (an equality would let any
 * index led by org_id serve it) in the order only measurements_key gives without a sort, so the plan takes
 * that index even when every index of the table looks as cheap as the others (an empty table, as when a fresh
 * database plans its first batch and keeps the plan for the session: an equality lookup took
 * measurements_updated there, which reads all of the organisation's rows for each row of the batch, and a
 * re-sent batch of 10,000 rows took 56 s). */
static const db_stmt q_upsert = {
    "measurement_upsert",
    "WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(ord int, campaign_id uuid, channel text,"
    "  date date, source text, external_id text, " COUNTER_TYPES ")),"
    " c AS (SELECT r.*, cp.budget_currency AS currency,"
    "  CASE WHEN cp.id IS NULL THEN 'campaign_id'"
    "   WHEN $3::text IS NOT NULL AND cp.owner <> $3 THEN 'campaign_id'"
    "   WHEN (r.spend IS NOT NULL OR r.revenue IS NOT NULL) AND cp.budget_currency IS NULL"
    "    THEN CASE WHEN r.spend IS NOT NULL THEN 'spend' ELSE 'revenue' END"
    "   WHEN $3::text IS NOT NULL AND EXISTS (SELECT 1 FROM (" STORED("campaign_id", "r", "") ") st"
    "    JOIN campaigns o ON " DB_BY_KEY("o", "st.campaign_id", "$1") " WHERE o.owner <> $3)"
    "    THEN 'external_id' END AS bad_field,"
    "  CASE WHEN cp.id IS NULL THEN 'no such campaign in your organisation'"
    "   WHEN $3::text IS NOT NULL AND cp.owner <> $3 THEN 'you may record measurements only for campaigns you own'"
    "   WHEN (r.spend IS NOT NULL OR r.revenue IS NOT NULL) AND cp.budget_currency IS NULL"
    "    THEN 'the campaign has no budget, so no currency for money: give it a budget first'"
    "   ELSE 'this source and external_id belong to a measurement of a campaign you do not own' END AS bad_message"
    "  FROM r LEFT JOIN LATERAL (SELECT x.id, x.owner, x.budget_currency FROM campaigns x"
    "   WHERE " DB_BY_KEY("x", "r.campaign_id", "$1") " OFFSET 0) cp ON true),"
    " up AS (INSERT INTO measurements AS m (org_id, campaign_id, channel, date, source, external_id, " COUNTER_COLS
    ", currency)"
    "  SELECT $1, c.campaign_id, c.channel, c.date, c.source, c.external_id, " COUNTER_COLS ","
    "   c.currency"
    "  FROM c WHERE c.bad_field IS NULL ORDER BY c.source, c.external_id"
    "  ON CONFLICT (org_id, source, external_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id,"
    "   channel = EXCLUDED.channel, date = EXCLUDED.date, " COUNTER_SET("EXCLUDED.") ","
    "   currency = EXCLUDED.currency, version = m.version + 1, updated_at = now()"
    "  WHERE " ROW_TUPLE("m.") " IS DISTINCT FROM " ROW_TUPLE("EXCLUDED.")
    "   AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM campaigns o WHERE " DB_BY_KEY("o", "m.campaign_id", "$1")
    "    AND o.owner = $3))"
    "  RETURNING m.id, m.source, m.external_id, (m.xmax = 0) AS created)"
    " SELECT coalesce(json_agg(json_build_object('ord', c.ord,"
    "  'status', CASE WHEN c.bad_field IS NOT NULL THEN 'failed' WHEN up.id IS NULL THEN 'unchanged'"
    "   WHEN up.created THEN 'created' ELSE 'updated' END,"
    "  'id', coalesce(up.id, old.id), 'field', c.bad_field,"
    "  'message', CASE WHEN c.bad_field IS NOT NULL THEN c.bad_message END) ORDER BY c.ord), '[]')::text"
    " FROM c LEFT JOIN up ON up.source = c.source AND up.external_id = c.external_id"
    /* the id of a row left unchanged: looked up only for those */
    " LEFT JOIN LATERAL (" STORED("id", "c", "c.bad_field IS NULL AND up.id IS NULL AND") ") old ON true",
    3};

/* GET one reads it in its thread's batch (api/crud.c), so it is exported. */
const db_stmt measurement_store_get_stmt = {
    "measurement_get", "SELECT " MEASUREMENT_DOC ", t.version FROM measurements t WHERE " DB_BY_KEY("t", "$2", "$1"),
    2};

static const db_stmt q_lock = {"measurement_lock",
                               "SELECT " MEASUREMENT_DOC ", t.version FROM measurements t"
                               " WHERE " DB_BY_KEY("t", "$2", "$1") " FOR UPDATE",
                               2};

static const db_stmt q_delete = {"measurement_delete", "DELETE FROM measurements t WHERE " DB_BY_KEY("t", "$2", "$1"), 2};

static const sort_spec measurement_sorts[] = {
    {"date", "t.date", "date"},
    {"created_at", "t.created_at", "timestamptz"},
    {"updated_at", "t.updated_at", "timestamptz"},
};
const char *const measurement_sort_names[] = {"date", "created_at", "updated_at", NULL};

static list_query measurement_list = {
    .name = "measurement_list",
    .projection = MEASUREMENT_DOC,
    .from = "measurements t",
    .where = "t.org_id = $1 AND ($2::uuid IS NULL OR t.campaign_id = $2::uuid)"
             " AND ($3::text IS NULL OR t.channel = $3) AND ($4::text IS NULL OR t.source = $4)"
             " AND ($5::date IS NULL OR t.date >= $5::date) AND ($6::date IS NULL OR t.date <= $6::date)",
    .nfilters = 6,
    .sorts = measurement_sorts,
    .nsorts = sizeof measurement_sorts / sizeof measurement_sorts[0],
};

app_err measurement_store_upsert(db_conn *conn, const char *org, const char *owner, const char *rows_json,
                                 char **results, app_refusal *why)
{
    const char *params[] = {org, rows_json, owner};
    return db_write_row(conn, &q_upsert, params, results, NULL, 0, why);
}

app_err measurement_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_doc_row(conn, &measurement_store_get_stmt, params, doc, NULL, NULL);
}

app_err measurement_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc)
{
    const char *params[] = {org, id};
    return db_lock_row(conn, &q_lock, params, doc);
}

app_err measurement_store_delete(db_conn *conn, const char *org, const char *id, app_refusal *why)
{
    const char *params[] = {org, id};
    return db_write(conn, &q_delete, params, NULL, why);
}

app_err measurement_store_list(db_conn *conn, const char *org, const measurement_filter *f, int sort, int desc,
                               const char *cursor_key, const char *cursor_id, int limit, list_result *out)
{
    const char *filters[] = {org, f->campaign_id, f->channel, f->source, f->from, f->to};
    return list_query_run(conn, &measurement_list, filters, sort, desc, cursor_key, cursor_id, limit, out);
}
