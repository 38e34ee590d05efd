/* kpi.c — see kpi.h. */
#include "kpi.h"

#include <stdio.h>
#include <string.h>

const char *const kpi_unit_names[] = {"count", "money", "ratio", NULL};

/* The catalogue's keys, in its order (a unit test holds them together), for field tables. */
const char *const kpi_keys[] = {
    "impressions", "reach",     "sends",         "opens",       "clicks",          "bounces",         "unsubscribes",
    "visits",      "leads",     "mqls",          "sqls",        "conversions",     "spend",           "revenue",
    "ctr",         "open_rate", "click_to_open", "bounce_rate", "unsubscribe_rate", "conversion_rate", "lead_to_customer",
    "mql_to_sql",  "cpc",       "cpl",           "cpa",         "roas",            "roi",             NULL};

#define COUNTER(k, key, label, unit, desc) {key, label, unit, 1, k, KPI_NONE, KPI_NONE, "sum(" key ")", desc}
#define RATIO(key, label, better, num, den, formula, desc) \
    {key, label, KPI_UNIT_RATIO, better, num, KPI_NONE, den, formula, desc}
#define COST(key, label, den, formula, desc) \
    {key, label, KPI_UNIT_MONEY, 0, KPI_SPEND, KPI_NONE, den, formula, desc}

/* SPEC §3 (counters) and §7 (derived KPIs). Counters first, in kpi_counter order. */
static const kpi_def catalogue[] = {
    COUNTER(KPI_IMPRESSIONS, "impressions", "Impressions", KPI_UNIT_COUNT, "times an ad or post was shown"),
    COUNTER(KPI_REACH, "reach", "Reach", KPI_UNIT_COUNT, "distinct people reached (summed as reported)"),
    COUNTER(KPI_SENDS, "sends", "Sends", KPI_UNIT_COUNT, "messages sent"),
    COUNTER(KPI_OPENS, "opens", "Opens", KPI_UNIT_COUNT, "messages opened"),
    COUNTER(KPI_CLICKS, "clicks", "Clicks", KPI_UNIT_COUNT, "clicks on a link, ad or post"),
    COUNTER(KPI_BOUNCES, "bounces", "Bounces", KPI_UNIT_COUNT, "messages that could not be delivered"),
    COUNTER(KPI_UNSUBSCRIBES, "unsubscribes", "Unsubscribes", KPI_UNIT_COUNT, "recipients who unsubscribed"),
    COUNTER(KPI_VISITS, "visits", "Visits", KPI_UNIT_COUNT, "site visits"),
    COUNTER(KPI_LEADS, "leads", "Leads", KPI_UNIT_COUNT, "leads created"),
    COUNTER(KPI_MQLS, "mqls", "MQLs", KPI_UNIT_COUNT, "marketing-qualified leads"),
    COUNTER(KPI_SQLS, "sqls", "SQLs", KPI_UNIT_COUNT, "sales-qualified leads"),
    COUNTER(KPI_CONVERSIONS, "conversions", "Conversions", KPI_UNIT_COUNT, "customers won (purchases, sign-ups)"),
    COUNTER(KPI_SPEND, "spend", "Spend", KPI_UNIT_MONEY, "money spent, in the campaign's currency"),
    COUNTER(KPI_REVENUE, "revenue", "Revenue", KPI_UNIT_MONEY, "revenue attributed, in the campaign's currency"),
    RATIO("ctr", "Click-through rate", 1, KPI_CLICKS, KPI_IMPRESSIONS, "clicks / impressions",
          "share of impressions that were clicked"),
    RATIO("open_rate", "Open rate", 1, KPI_OPENS, KPI_SENDS, "opens / sends", "share of sends that were opened"),
    RATIO("click_to_open", "Click-to-open rate", 1, KPI_CLICKS, KPI_OPENS, "clicks / opens",
          "share of opens that were clicked"),
    RATIO("bounce_rate", "Bounce rate", 0, KPI_BOUNCES, KPI_SENDS, "bounces / sends", "share of sends that bounced"),
    RATIO("unsubscribe_rate", "Unsubscribe rate", 0, KPI_UNSUBSCRIBES, KPI_SENDS, "unsubscribes / sends",
          "share of sends that led to an unsubscription"),
    RATIO("conversion_rate", "Conversion rate", 1, KPI_CONVERSIONS, KPI_CLICKS, "conversions / clicks",
          "share of clicks that converted"),
    RATIO("lead_to_customer", "Lead to customer rate", 1, KPI_CONVERSIONS, KPI_LEADS, "conversions / leads",
          "share of leads that became customers"),
    RATIO("mql_to_sql", "MQL to SQL rate", 1, KPI_SQLS, KPI_MQLS, "sqls / mqls",
          "share of marketing-qualified leads that sales accepted"),
    COST("cpc", "Cost per click", KPI_CLICKS, "spend / clicks", "spend per click"),
    COST("cpl", "Cost per lead", KPI_LEADS, "spend / leads", "spend per lead"),
    COST("cpa", "Cost per acquisition", KPI_CONVERSIONS, "spend / conversions", "spend per conversion"),
    RATIO("roas", "Return on ad spend", 1, KPI_REVENUE, KPI_SPEND, "revenue / spend", "revenue per unit of spend"),
    {"roi", "Return on investment", KPI_UNIT_RATIO, 1, KPI_REVENUE, KPI_SPEND, KPI_SPEND, "(revenue - spend) / spend",
     "profit per unit of spend"},
};

const kpi_def *kpi_catalogue(size_t *n)
{
    *n = sizeof catalogue / sizeof catalogue[0];
    return catalogue;
}

const kpi_def *kpi_find(const char *key)
{
    for (size_t i = 0; key && i < sizeof catalogue / sizeof catalogue[0]; i++)
        if (strcmp(catalogue[i].key, key) == 0) return &catalogue[i];
    return NULL;
}

int kpi_is_counter(const kpi_def *def) { return def->den == KPI_NONE; }

json_t *kpi_catalogue_json(void)
{
    json_t *j_items = json_array();
    for (size_t i = 0; j_items && i < sizeof catalogue / sizeof catalogue[0]; i++) {
        const kpi_def *d = &catalogue[i];
        json_t *j_counters = json_array();
        int parts[] = {d->num, d->minus, d->den};
        for (int p = 0; j_counters && p < 3; p++) {
            if (parts[p] == KPI_NONE) continue;
            int seen = 0;
            for (int q = 0; q < p; q++) seen |= parts[q] == parts[p];
            if (!seen && json_array_append_new(j_counters, json_string(catalogue[parts[p]].key)) != 0) {
                json_decref(j_counters);
                j_counters = NULL;
            }
        }
        json_t *j = j_counters ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "key", d->key, "label", d->label,
                                           "kind", kpi_is_counter(d) ? "counter" : "derived", "unit",
                                           kpi_unit_names[d->unit], "formula", d->formula, "better",
                                           d->higher_is_better ? "higher" : "lower", "counters", j_counters)
                               : NULL;
        if (j && json_object_set_new(j, "description", json_string(d->description)) != 0) {
            json_decref(j);
            j = NULL;
        }
        if (!j || json_array_append_new(j_items, j) != 0) {
            json_decref(j_items);
            return NULL;
        }
    }
    return j_items ? json_pack("{s:o}", "items", j_items) : NULL;
}

static int present(const kpi_counters *c, int k) { return k != KPI_NONE && ((c->present >> k) & 1u); }

/* a / b rounded half away from zero (b > 0). */
static long long div_round(long long a, long long b)
{
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

kpi_value kpi_eval(const kpi_def *def, const kpi_counters *c)
{
    kpi_value val = {1, def->unit, 0, 0, 0};
    if (kpi_is_counter(def)) {
        if (!present(c, def->num)) return val;
        val.is_null = 0;
        if (def->unit == KPI_UNIT_MONEY) val.cents = c->v[def->num];
        else val.count = c->v[def->num];
        return val;
    }
    if (!present(c, def->num) || !present(c, def->den) || c->v[def->den] == 0) return val;
    if (def->minus != KPI_NONE && !present(c, def->minus)) return val;
    long long num = c->v[def->num] - (def->minus != KPI_NONE ? c->v[def->minus] : 0);
    val.is_null = 0;
    /* Money per count (CPL: cents per lead) stays in integers; a ratio of two
     * money sums or two counts is a plain number. */
    if (def->unit == KPI_UNIT_MONEY) val.cents = div_round(num, c->v[def->den]);
    else val.ratio = (double)num / (double)c->v[def->den];
    return val;
}

int kpi_parse_cents(const char *s, long long *out)
{
    long long whole = 0, frac = 0;
    int digits = 0, decimals = 0;
    const char *p = s;
    if (!s || !*s) return -1;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 14) return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (digits == 0) return -1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, decimals++) {
            if (decimals >= 2) return -1;
            frac = frac * 10 + (*p - '0');
        }
        if (decimals == 0) return -1;
    }
    if (*p) return -1;
    if (decimals == 1) frac *= 10;
    *out = whole * 100 + frac;
    return 0;
}

void kpi_format_cents(long long cents, char out[32])
{
    const char *sign = cents < 0 ? "-" : "";
    unsigned long long a = cents < 0 ? (unsigned long long)(-(cents + 1)) + 1u : (unsigned long long)cents;
    snprintf(out, 32, "%s%llu.%02llu", sign, a / 100, a % 100);
}

json_t *kpi_value_json(const kpi_value *val, const char *currency)
{
    if (val->is_null) return json_null();
    switch (val->unit) {
    case KPI_UNIT_COUNT: return json_integer(val->count);
    case KPI_UNIT_RATIO: return json_real(val->ratio);
    case KPI_UNIT_MONEY: {
        char amount[32];
        kpi_format_cents(val->cents, amount);
        return json_pack("{s:s, s:s?}", "amount", amount, "currency", currency);
    }
    }
    return json_null();
}
