/* dashboard.c — see dashboard.h. */
#include "dashboard.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const dash_status_names[] = {"met", "on_track", "at_risk", "missed", NULL};

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

/* The inverse (civil_from_days). */
static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

void dash_day_format(long day, char out[11])
{
    long y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04ld-%02u-%02u", y % 10000, m % 100, d % 100);
}

long dash_period_end(long start, const char *granularity)
{
    if (strcmp(granularity, "week") == 0) return start + 6;
    if (strcmp(granularity, "month") == 0) {
        long y;
        unsigned m, d;
        civil_from_days(start, &y, &m, &d);
        return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
    }
    return start;
}

int dash_day(const char *s, long *out)
{
    unsigned y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1)
        return -1;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 ? leap : 0)) return -1;
    *out = days_from_civil((long)y, m, d);
    return 0;
}

double dash_elapsed(const dash_days *d)
{
    if (d->as_of < d->start) return 0;
    if (d->as_of >= d->end) return 1;
    return (double)(d->as_of - d->start + 1) / (double)(d->end - d->start + 1);
}

int dash_over(const dash_days *d) { return d->as_of > d->end; }

/* What to look at when a KPI falls short, in the words of a marketing review. */
static const char *advice(const kpi_def *def)
{
    static const struct {
        const char *key, *advice;
    } table[] = {
        {"cpc", "review bids and targeting"},
        {"cpl", "review bids and targeting"},
        {"cpa", "review bids and targeting"},
        {"ctr", "review the creative and the targeting"},
        {"open_rate", "review subject lines and send times"},
        {"click_to_open", "review the message and its call to action"},
        {"conversion_rate", "review the offer and the landing page"},
        {"lead_to_customer", "review lead qualification with sales"},
        {"mql_to_sql", "review lead qualification with sales"},
        {"bounce_rate", "clean the list"},
        {"unsubscribe_rate", "review sending pressure and relevance"},
        {"roas", "move budget to the channels that return most"},
        {"roi", "move budget to the channels that return most"},
        {"spend", "slow the spending down"},
        {"bounces", "clean the list"},
        {"unsubscribes", "review sending pressure and relevance"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].key, def->key) == 0) return table[i].advice;
    return def->higher_is_better ? "widen the reach or the budget" : "review the plan";
}

/* A value in words: 500, 96.00, 2.5 %. */
static void words(const kpi_value *v, char out[48])
{
    if (v->is_null) { snprintf(out, 48, "no figure"); return; }
    switch (v->unit) {
    case KPI_UNIT_COUNT: snprintf(out, 48, "%lld", v->count); return;
    case KPI_UNIT_MONEY: kpi_format_cents(v->cents, out); return;
    case KPI_UNIT_RATIO: {
        snprintf(out, 48, "%.2f", v->ratio * 100.0);
        char *dot = strchr(out, '.');
        if (dot) { /* 2.50 → 2.5, 2.00 → 2 */
            char *end = out + strlen(out) - 1;
            while (end > dot && *end == '0') *end-- = '\0';
            if (end == dot) *end = '\0';
        }
        strncat(out, " %", 47 - strlen(out));
        return;
    }
    }
    out[0] = '\0';
}

/* a compared with b in the unit: <0, 0, >0. */
static int cmp(const kpi_value *a, const kpi_value *b)
{
    switch (a->unit) {
    case KPI_UNIT_COUNT: return (a->count > b->count) - (a->count < b->count);
    case KPI_UNIT_MONEY: return (a->cents > b->cents) - (a->cents < b->cents);
    case KPI_UNIT_RATIO: return (a->ratio > b->ratio) - (a->ratio < b->ratio);
    }
    return 0;
}

static kpi_value scaled(const kpi_value *v, double share)
{
    kpi_value r = *v;
    r.count = llround((double)v->count * share);
    r.cents = llround((double)v->cents * share);
    r.ratio = v->ratio * share;
    return r;
}

void dash_assess(const dash_target *t, const kpi_counters *c, const dash_days *d, dash_assessment *out)
{
    char act[48], tgt[48], exp[48];
    int counter = kpi_is_counter(t->def), over = dash_over(d);
    memset(out, 0, sizeof *out);
    out->actual = kpi_eval(t->def, c);
    out->expected = counter ? scaled(&t->target, dash_elapsed(d)) : t->target;
    kpi_value actual = out->actual;
    if (counter && actual.is_null) { /* nothing reported yet: none so far */
        actual.is_null = 0;
        actual.count = actual.cents = 0;
    }
    words(&actual, act);
    words(&t->target, tgt);
    words(&out->expected, exp);
    const char *what = advice(t->def);
    if (d->as_of < d->start && !over) {
        out->status = DASH_ON_TRACK;
        snprintf(out->analysis, sizeof out->analysis, "not started: nothing is due yet");
        return;
    }
    if (counter) {
        int vs_target = cmp(&actual, &t->target), vs_pace = cmp(&actual, &out->expected);
        if (t->higher) {
            out->status = vs_target >= 0 ? DASH_MET : over ? DASH_MISSED : vs_pace >= 0 ? DASH_ON_TRACK : DASH_AT_RISK;
        } else {
            out->status = vs_target > 0 ? DASH_MISSED : over ? DASH_MET : vs_pace <= 0 ? DASH_ON_TRACK : DASH_AT_RISK;
        }
        switch (out->status) {
        case DASH_MET: snprintf(out->analysis, sizeof out->analysis, "met: %s against a target of %s", act, tgt); break;
        case DASH_ON_TRACK:
            snprintf(out->analysis, sizeof out->analysis, "on track: %s so far, %s expected by now", act, exp);
            break;
        case DASH_AT_RISK:
            snprintf(out->analysis, sizeof out->analysis, "%s pace: %s so far, %s expected by now: %s",
                     t->higher ? "behind" : "ahead of", act, exp, what);
            break;
        case DASH_MISSED:
            snprintf(out->analysis, sizeof out->analysis, "missed: %s against a target of %s: %s", act, tgt, what);
            break;
        }
        return;
    }
    if (actual.is_null) {
        out->status = over ? DASH_MISSED : DASH_AT_RISK;
        snprintf(out->analysis, sizeof out->analysis, "no figure yet: the measurements give no %s", t->def->key);
        return;
    }
    int vs_target = cmp(&actual, &t->target);
    int meets = t->higher ? vs_target >= 0 : vs_target <= 0;
    out->status = meets ? (over ? DASH_MET : DASH_ON_TRACK) : (over ? DASH_MISSED : DASH_AT_RISK);
    if (meets)
        snprintf(out->analysis, sizeof out->analysis, "performing: %s against a target of %s", act, tgt);
    else
        snprintf(out->analysis, sizeof out->analysis, "%s target: %s against %s: %s",
                 t->higher ? "below" : "above", act, tgt, what);
}

static json_t *money(int known, long long cents, const char *currency)
{
    if (!known || !currency) return json_null();
    kpi_value v = {0, KPI_UNIT_MONEY, 0, cents, 0};
    return kpi_value_json(&v, currency);
}

json_t *dash_budget_json(const dash_budget *b, const dash_days *d, const char *currency)
{
    long long projected = b->spent;
    if (d->as_of < d->start) projected = b->committed;
    else if (!dash_over(d)) {
        double elapsed = dash_elapsed(d);
        projected = elapsed > 0 ? llround((double)b->spent / elapsed) : b->spent;
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "budget", money(b->has_budget, b->budget, currency), "committed",
                     money(1, b->committed, currency), "spent", money(1, b->spent, currency), "remaining",
                     money(b->has_budget, b->budget - b->spent, currency), "projected_spend",
                     money(1, projected, currency));
}

static int put(json_t *j_obj, const char *name, const char *key, const kpi_counters *c, const char *currency)
{
    kpi_value v = kpi_eval(kpi_find(key), c);
    json_t *j = v.unit == KPI_UNIT_MONEY && !currency ? json_null() : kpi_value_json(&v, currency);
    return json_object_set_new(j_obj, name, j);
}

int dash_figures(json_t *j_obj, const kpi_counters *c, const char *currency, int funnel)
{
    static const char *const plain[][2] = {{"spent", "spend"},     {"leads", "leads"},
                                           {"conversions", "conversions"}, {"revenue", "revenue"},
                                           {"cpl", "cpl"},         {"cpa", "cpa"},
                                           {"roi", "roi"},         {"roas", "roas"}};
    static const char *const extra[][2] = {{"impressions", "impressions"}, {"clicks", "clicks"}, {"ctr", "ctr"},
                                           {"conversion_rate", "conversion_rate"}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (put(j_obj, plain[i][0], plain[i][1], c, currency) != 0) return -1;
    for (size_t i = 0; funnel && i < sizeof extra / sizeof extra[0]; i++)
        if (put(j_obj, extra[i][0], extra[i][1], c, currency) != 0) return -1;
    return 0;
}

json_t *dash_change_json(const kpi_counters *cur, const kpi_counters *prev, kpi_counter k)
{
    if (!((prev->present >> k) & 1u) || prev->v[k] == 0) return json_null();
    long long now = (cur->present >> k) & 1u ? cur->v[k] : 0;
    return json_real((double)(now - prev->v[k]) / (double)prev->v[k]);
}
