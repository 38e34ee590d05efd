/* test_kpi.c — the catalogue, derived KPIs over summed counters, money in
 * minor units, and measurement rows checked against the catalogue. */
#include <math.h>

#include "kpi.h"
#include "measurement.h"
#include "target.h"
#include "unit.h"

static kpi_counters sums(void)
{
    kpi_counters c = {{0}, 0};
    return c;
}

static void set(kpi_counters *c, kpi_counter k, long long v)
{
    c->v[k] = v;
    c->present |= 1u << k;
}

static kpi_value eval(const char *key, const kpi_counters *c)
{
    const kpi_def *d = kpi_find(key);
    ck_assert_msg(d != NULL, "no KPI %s", key);
    return kpi_eval(d, c);
}

START_TEST(catalogue_covers_spec)
{
    static const char *const counters[] = {"impressions", "reach", "sends", "opens", "clicks", "bounces",
                                           "unsubscribes", "visits", "leads", "mqls", "sqls", "conversions",
                                           "spend", "revenue", NULL};
    static const char *const derived[] = {"ctr", "open_rate", "click_to_open", "bounce_rate", "unsubscribe_rate",
                                          "conversion_rate", "lead_to_customer", "mql_to_sql", "cpc", "cpl",
                                          "cpa", "roas", "roi", NULL};
    size_t n;
    const kpi_def *cat = kpi_catalogue(&n);
    for (int i = 0; counters[i]; i++) {
        ck_assert_str_eq(cat[i].key, counters[i]); /* counters first, in kpi_counter order */
        ck_assert(kpi_is_counter(&cat[i]));
        ck_assert_int_eq(cat[i].num, i);
    }
    for (int i = 0; derived[i]; i++) ck_assert_msg(!kpi_is_counter(kpi_find(derived[i])), "%s", derived[i]);
    ck_assert_uint_eq(n, 27);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(kpi_keys[i], cat[i].key); /* the field tables' list */
    ck_assert_ptr_null(kpi_keys[n]);
    ck_assert_ptr_null(kpi_find("nope"));
    /* Costs and bad rates are better lower; the rest higher. */
    ck_assert(!kpi_find("cpl")->higher_is_better);
    ck_assert(!kpi_find("bounce_rate")->higher_is_better);
    ck_assert(kpi_find("roi")->higher_is_better);
    json_t *j = kpi_catalogue_json();
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), n);
    json_t *j_roi = json_array_get(json_object_get(j, "items"), n - 1);
    ck_assert_str_eq(json_string_value(json_object_get(j_roi, "formula")), "(revenue - spend) / spend");
    ck_assert_uint_eq(json_array_size(json_object_get(j_roi, "counters")), 2);
    json_decref(j);
}
END_TEST

/* The seeds' channel table: Google Ads 48,000 € for 500 leads is 96 € a lead; Influence 55,000 € / 250 = 220 €. */
START_TEST(derived_from_sums)
{
    kpi_counters c = sums();
    set(&c, KPI_SPEND, 4800000);
    set(&c, KPI_LEADS, 500);
    kpi_value v = eval("cpl", &c);
    ck_assert(!v.is_null);
    ck_assert_int_eq(v.cents, 9600);
    set(&c, KPI_SPEND, 5500000);
    set(&c, KPI_LEADS, 250);
    ck_assert_int_eq(eval("cpl", &c).cents, 22000);
    /* Summed counters, not averaged ratios: 10/100 and 90/900 is 100/1000. */
    c = sums();
    set(&c, KPI_CLICKS, 10 + 90);
    set(&c, KPI_IMPRESSIONS, 100 + 900);
    ck_assert(fabs(eval("ctr", &c).ratio - 0.1) < 1e-12);
    /* ROI = (revenue - spend) / spend, negative when it lost money. */
    c = sums();
    set(&c, KPI_SPEND, 10000);
    set(&c, KPI_REVENUE, 5000);
    ck_assert(fabs(eval("roi", &c).ratio + 0.5) < 1e-12);
    ck_assert(fabs(eval("roas", &c).ratio - 0.5) < 1e-12);
    /* A cost rounds half away from zero: 100.00 / 3 = 33.33, 0.05 / 2 = 0.03. */
    set(&c, KPI_CONVERSIONS, 3);
    ck_assert_int_eq(eval("cpa", &c).cents, 3333);
    set(&c, KPI_SPEND, 5);
    set(&c, KPI_CONVERSIONS, 2);
    ck_assert_int_eq(eval("cpa", &c).cents, 3);
    /* A counter is its own sum. */
    ck_assert_int_eq(eval("spend", &c).cents, 5);
}
END_TEST

START_TEST(zero_or_missing_denominator_is_null)
{
    kpi_counters c = sums();
    set(&c, KPI_CLICKS, 5);
    set(&c, KPI_IMPRESSIONS, 0);
    ck_assert(eval("ctr", &c).is_null);
    c = sums();
    set(&c, KPI_CLICKS, 5);
    ck_assert(eval("ctr", &c).is_null);      /* impressions never reported */
    ck_assert(eval("leads", &c).is_null);
    set(&c, KPI_SPEND, 0);
    ck_assert(eval("roi", &c).is_null);
    ck_assert(eval("cpc", &c).is_null == 0); /* 0 spend over 5 clicks is a cost of 0 */
    ck_assert_int_eq(eval("cpc", &c).cents, 0);
    set(&c, KPI_LEADS, 0);
    ck_assert(eval("cpl", &c).is_null);
    json_t *j = kpi_value_json(&(kpi_value){1, KPI_UNIT_MONEY, 0, 0, 0}, "EUR");
    ck_assert(json_is_null(j));
    json_decref(j);
}
END_TEST

START_TEST(money_text)
{
    long long c = 0;
    ck_assert_int_eq(kpi_parse_cents("1250.5", &c), 0);
    ck_assert_int_eq(c, 125050);
    ck_assert_int_eq(kpi_parse_cents("0", &c), 0);
    ck_assert_int_eq(c, 0);
    ck_assert_int_eq(kpi_parse_cents("1.234", &c), -1);
    ck_assert_int_eq(kpi_parse_cents("-1", &c), -1);
    ck_assert_int_eq(kpi_parse_cents("1.", &c), -1);
    ck_assert_int_eq(kpi_parse_cents("", &c), -1);
    ck_assert_int_eq(kpi_parse_cents("123456789012345", &c), -1);
    char out[32];
    kpi_format_cents(9600, out);
    ck_assert_str_eq(out, "96.00");
    kpi_format_cents(-5, out);
    ck_assert_str_eq(out, "-0.05");
    kpi_value v = {0, KPI_UNIT_MONEY, 0, 22000, 0};
    json_t *j = kpi_value_json(&v, "EUR");
    ck_assert_str_eq(json_string_value(json_object_get(j, "amount")), "220.00");
    ck_assert_str_eq(json_string_value(json_object_get(j, "currency")), "EUR");
    json_decref(j);
}
END_TEST

/* Every counter of the catalogue is a measurement field and a CSV column, in the same order. */
START_TEST(measurement_fields_follow_catalogue)
{
    size_t n;
    const kpi_def *cat = kpi_catalogue(&n);
    for (int k = 0; k < KPI_COUNTERS; k++) ck_assert_str_eq(measurement_columns[5 + k], cat[k].key);
    ck_assert_ptr_null(measurement_columns[5 + KPI_COUNTERS]);
}
END_TEST

static const char *row_errors(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    measurement_validate_row(j, &v);
    json_decref(j);
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    return fields;
}

#define ROW "\"campaign_id\":\"6f1c1d4e-9a4b-4c55-8f7e-0a1b2c3d4e5f\",\"date\":\"2026-03-01\",\"source\":\"crm\""

START_TEST(measurement_rows)
{
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"clicks\":3,\"spend\":\"10.50\"}"), "");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"clicks\":-1}"), "clicks");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"clicks\":1.5}"), "clicks");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"spend\":10.5}"), "spend");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"channel\":\"Email\"}"), "channel");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"ctr\":0.1}"), "ctr");
    ck_assert_str_eq(row_errors("{" ROW "}"), "external_id");
    ck_assert_str_eq(row_errors("{" ROW ",\"external_id\":\"a\",\"date\":\"2026-02-30\"}"), "date");
}
END_TEST

START_TEST(batch_refuses_a_key_twice)
{
    json_t *j = json_loads("[{" ROW ",\"external_id\":\"a\"},{" ROW ",\"external_id\":\"b\",\"clicks\":\"x\"},"
                           "{" ROW ",\"external_id\":\"a\"}, 7]",
                           0, NULL);
    measurement_batch b;
    ck_assert_int_eq(measurement_batch_check(j, 0, &b), 0);
    ck_assert_uint_eq(b.n, 4);
    ck_assert(json_is_null(json_array_get(b.j_errors, 0)));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_array_get(b.j_errors, 1), 0), "field")),
                     "clicks");
    json_t *j_dup = json_array_get(json_array_get(b.j_errors, 2), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_dup, "field")), "external_id");
    ck_assert_str_eq(json_string_value(json_object_get(j_dup, "message")),
                     "repeats the source and external_id of row 0 of this batch");
    ck_assert(!json_is_null(json_array_get(b.j_errors, 3)));
    ck_assert_uint_eq(json_array_size(b.j_valid), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(b.j_valid, 0), "ord")), 0);
    measurement_batch_free(&b);
    json_decref(j);
}
END_TEST

static const char *put_errors(const char *json, json_t **j_rows)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    *j_rows = NULL;
    target_validate_put(j, j_rows, &v);
    json_decref(j);
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    return fields;
}

/* A target's value follows its KPI's unit; the direction defaults to the catalogue's. */
START_TEST(targets_follow_the_catalogue)
{
    json_t *j_rows;
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"ctr\",\"target\":0.02},{\"kpi\":\"cpa\",\"target\":\"50\"},"
                                "{\"kpi\":\"leads\",\"channel\":\"email\",\"target\":500}]}",
                                &j_rows),
                     "");
    ck_assert_uint_eq(json_array_size(j_rows), 3);
    json_t *j_cpa = json_array_get(j_rows, 1);
    ck_assert_str_eq(json_string_value(json_object_get(j_cpa, "direction")), "lower");
    ck_assert_str_eq(json_string_value(json_object_get(j_cpa, "unit")), "money");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_rows, 0), "target")), "0.02");
    json_decref(j_rows);
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"leads\",\"target\":1.5}]}", &j_rows), "targets[0].target");
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"cpl\",\"target\":96}]}", &j_rows), "targets[0].target");
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"ctr\",\"target\":\"0.1\"}]}", &j_rows),
                     "targets[0].target");
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"ctr\",\"target\":0.1},{\"kpi\":\"ctr\",\"target\":0.2}]}",
                                &j_rows),
                     "targets[1].kpi");
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"ctr\",\"target\":0.1},"
                                "{\"kpi\":\"ctr\",\"channel\":\"email\",\"target\":0.2}]}",
                                &j_rows),
                     "");
    json_decref(j_rows);
    ck_assert_str_eq(put_errors("{\"targets\":[{\"kpi\":\"nope\",\"target\":1}]}", &j_rows), "targets[0].kpi");
    ck_assert_str_eq(put_errors("{}", &j_rows), "targets");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kpi");
    TCase *tc = tcase_create("kpi");
    tcase_add_test(tc, catalogue_covers_spec);
    tcase_add_test(tc, derived_from_sums);
    tcase_add_test(tc, zero_or_missing_denominator_is_null);
    tcase_add_test(tc, money_text);
    tcase_add_test(tc, measurement_fields_follow_catalogue);
    tcase_add_test(tc, measurement_rows);
    tcase_add_test(tc, batch_refuses_a_key_twice);
    tcase_add_test(tc, targets_follow_the_catalogue);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
