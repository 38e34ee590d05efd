/* h_dashboards.c — the dashboards: GET /v1/dashboards/campaigns/{id},
 * /v1/dashboards/channels and /v1/dashboards/portfolio. Aggregate reads, not
 * a descriptor's rows or pages: parse the window, read the sums
 * (dashboard_store.c), judge and render them (dashboard.c). Dates are
 * calendar days in the organisation's time zone, the days measurements
 * carry; money stays in its currency. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "dashboard_store.h"
#include "handlers.h"
#include "respond.h"
#include "validate.h"

#define PERIODS_MAX 1000
#define CAPACITY_DAYS_MAX 731 /* two years of weeks */

/* from, to (optional calendar dates, to not before from) and currency (optional ISO 4217 code) into *w. */
static int window_or_reply(req_ctx *ctx, dash_window *w)
{
    w->from = query_get(&ctx->q, "from");
    w->to = query_get(&ctx->q, "to");
    w->currency = query_get(&ctx->q, "currency");
    static const char *const names[] = {"from", "to"};
    const char *dates[] = {w->from, w->to};
    for (int i = 0; i < 2; i++)
        if (dates[i] && (!valid_date(dates[i]) || !date_storable(dates[i]))) {
            reply_bad_param(ctx, names[i], "must be a calendar date YYYY-MM-DD from 1900-01-01 to 9999-12-30");
            return 0;
        }
    if (w->from && w->to && strcmp(w->to, w->from) < 0) {
        reply_bad_param(ctx, "to", "must not be before from");
        return 0;
    }
    const char *c = w->currency;
    if (c && !(strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' &&
               c[2] <= 'Z')) {
        reply_bad_param(ctx, "currency", "must be an ISO 4217 code such as EUR");
        return 0;
    }
    return 1;
}

/* Replies 409 mixed_currencies naming them when the groups hold more than one currency. */
static int one_currency_or_reply(req_ctx *ctx, const dash_groups *g, const char *expected)
{
    const char *seen = expected && *expected ? expected : NULL;
    for (size_t i = 0; i < g->n; i++) {
        const char *c = g->items[i].currency;
        if (!*c || (seen && strcmp(seen, c) == 0)) continue;
        if (!seen) { seen = c; continue; }
        json_t *j_list = json_array();
        for (size_t k = 0; j_list && k < g->n; k++) {
            const char *ck = g->items[k].currency;
            int dup = !*ck;
            for (size_t q = 0; !dup && q < json_array_size(j_list); q++)
                dup = strcmp(json_string_value(json_array_get(j_list, q)), ck) == 0;
            if (!dup) json_array_append_new(j_list, json_string(ck));
        }
        reply_problem_extra(ctx, APP_ERR_MIXED_CURRENCIES,
                            "these figures are in more than one currency and are never added: ask for one with "
                            "currency=",
                            j_list ? json_pack("{s:o}", "currencies", j_list) : NULL);
        return 0;
    }
    return 1;
}

static void add_counters(kpi_counters *into, const kpi_counters *c)
{
    for (int k = 0; k < KPI_COUNTERS; k++) into->v[k] += c->v[k];
    into->present |= c->present;
}

static json_t *opt_string(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* One channel's row: its allocation and figures. */
static json_t *channel_json(const dash_group *g)
{
    const char *currency = *g->currency ? g->currency : NULL;
    kpi_value alloc = {!g->has_allocated, KPI_UNIT_MONEY, 0, g->allocated, 0};
    json_t *j = json_pack("{s:o, s:o, s:o}", "channel", opt_string(g->key), "currency", opt_string(g->currency),
                          "budget_allocated", currency ? kpi_value_json(&alloc, currency) : json_null());
    if (j && dash_figures(j, &g->c, currency, 0) != 0) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static json_t *target_json(const dash_target_row *row, const kpi_counters *c, const dash_days *d,
                           const char *currency)
{
    dash_target t = {row->def, row->target, row->higher};
    dash_assessment a;
    dash_assess(&t, c, d, &a);
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:s}", "kpi", row->def->key, "label",
                     row->def->label, "channel", opt_string(row->channel), "unit", kpi_unit_names[row->def->unit],
                     "direction", row->higher ? "higher" : "lower", "target", kpi_value_json(&row->target, currency),
                     "actual", kpi_value_json(&a.actual, currency), "expected",
                     kpi_value_json(&a.expected, currency), "status", dash_status_names[a.status], "analysis",
                     a.analysis);
}

static json_t *campaign_json(const char *id, const dash_campaign *c, const dash_days *d, const char *as_of)
{
    const char *currency = *c->currency ? c->currency : NULL;
    kpi_counters total = {{0}, 0};
    json_t *j_channels = json_array(), *j_targets = json_array(), *j_totals = json_object();
    for (size_t i = 0; i < c->channels.n; i++) {
        add_counters(&total, &c->channels.items[i].c);
        if (j_channels) json_array_append_new(j_channels, channel_json(&c->channels.items[i]));
    }
    for (size_t i = 0; j_targets && i < c->ntargets; i++) {
        const dash_target_row *row = &c->targets[i];
        kpi_counters scope = {{0}, 0};
        for (size_t k = 0; k < c->channels.n; k++)
            if (!*row->channel || strcmp(row->channel, c->channels.items[k].key) == 0)
                add_counters(&scope, &c->channels.items[k].c);
        json_array_append_new(j_targets, target_json(row, &scope, d, currency));
    }
    dash_budget b = {c->has_budget, c->budget, c->committed, (total.present >> KPI_SPEND) & 1u ? total.v[KPI_SPEND] : 0};
    if (j_totals && dash_figures(j_totals, &total, currency, 1) != 0) {
        json_decref(j_totals);
        j_totals = NULL;
    }
    if (!j_channels || !j_targets || !j_totals) {
        json_decref(j_channels);
        json_decref(j_targets);
        json_decref(j_totals);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o}", "campaign_id", id, "name",
                     c->name, "status", c->status, "start_date", c->start, "end_date", c->end, "as_of", as_of,
                     "elapsed", dash_elapsed(d), "currency", opt_string(c->currency), "targets", j_targets, "budget",
                     dash_budget_json(&b, d, currency), "channels", j_channels, "totals", j_totals);
}

void h_dashboard_campaign(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", NULL};
    char id[37];
    dash_window w;
    dash_campaign c = {0};
    db_conn *conn = NULL;
    json_t *j = NULL;

    if (!require_perm_or_reply(ctx, PERM_MEASUREMENT_READ) || !query_known_or_reply(ctx, allowed) ||
        !path_uuid_or_reply(ctx, 3, id) || !window_or_reply(ctx, &w))
        goto out;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = dash_store_campaign(conn, ctx->claims.org, id, &w, &c);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no campaign with this id" : NULL); goto out; }
    if (!one_currency_or_reply(ctx, &c.channels, c.currency)) goto out;
    /* The numbers run to `to`, or to today: the pace is judged on that day. */
    const char *as_of = w.to ? w.to : c.today;
    dash_days d;
    if (dash_day(c.start, &d.start) || dash_day(c.end, &d.end) || dash_day(as_of, &d.as_of)) {
        reply_problem(ctx, APP_ERR_INTERNAL, "a stored date is not a calendar date");
        goto out;
    }
    if (!(j = campaign_json(id, &c, &d, as_of))) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); goto out; }
    reply_json(ctx, 200, j);
out:
    json_decref(j);
    dash_campaign_free(&c);
}

void h_dashboard_channels(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", "currency", NULL};
    dash_window w;
    dash_groups g = {0};
    db_conn *conn = NULL;
    json_t *j = NULL, *j_items = NULL;

    if (!require_perm_or_reply(ctx, PERM_MEASUREMENT_READ) || !query_known_or_reply(ctx, allowed) ||
        !window_or_reply(ctx, &w))
        goto out;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = dash_store_channels(conn, ctx->claims.org, &w, &g);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    j_items = json_array();
    for (size_t i = 0; j_items && i < g.n; i++) {
        json_t *j_row = channel_json(&g.items[i]);
        if (!j_row || json_array_append_new(j_items, j_row) != 0) {
            json_decref(j_items);
            j_items = NULL;
        }
    }
    if (!j_items || !(j = json_pack("{s:o, s:o, s:o, s:O}", "from", opt_string(w.from), "to", opt_string(w.to),
                                    "currency", opt_string(w.currency), "items", j_items))) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    reply_json(ctx, 200, j);
out:
    json_decref(j_items);
    json_decref(j);
    dash_groups_free(&g);
}

static json_t *changes_json(const kpi_counters *cur, const kpi_counters *prev)
{
    static const struct {
        const char *name;
        kpi_counter k;
    } shown[] = {{"impressions", KPI_IMPRESSIONS}, {"clicks", KPI_CLICKS}, {"leads", KPI_LEADS},
                 {"conversions", KPI_CONVERSIONS}, {"spent", KPI_SPEND},   {"revenue", KPI_REVENUE}};
    json_t *j = json_object();
    for (size_t i = 0; j && i < sizeof shown / sizeof shown[0]; i++)
        if (json_object_set_new(j, shown[i].name, dash_change_json(cur, prev, shown[i].k)) != 0) {
            json_decref(j);
            j = NULL;
        }
    return j;
}

static json_t *period_json(long start, const char *granularity, const kpi_counters *c, const kpi_counters *prev,
                           const char *currency)
{
    char first[11], last[11];
    dash_day_format(start, first);
    dash_day_format(dash_period_end(start, granularity), last);
    json_t *j = json_pack("{s:s, s:s, s:o}", "start", first, "end", last, "change", changes_json(c, prev));
    if (j && dash_figures(j, c, currency, 1) != 0) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

void h_dashboard_portfolio(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", "currency", "granularity", NULL};
    static const char *const granularities[] = {"day", "week", "month", NULL};
    static const long period_days[] = {1, 7, 28};
    dash_window w;
    dash_groups g = {0};
    db_conn *conn = NULL;
    json_t *j = NULL, *j_periods = NULL;
    long from, to;

    if (!require_perm_or_reply(ctx, PERM_MEASUREMENT_READ) || !query_known_or_reply(ctx, allowed) ||
        !window_or_reply(ctx, &w))
        goto out;
    const char *granularity = query_get(&ctx->q, "granularity");
    int gi = 2;
    if (granularity) {
        for (gi = 0; granularities[gi] && strcmp(granularities[gi], granularity) != 0; gi++) continue;
        if (!granularities[gi]) { reply_bad_param(ctx, "granularity", "must be day, week or month"); goto out; }
    }
    granularity = granularities[gi];
    if (!w.from || !w.to) { reply_bad_param(ctx, w.from ? "to" : "from", "is required: a calendar date"); goto out; }
    dash_day(w.from, &from);
    dash_day(w.to, &to);
    if ((to - from) / period_days[gi] + 1 > PERIODS_MAX) {
        reply_bad_param(ctx, "to", "the window holds more than 1000 periods: narrow it or take a longer granularity");
        goto out;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = dash_store_periods(conn, ctx->claims.org, granularity, &w, &g);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    if (!one_currency_or_reply(ctx, &g, w.currency)) goto out;
    const char *currency = w.currency;
    for (size_t i = 0; !currency && i < g.n; i++)
        if (*g.items[i].currency) currency = g.items[i].currency;
    /* Rows come per period and currency (one currency by now): the first period is the one before the window,
     * there only to compare with. */
    kpi_counters prev = {{0}, 0}, cur = {{0}, 0}, total = {{0}, 0};
    long start = 0;
    int have = 0, first = 1;
    j_periods = json_array();
    for (size_t i = 0; j_periods && i <= g.n; i++) {
        long day = 0;
        if (i < g.n && dash_day(g.items[i].key, &day) != 0) continue;
        if (have && (i == g.n || day != start)) {
            if (!first) {
                json_t *j_p = period_json(start, granularity, &cur, &prev, currency);
                if (!j_p || json_array_append_new(j_periods, j_p) != 0) {
                    json_decref(j_periods);
                    j_periods = NULL;
                    break;
                }
                add_counters(&total, &cur);
            }
            first = 0;
            prev = cur;
            memset(&cur, 0, sizeof cur);
            have = 0;
        }
        if (i == g.n) break;
        start = day;
        have = 1;
        add_counters(&cur, &g.items[i].c);
    }
    json_t *j_totals = json_object();
    if (j_totals && dash_figures(j_totals, &total, currency, 1) != 0) {
        json_decref(j_totals);
        j_totals = NULL;
    }
    if (!j_periods || !j_totals) json_decref(j_totals);
    else
        j = json_pack("{s:s, s:s, s:s, s:o, s:O, s:o}", "granularity", granularity, "from", w.from, "to", w.to,
                      "currency", opt_string(currency), "periods", j_periods, "totals", j_totals);
    if (!j) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    reply_json(ctx, 200, j);
out:
    json_decref(j_periods);
    json_decref(j);
    dash_groups_free(&g);
}

/* Not judged in C: the weeks' arithmetic is the query's (dashboard_store.c). The window is two calendar dates;
 * its ISO weeks, at most two years of them. */
void h_dashboard_capacity(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", NULL};
    dash_window w;
    db_conn *conn = NULL;
    char *json = NULL;
    long from, to;

    if (!require_perm_or_reply(ctx, PERM_MEASUREMENT_READ) || !query_known_or_reply(ctx, allowed) ||
        !window_or_reply(ctx, &w))
        return;
    if (!w.from || !w.to) { reply_bad_param(ctx, w.from ? "to" : "from", "is required: a calendar date"); return; }
    dash_day(w.from, &from);
    dash_day(w.to, &to);
    if (to - from > CAPACITY_DAYS_MAX) {
        reply_bad_param(ctx, "to", "the window is longer than two years: narrow it");
        return;
    }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = dash_store_capacity(conn, ctx->claims.org, w.from, w.to, &json);
    db_release(ctx->app->pool, conn);
    if (e) reply_problem(ctx, e, NULL);
    else reply_json_text(ctx, 200, json);
    free(json);
}
