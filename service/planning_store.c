/* planning_store.c — see planning_store.h. */
#include "planning_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One statement, linear in the history whatever the planner knows: per campaign its measurements summed per
 * channel, read through measurements_campaign_date (led by org_id, campaign_id) in a subquery of its own, and
 * the audiences of every campaign's segments at once (segments_audiences, 0019), hash-joined by campaign. (A join
 * of the measurements with the campaigns, grouped, is planned as a nested loop over the campaigns for each
 * measurement when sorts are priced out, as db.c does: quadratic, 0.2 s for 1,000 campaigns.) */
static const db_stmt q_history = {
    "planning_history",
    "WITH c AS MATERIALIZED (SELECT id, start_date, end_date, channel_budgets FROM campaigns"
    "  WHERE org_id = $1 AND status = 'completed' AND (budget_currency IS NULL OR budget_currency = $2)"
    "  AND ($3::uuid IS NULL OR id <> $3::uuid)),"
    " cs AS (SELECT array_agg(cs.campaign_id) AS sets, array_agg(cs.segment_id) AS ids"
    "  FROM campaign_segments cs WHERE cs.org_id = $1 AND cs.campaign_id = ANY (ARRAY(SELECT id FROM c))),"
    " a AS (SELECT x.set_id, x.audience FROM cs, segments_audiences($1, cs.sets, cs.ids) x)"
    " SELECT coalesce(json_agg(json_build_object('start', c.start_date, 'end', c.end_date, 'audience', a.audience,"
    "  'budgets', c.channel_budgets, 'rows', coalesce((SELECT json_agg(json_build_object('channel', g.channel,"
    "  'spend', g.spend, 'leads', g.leads, 'conversions', g.conversions, 'revenue', g.revenue)"
    "  ORDER BY g.channel NULLS FIRST) FROM (SELECT m.channel, sum(m.spend) FILTER (WHERE m.currency = $2) AS spend,"
    "  sum(m.leads) AS leads, sum(m.conversions) AS conversions,"
    "  sum(m.revenue) FILTER (WHERE m.currency = $2) AS revenue FROM measurements m"
    "  WHERE m.org_id = $1 AND m.campaign_id = c.id GROUP BY m.channel) g), '[]'::json))"
    "  ORDER BY c.start_date, c.id), '[]'::json)::text,"
    " coalesce((SELECT v.version FROM forecast_history_versions v WHERE v.org_id = $1), 0)::text"
    " FROM c LEFT JOIN a ON a.set_id = c.id",
    3};

app_err planning_store_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                               char **json, char version[PLANNING_VERSION_LEN])
{
    const char *params[] = {org, currency, exclude_id};
    return db_one_row(conn, &q_history, params, json, version, PLANNING_VERSION_LEN);
}

/* The organisation's history version and the summary kept at it, in one snapshot: through
 * forecast_history_versions_pkey and forecast_histories_pkey. */
static const db_stmt q_kept_history = {
    "planning_kept_history",
    "SELECT coalesce(h.summary, ''), v.version::text"
    " FROM (SELECT coalesce((SELECT x.version FROM forecast_history_versions x WHERE x.org_id = $1), 0) AS version) v"
    " LEFT JOIN forecast_histories h ON h.org_id = $1 AND h.currency = $2 AND h.excluded = $3"
    "  AND h.version = v.version",
    3};

app_err planning_store_kept_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                                    char **summary, char version[PLANNING_VERSION_LEN])
{
    const char *params[] = {org, currency, exclude_id ? exclude_id : ""};
    char *s = NULL;
    app_err e = db_one_row(conn, &q_kept_history, params, &s, version, PLANNING_VERSION_LEN);
    if (!e && !*s) {
        free(s);
        s = NULL;
    }
    if (!e)
        *summary = s;
    return e;
}

/* One row per organisation, currency and campaign left out: the summary of the latest history read replaces
 * the last one (a slower request may put back an older version's; the next request then reads the history). */
static const db_stmt q_keep_history = {
    "planning_keep_history",
    "INSERT INTO forecast_histories (org_id, currency, excluded, version, summary)"
    " VALUES ($1, $2, $3, $4::bigint, $5) ON CONFLICT (org_id, currency, excluded)"
    " DO UPDATE SET version = EXCLUDED.version, summary = EXCLUDED.summary",
    5};

app_err planning_store_keep_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                                    const char *version, const char *summary)
{
    const char *params[] = {org, currency, exclude_id ? exclude_id : "", version, summary};
    return db_exec(conn, &q_keep_history, params, NULL);
}

/* The segments of org among the ids of a JSON array, and the people they reach (segments_audiences, 0019). */
static const db_stmt q_audience = {
    "planning_audience",
    "WITH ids AS (SELECT ARRAY(SELECT DISTINCT v::uuid FROM jsonb_array_elements_text($2::jsonb) v) AS a)"
    " SELECT json_build_object('audience', (SELECT x.audience FROM segments_audiences($1,"
    "  array_fill('00000000-0000-0000-0000-000000000000'::uuid, ARRAY[cardinality(ids.a)]), ids.a) x), 'unknown',"
    "  cardinality(ids.a) - (SELECT count(*) FROM segments s WHERE s.org_id = $1 AND s.id = ANY (ids.a)))::text"
    " FROM ids",
    2};

app_err planning_store_audience(db_conn *conn, const char *org, const char *ids_json, char **json)
{
    const char *params[] = {org, ids_json};
    return db_one_row(conn, &q_audience, params, json, NULL, 0);
}

/* ---- fitted models kept (forecast_fits, 0021) ---- */

/* The scope's rows whose inputs are these: through forecast_fits_pkey (org_id, scope). */
static const db_stmt q_fits = {
    "planning_fits",
    "SELECT kpi, model, coalesce(refusal, '') FROM forecast_fits WHERE org_id = $1 AND scope = $2 AND inputs = $3",
    3};

app_err planning_store_fits(db_conn *conn, const char *org, const char *scope, const char *inputs,
                            const char *const *kpis, size_t n_kpis, planning_fit_bytes *out)
{
    const char *params[] = {org, scope, inputs};
    PGresult *res = NULL;
    app_err e = db_exec(conn, &q_fits, params, &res);
    for (int r = 0; !e && r < PQntuples(res); r++)
        for (size_t k = 0; k < n_kpis; k++) {
            if (strcmp(PQgetvalue(res, r, 0), kpis[k]) || out[k].bytes || out[k].refusal[0])
                continue;
            if (PQgetisnull(res, r, 1)) {
                snprintf(out[k].refusal, sizeof out[k].refusal, "%s", PQgetvalue(res, r, 2));
                continue;
            }
            size_t len = 0;
            unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 1), &len);
            if (b && len && (out[k].bytes = malloc(len))) {
                memcpy(out[k].bytes, b, len);
                out[k].len = len;
            }
            PQfreemem(b);
        }
    PQclear(res);
    return e;
}

void planning_fit_bytes_free(planning_fit_bytes *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(b[k].bytes);
        b[k] = (planning_fit_bytes){0};
    }
}

/* One row per scope and KPI: a new history's fit replaces the old (and a fit of the same inputs one this build
 * could not read). Every KPI a request fitted in one statement, a model as hex (decoded here) or a refusal. Safe to
 * send twice (db_acquire's first statement). */
static const db_stmt q_keep_fits = {
    "planning_keep_fits",
    "INSERT INTO forecast_fits (org_id, scope, kpi, inputs, model, refusal)"
    " SELECT $1, $2, f.kpi, $3, decode(f.model, 'hex'), f.refusal"
    " FROM jsonb_to_recordset($4::jsonb) AS f(kpi text, model text, refusal text)"
    " ON CONFLICT (org_id, scope, kpi) DO UPDATE SET inputs = EXCLUDED.inputs, model = EXCLUDED.model,"
    " refusal = EXCLUDED.refusal, fitted_at = now()",
    4};

/* bytes[0..len) in hex (malloc'd), or NULL without memory. */
static char *hex_of(const unsigned char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *text = malloc(2 * len + 1);
    if (!text)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        text[2 * i] = hex[bytes[i] >> 4];
        text[2 * i + 1] = hex[bytes[i] & 15];
    }
    text[2 * len] = '\0';
    return text;
}

app_err planning_store_keep_fits(db_conn *conn, const char *org, const char *scope, const char *inputs,
                                 const char *const *kpis, const planning_fit_bytes *fits, size_t n)
{
    app_err e = APP_ERR_INTERNAL;
    char *rows = NULL;
    json_t *j_rows = json_array();
    for (size_t k = 0; j_rows && k < n; k++) {
        char *model = fits[k].bytes ? hex_of(fits[k].bytes, fits[k].len) : NULL;
        json_t *j_row = (model || !fits[k].bytes)
                            ? json_pack("{s:s, s:s?, s:s?}", "kpi", kpis[k], "model", model, "refusal",
                                        fits[k].bytes ? NULL : fits[k].refusal)
                            : NULL;
        free(model);
        if (!j_row || json_array_append_new(j_rows, j_row))
            goto out;
    }
    if (!j_rows || !(rows = json_dumps(j_rows, JSON_COMPACT)))
        goto out;
    const char *params[] = {org, scope, inputs, rows};
    e = db_exec(conn, &q_keep_fits, params, NULL);
out:
    free(rows);
    json_decref(j_rows);
    return e;
}
