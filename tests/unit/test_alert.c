/* test_alert.c — the KPI alerts' judgement: a target's state against the one last announced (worse: an event;
 * better: recorded without one; the same: nothing), the budget's levels at their edges under the organisation's
 * percentages, and the campaigns left alone. */
#include "alert.h"
#include "unit.h"

/* A campaign of 10 days, 2026-03-01 to 2026-03-10, judged on the 5th (half the days gone); budget 1,000.00 EUR
 * with 300.00 committed; email leads and spend as given. */
static dash_campaign campaign(long long leads, long long spend_cents)
{
    dash_campaign c = {0};
    snprintf(c.id, sizeof c.id, "00000000-0000-0000-0000-000000000001");
    snprintf(c.name, sizeof c.name, "Spring");
    snprintf(c.status, sizeof c.status, "live");
    snprintf(c.start, sizeof c.start, "2026-03-01");
    snprintf(c.end, sizeof c.end, "2026-03-10");
    snprintf(c.today, sizeof c.today, "2026-03-05");
    snprintf(c.currency, sizeof c.currency, "EUR");
    c.has_budget = 1;
    c.budget = 100000;
    c.committed = 30000;
    c.warn_pct = 80;
    c.block_pct = 100;
    c.channels.items = calloc(1, sizeof *c.channels.items);
    c.channels.n = 1;
    dash_group *g = &c.channels.items[0];
    snprintf(g->key, sizeof g->key, "email");
    snprintf(g->currency, sizeof g->currency, "EUR");
    g->c.v[KPI_LEADS] = leads;
    g->c.v[KPI_SPEND] = spend_cents;
    g->c.present = 1u << KPI_LEADS | 1u << KPI_SPEND;
    return c;
}

/* A leads target of 100 (50 due on the 5th) last announced as `alert`. */
static void leads_target(dash_campaign *c, const char *alert)
{
    c->targets = calloc(1, sizeof *c->targets);
    c->ntargets = 1;
    dash_target_row *t = &c->targets[0];
    t->def = kpi_find("leads");
    t->target = (kpi_value){0, KPI_UNIT_COUNT, 100, 0, 0};
    t->higher = 1;
    snprintf(t->id, sizeof t->id, "00000000-0000-0000-0000-0000000000aa");
    snprintf(t->alert, sizeof t->alert, "%s", alert);
}

/* "kind:state:type" of each change, space-separated (static buffer). */
static const char *changes(dash_campaign *c)
{
    static char out[512];
    json_t *j = alert_judge(c, 1);
    ck_assert_ptr_nonnull(j);
    out[0] = '\0';
    size_t i;
    json_t *j_c;
    json_array_foreach(j, i, j_c) {
        const char *state = json_string_value(json_object_get(j_c, "state"));
        const char *type = json_string_value(json_object_get(j_c, "type"));
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s:%s:%s", i ? " " : "",
                 json_string_value(json_object_get(j_c, "kind")), state ? state : "-", type ? type : "-");
        ck_assert_int_eq(json_is_null(json_object_get(j_c, "data")), type == NULL);
    }
    json_decref(j);
    dash_campaign_free(c);
    return out;
}

START_TEST(a_target_is_announced_when_it_gets_worse)
{
    dash_campaign c;
    /* 20 leads where 50 are due: at risk; announced unless it was */
    c = campaign(20, 0), leads_target(&c, "");
    ck_assert_str_eq(changes(&c), "target:at_risk:kpi.target_missed");
    c = campaign(20, 0), leads_target(&c, "at_risk");
    ck_assert_str_eq(changes(&c), "");
    /* missed is worse than at risk; at risk after missed (dates moved) is recorded without an event */
    c = campaign(20, 0), leads_target(&c, "at_risk");
    snprintf(c.today, sizeof c.today, "2026-03-11");
    ck_assert_str_eq(changes(&c), "target:missed:kpi.target_missed");
    c = campaign(20, 0), leads_target(&c, "missed");
    ck_assert_str_eq(changes(&c), "target:at_risk:-");
    /* on track again (50 of 50 due): the record goes, silently; and nothing when there was none */
    c = campaign(50, 0), leads_target(&c, "at_risk");
    ck_assert_str_eq(changes(&c), "target:-:-");
    c = campaign(50, 0), leads_target(&c, "");
    ck_assert_str_eq(changes(&c), "");
    /* before the start nothing is due */
    c = campaign(0, 0), leads_target(&c, "");
    snprintf(c.today, sizeof c.today, "2026-02-28");
    ck_assert_str_eq(changes(&c), "");
}
END_TEST

START_TEST(the_event_says_what_the_dashboard_says)
{
    dash_campaign c = campaign(20, 0);
    leads_target(&c, "");
    json_t *j = alert_judge(&c, 1);
    json_t *j_data = json_object_get(json_array_get(j, 0), "data");
    ck_assert_str_eq(json_string_value(json_object_get(j_data, "status")), "at_risk");
    ck_assert_int_eq(json_integer_value(json_object_get(j_data, "expected")), 50);
    ck_assert_int_eq(json_integer_value(json_object_get(j_data, "actual")), 20);
    ck_assert(json_is_null(json_object_get(j_data, "previous_status")));
    ck_assert(json_is_null(json_object_get(j_data, "channel")));
    ck_assert_str_eq(json_string_value(json_object_get(j_data, "analysis")),
                     "behind pace: 20 so far, 50 expected by now: widen the reach or the budget");
    ck_assert_str_eq(json_string_value(json_object_get(j_data, "as_of")), "2026-03-05");
    json_decref(j);
    dash_campaign_free(&c);
}
END_TEST

START_TEST(budget_levels_at_their_edges)
{
    dash_campaign c;
    /* 300.00 committed + 499.99 spent = 79.999 %: nothing; 800.00: warn from 80 % exactly */
    c = campaign(0, 49999);
    ck_assert_str_eq(changes(&c), "");
    c = campaign(0, 50000);
    json_t *j = alert_judge(&c, 1);
    json_t *j_data = json_object_get(json_array_get(j, 0), "data");
    ck_assert_str_eq(json_string_value(json_object_get(j_data, "level")), "warn");
    ck_assert_int_eq(json_integer_value(json_object_get(j_data, "threshold_percent")), 80);
    ck_assert(json_real_value(json_object_get(j_data, "percent")) == 80.0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j_data, "spent"), "amount")), "500.00");
    json_decref(j);
    dash_campaign_free(&c);
    /* 1,000.00 is the budget itself: still warn, announced already; a cent more blocks */
    c = campaign(0, 70000);
    snprintf(c.budget_alert, sizeof c.budget_alert, "warn");
    ck_assert_str_eq(changes(&c), "");
    c = campaign(0, 70001);
    snprintf(c.budget_alert, sizeof c.budget_alert, "warn");
    ck_assert_str_eq(changes(&c), "budget:block:budget.threshold_crossed");
    /* falling back is recorded without an event */
    c = campaign(0, 10000);
    snprintf(c.budget_alert, sizeof c.budget_alert, "block");
    ck_assert_str_eq(changes(&c), "budget:-:-");
    /* the organisation's own percentages */
    c = campaign(0, 10000);
    c.warn_pct = 40;
    ck_assert_str_eq(changes(&c), "budget:warn:budget.threshold_crossed");
}
END_TEST

START_TEST(campaigns_left_alone)
{
    dash_campaign c;
    /* no budget, a completed campaign's budget: no budget alert */
    c = campaign(0, 200000);
    c.has_budget = 0;
    ck_assert_str_eq(changes(&c), "");
    c = campaign(0, 200000);
    snprintf(c.status, sizeof c.status, "completed");
    ck_assert_str_eq(changes(&c), "");
    /* measurements in two currencies: the dashboard refuses to add them, and so do the alerts */
    c = campaign(20, 200000);
    leads_target(&c, "");
    dash_group *more = realloc(c.channels.items, 2 * sizeof *more);
    ck_assert_ptr_nonnull(more);
    c.channels.items = more;
    c.channels.items[1] = c.channels.items[0];
    snprintf(c.channels.items[1].currency, sizeof c.channels.items[1].currency, "USD");
    c.channels.n = 2;
    ck_assert_str_eq(changes(&c), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, a_target_is_announced_when_it_gets_worse);
    tcase_add_test(tc, the_event_says_what_the_dashboard_says);
    tcase_add_test(tc, budget_levels_at_their_edges);
    tcase_add_test(tc, campaigns_left_alone);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
