/* alert.c — see alert.h. */
#include "alert.h"

#include <math.h>
#include <string.h>

#include "conflicts.h"
#include "dashboard.h"

/* A state's rank: none < at_risk < missed, none < warn < block. */
static int target_rank(const char *s) { return strcmp(s, "missed") == 0 ? 2 : strcmp(s, "at_risk") == 0 ? 1 : 0; }
static int budget_rank(const char *s) { return strcmp(s, "block") == 0 ? 2 : strcmp(s, "warn") == 0 ? 1 : 0; }

static const char *const target_states[] = {NULL, "at_risk", "missed"};
static const char *const budget_states[] = {NULL, "warn", "block"};

static json_t *opt_string(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *money(long long cents, const char *currency)
{
    kpi_value v = {0, KPI_UNIT_MONEY, 0, cents, 0};
    return kpi_value_json(&v, currency);
}

static void add_counters(kpi_counters *into, const kpi_counters *c)
{
    for (int k = 0; k < KPI_COUNTERS; k++) into->v[k] += c->v[k];
    into->present |= c->present;
}

/* Whether the campaign's measurements are in one currency at most (rows without money have none). */
static int one_currency(const dash_campaign *c)
{
    const char *seen = *c->currency ? c->currency : NULL;
    for (size_t i = 0; i < c->channels.n; i++) {
        const char *k = c->channels.items[i].currency;
        if (!*k) continue;
        if (seen && strcmp(seen, k) != 0) return 0;
        seen = k;
    }
    return 1;
}

/* One change: {kind, campaign_id, target_id, state, type, data} (data: a new reference or NULL). */
static int push(json_t *j_changes, const char *kind, const dash_campaign *c, const char *target_id,
                const char *state, const char *type, json_t *j_data)
{
    json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "kind", kind, "campaign_id", c->id, "target_id",
                          opt_string(target_id), "state", opt_string(state), "type", opt_string(j_data ? type : NULL),
                          "data", j_data ? j_data : json_null());
    return j ? json_array_append_new(j_changes, j) : -1;
}

static int judge_targets(json_t *j_changes, const dash_campaign *c, const dash_days *d)
{
    const char *currency = *c->currency ? c->currency : NULL;
    for (size_t i = 0; i < c->ntargets; i++) {
        const dash_target_row *row = &c->targets[i];
        kpi_counters scope = {{0}, 0};
        for (size_t k = 0; k < c->channels.n; k++) /* a channel's target reads its channel, the others all */
            if (!*row->channel || strcmp(row->channel, c->channels.items[k].key) == 0)
                add_counters(&scope, &c->channels.items[k].c);
        dash_target t = {row->def, row->target, row->higher};
        dash_assessment a;
        dash_assess(&t, &scope, d, &a);
        int now = a.status == DASH_MISSED ? 2 : a.status == DASH_AT_RISK ? 1 : 0, before = target_rank(row->alert);
        if (now == before) continue;
        json_t *j_data = NULL;
        if (now > before &&
            !(j_data = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:s, s:s}",
                                 "campaign_id", c->id, "campaign_name", c->name, "kpi", row->def->key, "label",
                                 row->def->label, "channel", opt_string(row->channel), "unit",
                                 kpi_unit_names[row->def->unit], "direction", row->higher ? "higher" : "lower",
                                 "target", kpi_value_json(&row->target, currency), "actual",
                                 kpi_value_json(&a.actual, currency), "expected", kpi_value_json(&a.expected, currency),
                                 "status", dash_status_names[a.status], "previous_status",
                                 opt_string(target_states[before]), "analysis", a.analysis, "as_of", c->today)))
            return -1;
        if (push(j_changes, "target", c, row->id, target_states[now], "kpi.target_missed", j_data) != 0) return -1;
    }
    return 0;
}

static int judge_budget(json_t *j_changes, const dash_campaign *c)
{
    if (!c->has_budget || !*c->currency || strcmp(c->status, "completed") == 0) return 0; /* as budget_overrun */
    long long spent = 0;
    for (size_t k = 0; k < c->channels.n; k++) {
        const dash_group *g = &c->channels.items[k];
        if (strcmp(g->currency, c->currency) == 0 && ((g->c.present >> KPI_SPEND) & 1u)) spent += g->c.v[KPI_SPEND];
    }
    cf_settings s;
    cf_settings_default(&s);
    s.budget_warn_pct = c->warn_pct;
    s.budget_block_pct = c->block_pct;
    long long total = c->committed + spent;
    int now = cf_budget_level(&s, total, c->budget), before = budget_rank(c->budget_alert);
    if (now == before) return 0;
    json_t *j_data = NULL;
    if (now > before &&
        !(j_data = json_pack("{s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:s}", "campaign_id", c->id,
                             "campaign_name", c->name, "level", budget_states[now], "previous_level",
                             opt_string(budget_states[before]), "threshold_percent",
                             now == 2 ? c->block_pct : c->warn_pct, "percent",
                             c->budget > 0 ? json_real(round((double)total * 1000.0 / (double)c->budget) / 10.0)
                                           : json_null(),
                             "budget", money(c->budget, c->currency), "committed", money(c->committed, c->currency),
                             "spent", money(spent, c->currency), "as_of", c->today)))
        return -1;
    return push(j_changes, "budget", c, NULL, budget_states[now], "budget.threshold_crossed", j_data);
}

json_t *alert_judge(const dash_campaign *camps, size_t n)
{
    json_t *j_changes = json_array();
    for (size_t i = 0; j_changes && i < n; i++) {
        const dash_campaign *c = &camps[i];
        dash_days d;
        if (!one_currency(c) || dash_day(c->start, &d.start) || dash_day(c->end, &d.end) ||
            dash_day(c->today, &d.as_of))
            continue;
        if (judge_targets(j_changes, c, &d) != 0 || judge_budget(j_changes, c) != 0) {
            json_decref(j_changes);
            j_changes = NULL;
        }
    }
    return j_changes;
}
