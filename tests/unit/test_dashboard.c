/* test_dashboard.c — the dashboards' judgement: calendar days, a target's
 * pace and status in each direction and unit, the analysis sentence, a
 * budget's projection, and a change with nothing before it. */
#include "dashboard.h"
#include "unit.h"

static long day(const char *s)
{
    long d = 0;
    ck_assert_msg(dash_day(s, &d) == 0, "%s is a date", s);
    return d;
}

static kpi_counters counters(kpi_counter k, long long v, kpi_counter k2, long long v2)
{
    kpi_counters c = {{0}, 0};
    c.v[k] = v;
    c.present |= 1u << k;
    if (k2 != (kpi_counter)KPI_NONE) {
        c.v[k2] = v2;
        c.present |= 1u << k2;
    }
    return c;
}

/* The campaign of the cases: 10 days, 2026-03-01 to 2026-03-10. */
static dash_assessment assess(const char *key, kpi_value target, int higher, const kpi_counters *c, const char *as_of)
{
    dash_days d = {day("2026-03-01"), day("2026-03-10"), day(as_of)};
    dash_target t = {kpi_find(key), target, higher};
    dash_assessment a;
    dash_assess(&t, c, &d, &a);
    return a;
}

static kpi_value count(long long n) { return (kpi_value){0, KPI_UNIT_COUNT, n, 0, 0}; }
static kpi_value cents(long long n) { return (kpi_value){0, KPI_UNIT_MONEY, 0, n, 0}; }
static kpi_value ratio(double r) { return (kpi_value){0, KPI_UNIT_RATIO, 0, 0, r}; }

START_TEST(calendar_days)
{
    char out[11];
    ck_assert_int_eq(day("1970-01-01"), 0);
    ck_assert_int_eq(day("2026-03-01") - day("2026-02-28"), 1);
    ck_assert_int_eq(day("2024-03-01") - day("2024-02-28"), 2); /* a leap year */
    long d;
    ck_assert_int_eq(dash_day("2026-02-29", &d), -1);
    ck_assert_int_eq(dash_day("2026-13-01", &d), -1);
    ck_assert_int_eq(dash_day("2026-3-1", &d), -1);
    ck_assert_int_eq(dash_day("2026-03-01x", &d), -1);
    dash_day_format(day("2026-12-31"), out);
    ck_assert_str_eq(out, "2026-12-31");
    dash_day_format(dash_period_end(day("2024-02-01"), "month"), out);
    ck_assert_str_eq(out, "2024-02-29");
    dash_day_format(dash_period_end(day("2026-12-01"), "month"), out);
    ck_assert_str_eq(out, "2026-12-31");
    dash_day_format(dash_period_end(day("2026-03-02"), "week"), out);
    ck_assert_str_eq(out, "2026-03-08");
}
END_TEST

START_TEST(elapsed_share)
{
    dash_days d = {day("2026-03-01"), day("2026-03-10"), day("2026-02-27")};
    ck_assert(dash_elapsed(&d) == 0.0);
    d.as_of = day("2026-03-01");
    ck_assert(dash_elapsed(&d) == 0.1); /* the first day counts */
    d.as_of = day("2026-03-10");
    ck_assert(dash_elapsed(&d) == 1.0 && !dash_over(&d)); /* the last day: all due, not over yet */
    d.as_of = day("2026-03-11");
    ck_assert(dash_over(&d));
}
END_TEST

START_TEST(counter_higher_is_better)
{
    kpi_counters c = counters(KPI_LEADS, 460, KPI_NONE, 0);
    dash_assessment a = assess("leads", count(1000), 1, &c, "2026-03-05");
    ck_assert_int_eq(a.expected.count, 500);
    ck_assert_int_eq(a.status, DASH_AT_RISK);
    ck_assert_str_eq(a.analysis, "behind pace: 460 so far, 500 expected by now: widen the reach or the budget");
    c = counters(KPI_LEADS, 500, KPI_NONE, 0);
    ck_assert_int_eq(assess("leads", count(1000), 1, &c, "2026-03-05").status, DASH_ON_TRACK);
    c = counters(KPI_LEADS, 1000, KPI_NONE, 0);
    ck_assert_int_eq(assess("leads", count(1000), 1, &c, "2026-03-05").status, DASH_MET); /* met early */
    c = counters(KPI_LEADS, 999, KPI_NONE, 0);
    ck_assert_int_eq(assess("leads", count(1000), 1, &c, "2026-03-10").status, DASH_AT_RISK); /* last day */
    ck_assert_int_eq(assess("leads", count(1000), 1, &c, "2026-03-11").status, DASH_MISSED);
    kpi_counters none = {{0}, 0}; /* nothing reported yet is none so far */
    a = assess("leads", count(1000), 1, &none, "2026-03-02");
    ck_assert_int_eq(a.status, DASH_AT_RISK);
    ck_assert_int_eq(assess("leads", count(1000), 1, &none, "2026-02-20").status, DASH_ON_TRACK); /* not started */
}
END_TEST

START_TEST(counter_lower_is_better)
{
    kpi_counters c = counters(KPI_SPEND, 40000, KPI_NONE, 0); /* 400.00 spent by day 5 of a 1,000.00 cap */
    dash_assessment a = assess("spend", cents(100000), 0, &c, "2026-03-05");
    ck_assert_int_eq(a.expected.cents, 50000);
    ck_assert_int_eq(a.status, DASH_ON_TRACK);
    c = counters(KPI_SPEND, 60000, KPI_NONE, 0);
    a = assess("spend", cents(100000), 0, &c, "2026-03-05");
    ck_assert_int_eq(a.status, DASH_AT_RISK);
    ck_assert_str_eq(a.analysis, "ahead of pace: 600.00 so far, 500.00 expected by now: slow the spending down");
    c = counters(KPI_SPEND, 100001, KPI_NONE, 0);
    ck_assert_int_eq(assess("spend", cents(100000), 0, &c, "2026-03-05").status, DASH_MISSED); /* cap passed */
    c = counters(KPI_SPEND, 90000, KPI_NONE, 0);
    ck_assert_int_eq(assess("spend", cents(100000), 0, &c, "2026-03-11").status, DASH_MET);
}
END_TEST

START_TEST(derived_kpis_are_rates)
{
    /* The seeds: CTR 2 % → 2.5 % performing; CPA 50 → 55 above target. */
    kpi_counters c = counters(KPI_CLICKS, 2500, KPI_IMPRESSIONS, 100000);
    dash_assessment a = assess("ctr", ratio(0.02), 1, &c, "2026-03-02");
    ck_assert(a.expected.ratio == 0.02); /* due in full from the first day */
    ck_assert_int_eq(a.status, DASH_ON_TRACK);
    ck_assert_str_eq(a.analysis, "performing: 2.5 % against a target of 2 %");
    ck_assert_int_eq(assess("ctr", ratio(0.02), 1, &c, "2026-03-11").status, DASH_MET);
    c = counters(KPI_SPEND, 550000, KPI_CONVERSIONS, 100);
    a = assess("cpa", cents(5000), 0, &c, "2026-03-05");
    ck_assert_int_eq(a.status, DASH_AT_RISK);
    ck_assert_str_eq(a.analysis, "above target: 55.00 against 50.00: review bids and targeting");
    ck_assert_int_eq(assess("cpa", cents(5000), 0, &c, "2026-03-11").status, DASH_MISSED);
    c = counters(KPI_SPEND, 550000, KPI_CONVERSIONS, 0); /* a zero denominator: no figure */
    a = assess("cpa", cents(5000), 0, &c, "2026-03-05");
    ck_assert(a.actual.is_null);
    ck_assert_int_eq(a.status, DASH_AT_RISK);
    ck_assert_str_eq(a.analysis, "no figure yet: the measurements give no cpa");
    ck_assert_int_eq(assess("cpa", cents(5000), 0, &c, "2026-03-11").status, DASH_MISSED);
}
END_TEST

START_TEST(budget_projection)
{
    dash_budget b = {1, 1000000, 300000, 250000};
    dash_days d = {day("2026-03-01"), day("2026-03-10"), day("2026-03-05")};
    json_t *j = dash_budget_json(&b, &d, "EUR");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "projected_spend"), "amount")), "5000.00");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "remaining"), "amount")), "7500.00");
    json_decref(j);
    d.as_of = day("2026-02-01"); /* before the start: what is committed */
    j = dash_budget_json(&b, &d, "EUR");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "projected_spend"), "amount")), "3000.00");
    json_decref(j);
    b = (dash_budget){1, 100000, 0, 150000}; /* overspent: remaining is negative */
    d.as_of = day("2026-04-01");
    j = dash_budget_json(&b, &d, "EUR");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "remaining"), "amount")), "-500.00");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "projected_spend"), "amount")), "1500.00");
    json_decref(j);
    b = (dash_budget){0, 0, 0, 0}; /* no budget: no currency, no money */
    j = dash_budget_json(&b, &d, NULL);
    ck_assert(json_is_null(json_object_get(j, "budget")) && json_is_null(json_object_get(j, "spent")));
    json_decref(j);
}
END_TEST

START_TEST(change_against_nothing_is_null)
{
    kpi_counters prev = {{0}, 0}, cur = counters(KPI_LEADS, 10, KPI_NONE, 0);
    json_t *j = dash_change_json(&cur, &prev, KPI_LEADS);
    ck_assert(json_is_null(j));
    json_decref(j);
    prev = counters(KPI_LEADS, 0, KPI_NONE, 0);
    j = dash_change_json(&cur, &prev, KPI_LEADS);
    ck_assert(json_is_null(j));
    json_decref(j);
    prev = counters(KPI_LEADS, 8, KPI_NONE, 0);
    j = dash_change_json(&cur, &prev, KPI_LEADS);
    ck_assert(json_real_value(j) == 0.25);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dashboard");
    TCase *tc = tcase_create("dashboard");
    tcase_add_test(tc, calendar_days);
    tcase_add_test(tc, elapsed_share);
    tcase_add_test(tc, counter_higher_is_better);
    tcase_add_test(tc, counter_lower_is_better);
    tcase_add_test(tc, derived_kpis_are_rates);
    tcase_add_test(tc, budget_projection);
    tcase_add_test(tc, change_against_nothing_is_null);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
