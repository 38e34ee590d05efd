/* dashboard_store.c — see dashboard_store.h. */
#define _GNU_SOURCE
#include "dashboard_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each counter's sum (as text: money sums are numeric) and how many rows reported it, in kpi_counter order:
 * from measurements (m) or from their day rollup (d). The columns after a group's key, currency and allocation. */
#define PAIR_M(k) "coalesce(sum(m." k "), 0)::text AS " k ", count(m." k ") AS n_" k
#define PAIR_D(k) "sum(d." k ")::text AS " k ", sum(d.n_" k ") AS n_" k
#define PAIRS(P)                                                                                                   \
    P("impressions") ", " P("reach") ", " P("sends") ", " P("opens") ", " P("clicks") ", " P("bounces") ", "      \
    P("unsubscribes") ", " P("visits") ", " P("leads") ", " P("mqls") ", " P("sqls") ", " P("conversions") ", "   \
    P("spend") ", " P("revenue")
#define OUT(k) "s." k ", s.n_" k
#define GROUP_COLUMNS 3

/* The campaign's measurements in the window per channel and currency, beside its channel budgets. */
static const db_stmt q_campaign_channels = {
    "dash_campaign_channels",
    "WITH s AS (SELECT coalesce(m.channel, '') AS key, coalesce(m.currency, '') AS currency, " PAIRS(PAIR_M)
    "  FROM measurements m WHERE m.org_id = $1 AND m.campaign_id = $2::uuid"
    "  AND ($3::date IS NULL OR m.date >= $3::date) AND ($4::date IS NULL OR m.date <= $4::date) GROUP BY 1, 2),"
    " a AS (SELECT e->>'channel' AS key, coalesce(c.budget_currency, '') AS currency,"
    "  (e->>'amount')::numeric AS allocated"
    "  FROM campaigns c CROSS JOIN LATERAL jsonb_array_elements(c.channel_budgets) e"
    "  WHERE " DB_BY_KEY("c", "$2::uuid", "$1") ")"
    " SELECT coalesce(s.key, a.key), coalesce(s.currency, a.currency), a.allocated::text, " PAIRS(OUT)
    " FROM s FULL JOIN a ON a.key = s.key AND a.currency = s.currency ORDER BY 1, 2",
    4};

static const db_stmt q_campaign = {
    "dash_campaign",
    "SELECT c.name, c.status, c.start_date::text, c.end_date::text,"
    " (now() AT TIME ZONE coalesce(o.time_zone, 'UTC'))::date::text, coalesce(c.budget_currency, ''),"
    " c.budget_amount::text,"
    " coalesce((SELECT sum(b.cost_amount) FROM bookings b WHERE b.campaign_id = c.id AND (b.org_id = c.org_id) IS TRUE"
    "  AND b.status <> 'cancelled' AND b.cost_currency = c.budget_currency), 0)::text"
    " FROM campaigns c LEFT JOIN organisations o ON o.id = c.org_id WHERE " DB_BY_KEY("c", "$2::uuid", "$1"),
    2};

static const db_stmt q_targets = {
    "dash_targets",
    "SELECT t.kpi, coalesce(t.channel, ''), t.target::text, t.direction = 'higher'"
    " FROM kpi_targets t WHERE t.org_id = $1 AND t.campaign_id = $2::uuid ORDER BY t.position",
    2};

/* The organisation's day rollup in the window per channel and currency, beside the channel budgets of the
 * campaigns whose dates overlap the window. */
static const db_stmt q_channels = {
    "dash_channels",
    "WITH s AS (SELECT d.channel AS key, d.currency, " PAIRS(PAIR_D)
    "  FROM measurement_days d WHERE d.org_id = $1"
    "  AND d.date >= coalesce($2::date, '-infinity') AND d.date <= coalesce($3::date, 'infinity')"
    "  AND ($4::text IS NULL OR d.currency = $4) GROUP BY 1, 2 HAVING sum(d.n_rows) > 0),"
    " a AS (SELECT e->>'channel' AS key, coalesce(c.budget_currency, '') AS currency,"
    "  sum((e->>'amount')::numeric) AS allocated"
    "  FROM campaigns c CROSS JOIN LATERAL jsonb_array_elements(c.channel_budgets) e"
    "  WHERE c.org_id = $1 AND c.status <> 'cancelled'"
    "  AND c.start_date <= coalesce($3::date, 'infinity') AND c.end_date >= coalesce($2::date, '-infinity')"
    "  AND ($4::text IS NULL OR c.budget_currency = $4) GROUP BY 1, 2)"
    " SELECT coalesce(s.key, a.key), coalesce(s.currency, a.currency), a.allocated::text, " PAIRS(OUT)
    " FROM s FULL JOIN a ON a.key = s.key AND a.currency = s.currency ORDER BY 1, 2",
    4};

/* Every period from the one before the window's first to the window's last, with the day rollup summed per
 * period and currency ($2 is day, week or month: checked by the caller; week is the ISO week). */
static const db_stmt q_periods = {
    "dash_periods",
    "WITH p AS (SELECT g::date AS key FROM generate_series("
    "  date_trunc($2, $3::date::timestamp) - ('1 ' || $2)::interval, date_trunc($2, $4::date::timestamp),"
    "  ('1 ' || $2)::interval) g),"
    " s AS (SELECT date_trunc($2, d.date::timestamp)::date AS key, d.currency, " PAIRS(PAIR_D)
    "  FROM measurement_days d WHERE d.org_id = $1"
    "  AND d.date >= (SELECT min(key) FROM p)"
    "  AND d.date < (date_trunc($2, $4::date::timestamp) + ('1 ' || $2)::interval)::date"
    "  AND ($5::text IS NULL OR d.currency = $5) GROUP BY 1, 2 HAVING sum(d.n_rows) > 0)"
    " SELECT p.key::text, coalesce(s.currency, ''), NULL::text, " PAIRS(OUT)
    " FROM p LEFT JOIN s ON s.key = p.key ORDER BY p.key, 2",
    5};

/* The team's capacity per ISO week of the window: each active person (hours per week) with capacity, leave
 * (weekdays of the week touched by leave or unavailability, a fifth of the week's hours each, days in the
 * organisation's time zone), available hours, booked hours (non-cancelled bookings, by the ISO week they count
 * in), utilisation and over-allocation; and per skill the available and booked hours of the people who have it,
 * with the shortfall. Rendered here: an aggregate read with nothing to judge but arithmetic. */
static const db_stmt q_capacity = {
    "dash_capacity",
    "WITH o AS (SELECT coalesce((SELECT time_zone FROM organisations WHERE id = $1), 'UTC') AS tz),"
    " w AS (SELECT g::date AS week FROM generate_series(date_trunc('week', $2::date::timestamp),"
    "  date_trunc('week', $3::date::timestamp), interval '1 week') g),"
    " r AS (SELECT x.id, x.name, x.capacity, x.skills FROM resources x"
    "  WHERE x.org_id = $1 AND x.kind = 'person' AND x.capacity_unit = 'hours_per_week' AND x.active),"
    " b AS (SELECT k.resource_id, k.load_bucket AS week, sum(k.quantity) AS booked FROM bookings k"
    "  WHERE k.org_id = $1 AND k.status <> 'cancelled' AND k.resource_id IN (SELECT id FROM r)"
    "  AND k.load_bucket BETWEEN (SELECT min(week) FROM w) AND (SELECT max(week) FROM w) GROUP BY 1, 2),"
    " l AS (SELECT r.id, w.week, count(*) AS days FROM r CROSS JOIN w CROSS JOIN generate_series(0, 4) d, o"
    "  WHERE EXISTS (SELECT 1 FROM availability a WHERE a.org_id = $1 AND a.resource_id = r.id"
    "   AND a.kind IN ('leave', 'unavailable') AND a.period && tstzrange((w.week + d)::timestamp AT TIME ZONE o.tz,"
    "   (w.week + d + 1)::timestamp AT TIME ZONE o.tz)) GROUP BY 1, 2),"
    " c AS (SELECT r.id, r.name, r.skills, w.week, r.capacity, coalesce(l.days, 0) * r.capacity / 5.0 AS leave,"
    "  r.capacity - coalesce(l.days, 0) * r.capacity / 5.0 AS available, coalesce(b.booked, 0) AS booked"
    "  FROM r CROSS JOIN w LEFT JOIN l ON l.id = r.id AND l.week = w.week"
    "  LEFT JOIN b ON b.resource_id = r.id AND b.week = w.week),"
    " people AS (SELECT json_agg(json_build_object('resource_id', p.id, 'name', p.name, 'skills', p.skills,"
    "   'weeks', p.weeks) ORDER BY p.name, p.id) AS j"
    "  FROM (SELECT c.id, c.name, c.skills, json_agg(json_build_object('week', to_char(c.week, 'IYYY-\"W\"IW'),"
    "    'start', c.week, 'capacity', c.capacity, 'leave', trim_scale(round(c.leave, 2)),"
    "    'available', trim_scale(round(c.available, 2)), 'booked', c.booked,"
    "    'utilisation', CASE WHEN c.available > 0 THEN round(c.booked / c.available, 4) END,"
    "    'over_allocated', c.booked > c.available,"
    "    'over_hours', trim_scale(round(greatest(c.booked - c.available, 0), 2))) ORDER BY c.week) AS weeks"
    "   FROM c GROUP BY c.id, c.name, c.skills) p),"
    " sk AS (SELECT s.skill, c.week, count(*) AS people, sum(c.available) AS available, sum(c.booked) AS booked"
    "  FROM c CROSS JOIN LATERAL unnest(c.skills) AS s(skill) GROUP BY 1, 2),"
    " skills AS (SELECT json_agg(json_build_object('skill', q.skill, 'weeks', q.weeks) ORDER BY q.skill) AS j"
    "  FROM (SELECT sk.skill, json_agg(json_build_object('week', to_char(sk.week, 'IYYY-\"W\"IW'), 'start', sk.week,"
    "    'people', sk.people, 'available', trim_scale(round(sk.available, 2)), 'booked', sk.booked,"
    "    'shortfall', trim_scale(round(greatest(sk.booked - sk.available, 0), 2))) ORDER BY sk.week) AS weeks"
    "   FROM sk GROUP BY sk.skill) q)"
    " SELECT json_build_object('from', $2::date, 'to', $3::date,"
    "  'weeks', (SELECT json_agg(json_build_object('week', to_char(w.week, 'IYYY-\"W\"IW'), 'start', w.week)"
    "   ORDER BY w.week) FROM w),"
    "  'people', coalesce((SELECT j FROM people), '[]'), 'skills', coalesce((SELECT j FROM skills), '[]'))::text",
    3};


/* The alerts' inputs: three statements sent in one round trip, each reading the touched campaigns' rows by
 * their keys (tests/db/test_plans.c holds their plans: no sort, no scan of the organisation's rows); the
 * campaigns are put in id order in C. */
#define ALERT_IDS "ANY (ARRAY(SELECT x::uuid FROM jsonb_array_elements_text($2::jsonb) x))"
static const db_stmt q_alert_campaigns = {
    "dash_alert_campaigns",
    "SELECT c.id::text, c.name, c.status, c.start_date::text, c.end_date::text,"
    " (now() AT TIME ZONE coalesce(o.time_zone, 'UTC'))::date::text, coalesce(c.budget_currency, ''),"
    " c.budget_amount::text,"
    " coalesce((SELECT sum(b.cost_amount) FROM bookings b WHERE b.campaign_id = c.id AND b.status <> 'cancelled'"
    "  AND b.cost_currency = c.budget_currency"
    "  AND (SELECT r.kind FROM resources r WHERE r.id = b.resource_id) <> 'budget_pool'), 0)::text,"
    " s.budget_warn_percent, s.budget_block_percent,"
    " coalesce((SELECT a.level FROM campaign_budget_alerts a WHERE a.campaign_id = c.id), '')"
    " FROM campaigns c LEFT JOIN organisations o ON o.id = c.org_id CROSS JOIN org_settings_of($1) s"
    " WHERE c.id = " ALERT_IDS " AND (c.org_id = $1) IS TRUE AND c.status <> 'cancelled'",
    2};
static const db_stmt q_alert_targets = {
    "dash_alert_targets",
    "SELECT t.campaign_id::text, t.kpi, coalesce(t.channel, ''), t.target::text, t.direction = 'higher', t.id::text,"
    " coalesce((SELECT a.status FROM kpi_target_alerts a WHERE a.target_id = t.id), '')"
    " FROM kpi_targets t WHERE t.org_id = $1 AND t.campaign_id = " ALERT_IDS,
    2};
static const db_stmt q_alert_sums = {
    "dash_alert_sums",
    "SELECT k.id::text, s.* FROM jsonb_array_elements_text($2::jsonb) k(id) CROSS JOIN LATERAL"
    " (SELECT coalesce(m.channel, '') AS key, coalesce(m.currency, '') AS currency, NULL::text, " PAIRS(PAIR_M)
    "  FROM measurements m WHERE m.org_id = $1 AND m.campaign_id = k.id::uuid GROUP BY 1, 2) s",
    2};

static const db_stmt q_today = {
    "dash_today",
    "SELECT (now() AT TIME ZONE coalesce((SELECT time_zone FROM organisations WHERE id = $1), 'UTC'))::date::text",
    1};

/* A decimal text with at most 2 decimals ("48000.00", "12", "-3.5") as minor units; 0 for NULL or empty. */
static long long cents_of(const char *s)
{
    long long whole = 0, frac = 0;
    int neg = *s == '-', decimals = 0;
    if (neg) s++;
    for (; *s >= '0' && *s <= '9'; s++) whole = whole * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && decimals < 2; s++, decimals++) frac = frac * 10 + (*s - '0');
    if (decimals == 1) frac *= 10;
    long long v = whole * 100 + frac;
    return neg ? -v : v;
}

void dash_groups_free(dash_groups *g)
{
    if (!g) return;
    free(g->items);
    g->items = NULL;
    g->n = 0;
}

void dash_campaign_free(dash_campaign *c)
{
    if (!c) return;
    free(c->targets);
    dash_groups_free(&c->channels);
    memset(c, 0, sizeof *c);
}

static void copy(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src); }

/* Row r of a result whose columns, from column `skip`, are key, currency, allocation, then the counter pairs. */
static void group_of(PGresult *res, int r, int skip, dash_group *g)
{
    copy(g->key, sizeof g->key, PQgetvalue(res, r, skip));
    copy(g->currency, sizeof g->currency, PQgetvalue(res, r, skip + 1));
    g->has_allocated = !PQgetisnull(res, r, skip + 2);
    g->allocated = g->has_allocated ? cents_of(PQgetvalue(res, r, skip + 2)) : 0;
    for (int k = 0; k < KPI_COUNTERS; k++) {
        int col = skip + GROUP_COLUMNS + 2 * k;
        if (PQgetisnull(res, r, col + 1) || atoll(PQgetvalue(res, r, col + 1)) <= 0) continue;
        const char *v = PQgetvalue(res, r, col);
        g->c.v[k] = k == KPI_SPEND || k == KPI_REVENUE ? cents_of(v) : atoll(v);
        g->c.present |= 1u << k;
    }
}

/* The groups of a result whose columns are key, currency, allocation, then the counter pairs. */
static app_err groups_of(PGresult *res, dash_groups *out)
{
    size_t n = (size_t)PQntuples(res);
    dash_group *items = calloc(n ? n : 1, sizeof *items);
    if (!items) return APP_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++) group_of(res, (int)i, 0, &items[i]);
    out->items = items;
    out->n = n;
    return APP_OK;
}

static app_err run_groups(db_conn *conn, const db_stmt *stmt, const char *const *params, dash_groups *out)
{
    PGresult *res = NULL;
    app_err e = db_exec(conn, stmt, params, &res);
    if (!e) e = groups_of(res, out);
    PQclear(res);
    return e;
}

/* Row r of a result whose columns, from column `skip`, are kpi, channel, target, higher (then, for alerts, the
 * target's id and its alert). 0 for a key the catalogue no longer has. */
static int target_of(PGresult *res, int r, int skip, dash_target_row *t)
{
    const char *target = PQgetvalue(res, r, skip + 2);
    if (!(t->def = kpi_find(PQgetvalue(res, r, skip)))) return 0;
    copy(t->channel, sizeof t->channel, PQgetvalue(res, r, skip + 1));
    t->target = (kpi_value){0, t->def->unit, atoll(target), cents_of(target), strtod(target, NULL)};
    t->higher = PQgetvalue(res, r, skip + 3)[0] == 't';
    if (PQnfields(res) > skip + 5) {
        copy(t->id, sizeof t->id, PQgetvalue(res, r, skip + 4));
        copy(t->alert, sizeof t->alert, PQgetvalue(res, r, skip + 5));
    }
    return 1;
}

app_err dash_store_campaign(db_conn *conn, const char *org, const char *campaign_id, const dash_window *w,
                            dash_campaign *out)
{
    dash_campaign c = {0};
    PGresult *res = NULL;
    const char *params[] = {org, campaign_id, w->from, w->to};
    app_err e = db_exec(conn, &q_campaign, params, &res);
    if (e) goto out;
    if (PQntuples(res) != 1) { e = APP_ERR_NOT_FOUND; goto out; }
    copy(c.name, sizeof c.name, PQgetvalue(res, 0, 0));
    copy(c.status, sizeof c.status, PQgetvalue(res, 0, 1));
    copy(c.start, sizeof c.start, PQgetvalue(res, 0, 2));
    copy(c.end, sizeof c.end, PQgetvalue(res, 0, 3));
    copy(c.today, sizeof c.today, PQgetvalue(res, 0, 4));
    copy(c.currency, sizeof c.currency, PQgetvalue(res, 0, 5));
    c.has_budget = !PQgetisnull(res, 0, 6);
    c.budget = c.has_budget ? cents_of(PQgetvalue(res, 0, 6)) : 0;
    c.committed = cents_of(PQgetvalue(res, 0, 7));
    PQclear(res);
    res = NULL;
    if ((e = db_exec(conn, &q_targets, params, &res))) goto out;
    size_t n = (size_t)PQntuples(res);
    if (!(c.targets = calloc(n ? n : 1, sizeof *c.targets))) { e = APP_ERR_INTERNAL; goto out; }
    for (size_t i = 0; i < n; i++)
        c.ntargets += target_of(res, (int)i, 0, &c.targets[c.ntargets]);
    if ((e = run_groups(conn, &q_campaign_channels, params, &c.channels))) goto out;
    *out = c;
    memset(&c, 0, sizeof c);
out:
    PQclear(res);
    dash_campaign_free(&c);
    return e;
}

app_err dash_store_channels(db_conn *conn, const char *org, const dash_window *w, dash_groups *out)
{
    const char *params[] = {org, w->from, w->to, w->currency};
    return run_groups(conn, &q_channels, params, out);
}

app_err dash_store_periods(db_conn *conn, const char *org, const char *granularity, const dash_window *w,
                           dash_groups *out)
{
    const char *params[] = {org, granularity, w->from, w->to, w->currency};
    return run_groups(conn, &q_periods, params, out);
}

app_err dash_store_today(db_conn *conn, const char *org, char *out)
{
    const char *params[] = {org};
    char *today = NULL;
    app_err e = db_one_row(conn, &q_today, params, &today, NULL, 0);
    if (!e) copy(out, 11, today);
    free(today);
    return e;
}

app_err dash_store_capacity(db_conn *conn, const char *org, const char *from, const char *to, char **json)
{
    const char *params[] = {org, from, to};
    return db_one_row(conn, &q_capacity, params, json, NULL, 0);
}

static int by_id(const void *key, const void *camp) { return strcmp(key, ((const dash_campaign *)camp)->id); }
static int by_id_of(const void *a, const void *b)
{
    return strcmp(((const dash_campaign *)a)->id, ((const dash_campaign *)b)->id);
}

/* Appends row r of res (a campaign id in column 0) to the campaign of that id (camps: in id order, the text of
 * a uuid sorting as the uuid does); a row of a campaign not among them (a cancelled one) is left out. */
static int alert_append(dash_campaign *camps, size_t n, PGresult *res, int r, int targets)
{
    dash_campaign *c = bsearch(PQgetvalue(res, r, 0), camps, n, sizeof *camps, by_id);
    if (!c) return 0;
    if (targets) {
        dash_target_row *grown = realloc(c->targets, (c->ntargets + 1) * sizeof *grown);
        if (!grown) return -1;
        c->targets = grown;
        memset(&grown[c->ntargets], 0, sizeof *grown);
        c->ntargets += target_of(res, r, 1, &grown[c->ntargets]);
    } else {
        dash_group *grown = realloc(c->channels.items, (c->channels.n + 1) * sizeof *grown);
        if (!grown) return -1;
        c->channels.items = grown;
        memset(&grown[c->channels.n], 0, sizeof *grown);
        group_of(res, r, 1, &grown[c->channels.n++]);
    }
    return 0;
}

app_err dash_store_alert_inputs(db_conn *conn, const char *org, const char *ids_json, dash_campaign **out, size_t *n)
{
    const char *params[] = {org, ids_json};
    PGresult *res = NULL, *targets = NULL, *sums = NULL;
    dash_campaign *camps = NULL;
    size_t count = 0;
    app_err e = db_defer(conn, &q_alert_targets, params, &targets);
    if (!e) e = db_defer(conn, &q_alert_sums, params, &sums);
    if (!e) e = db_exec(conn, &q_alert_campaigns, params, &res);
    if (e) goto out;
    count = (size_t)PQntuples(res);
    if (!(camps = calloc(count ? count : 1, sizeof *camps))) { e = APP_ERR_INTERNAL; goto out; }
    for (size_t i = 0; i < count; i++) {
        dash_campaign *c = &camps[i];
        int r = (int)i;
        copy(c->id, sizeof c->id, PQgetvalue(res, r, 0));
        copy(c->name, sizeof c->name, PQgetvalue(res, r, 1));
        copy(c->status, sizeof c->status, PQgetvalue(res, r, 2));
        copy(c->start, sizeof c->start, PQgetvalue(res, r, 3));
        copy(c->end, sizeof c->end, PQgetvalue(res, r, 4));
        copy(c->today, sizeof c->today, PQgetvalue(res, r, 5));
        copy(c->currency, sizeof c->currency, PQgetvalue(res, r, 6));
        c->has_budget = !PQgetisnull(res, r, 7);
        c->budget = c->has_budget ? cents_of(PQgetvalue(res, r, 7)) : 0;
        c->committed = cents_of(PQgetvalue(res, r, 8));
        c->warn_pct = atoi(PQgetvalue(res, r, 9));
        c->block_pct = atoi(PQgetvalue(res, r, 10));
        copy(c->budget_alert, sizeof c->budget_alert, PQgetvalue(res, r, 11));
    }
    qsort(camps, count, sizeof *camps, by_id_of);
    /* the targets (in the order the index gives them) and the sums to their campaigns */
    for (int r = 0; r < PQntuples(targets); r++)
        if (alert_append(camps, count, targets, r, 1) != 0) { e = APP_ERR_INTERNAL; goto out; }
    for (int r = 0; r < PQntuples(sums); r++)
        if (alert_append(camps, count, sums, r, 0) != 0) { e = APP_ERR_INTERNAL; goto out; }
    *out = camps;
    *n = count;
    camps = NULL;
out:
    for (size_t i = 0; camps && i < count; i++) dash_campaign_free(&camps[i]);
    free(camps);
    PQclear(res);
    PQclear(targets);
    PQclear(sums);
    return e;
}
