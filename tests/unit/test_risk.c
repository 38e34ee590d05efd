/* test_risk.c — a risk's score, its level and its body rules. */
#include "risk.h"
#include "unit.h"

static const char *errors(const char *json, validate_mode mode)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(risk_validate(j, mode, NULL, &v), verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

START_TEST(score_is_probability_times_impact)
{
    ck_assert_int_eq(risk_score(1, 1), 1);
    ck_assert_int_eq(risk_score(3, 4), 12);
    ck_assert_int_eq(risk_score(5, 5), 25);
    /* outside 1–5 there is no score */
    ck_assert_int_eq(risk_score(0, 3), 0);
    ck_assert_int_eq(risk_score(3, 6), 0);
    ck_assert_int_eq(risk_score(-5, -5), 0);
}
END_TEST

START_TEST(level_thresholds_at_their_edges)
{
    /* SPEC's defaults: low ≤ 4 < medium ≤ 9 < high ≤ 15 < critical */
    const risk_thresholds *d = &risk_thresholds_default;
    static const struct { int score; const char *level; } cases[] = {
        {1, "low"},     {4, "low"},   {5, "medium"},    {9, "medium"},    {10, "high"},
        {15, "high"},   {16, "critical"}, {20, "critical"}, {25, "critical"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_str_eq(risk_level(d, cases[i].score), cases[i].level);
    ck_assert_ptr_null(risk_level(d, 0));
    ck_assert_ptr_null(risk_level(d, 26));
    /* 4 × 4 is the smallest critical product; 3 × 5 the largest high one */
    ck_assert_str_eq(risk_level(d, risk_score(4, 4)), "critical");
    ck_assert_str_eq(risk_level(d, risk_score(3, 5)), "high");
    ck_assert_str_eq(risk_level(d, risk_score(2, 2)), "low");
    /* an organisation's own thresholds: 12 is critical above 11, and nothing is critical under 25 */
    const risk_thresholds strict = {2, 6, 11}, lenient = {10, 20, 25};
    ck_assert_str_eq(risk_level(&strict, 12), "critical");
    ck_assert_str_eq(risk_level(&strict, 11), "high");
    ck_assert_str_eq(risk_level(&strict, 3), "medium");
    ck_assert_str_eq(risk_level(&lenient, 25), "high");
    ck_assert_str_eq(risk_level(&lenient, 10), "low");
}
END_TEST

START_TEST(thresholds_rise_strictly_within_1_to_25)
{
    ck_assert(risk_thresholds_valid(&risk_thresholds_default));
    ck_assert(risk_thresholds_valid(&(risk_thresholds){1, 2, 3}));
    ck_assert(risk_thresholds_valid(&(risk_thresholds){23, 24, 25}));
    ck_assert(!risk_thresholds_valid(&(risk_thresholds){0, 9, 15}));
    ck_assert(!risk_thresholds_valid(&(risk_thresholds){4, 4, 15}));
    ck_assert(!risk_thresholds_valid(&(risk_thresholds){4, 9, 9}));
    ck_assert(!risk_thresholds_valid(&(risk_thresholds){9, 4, 15}));
    ck_assert(!risk_thresholds_valid(&(risk_thresholds){4, 9, 26}));
}
END_TEST

#define BASE "\"title\":\"Launch bug\",\"category\":\"technical\",\"probability\":3,\"impact\":4"

START_TEST(create_rules)
{
    ck_assert_str_eq(errors("{" BASE "}", VALIDATE_CREATE), "");
    ck_assert_str_eq(errors("{" BASE ",\"mitigation\":\"Test first\",\"due_date\":\"2026-02-20\",\"owner\":\"lea\","
                            "\"status\":\"accepted\",\"notes\":null}", VALIDATE_CREATE), "");
    ck_assert_str_eq(errors("{\"category\":\"technical\",\"probability\":3,\"impact\":4}", VALIDATE_CREATE), "title");
    ck_assert_str_eq(errors("{" BASE ",\"probability\":6}", VALIDATE_CREATE), "probability");
    ck_assert_str_eq(errors("{" BASE ",\"impact\":0}", VALIDATE_CREATE), "impact");
    ck_assert_str_eq(errors("{" BASE ",\"impact\":2.5}", VALIDATE_CREATE), "impact");
    ck_assert_str_eq(errors("{" BASE ",\"category\":\"weather\"}", VALIDATE_CREATE), "category");
    ck_assert_str_eq(errors("{" BASE ",\"status\":\"pending\"}", VALIDATE_CREATE), "status");
    ck_assert_str_eq(errors("{" BASE ",\"due_date\":\"2026-02-30\"}", VALIDATE_CREATE), "due_date");
    ck_assert_str_eq(errors("{" BASE ",\"owner\":null}", VALIDATE_CREATE), "owner");
    /* derived and path fields are the service's */
    ck_assert_str_eq(errors("{" BASE ",\"score\":12}", VALIDATE_CREATE), "score");
    ck_assert_str_eq(errors("{" BASE ",\"level\":\"low\"}", VALIDATE_CREATE), "level");
    ck_assert_str_eq(errors("{" BASE ",\"campaign_id\":\"5d0c7f3e-2b1a-4c8d-9e6f-7a8b9c0d1e2f\"}", VALIDATE_CREATE),
                     "campaign_id");
    /* blanks are no title and no mitigation: the gate must not take them for one */
    ck_assert_str_eq(errors("{" BASE ",\"title\":\" \\t \"}", VALIDATE_CREATE), "title");
    ck_assert_str_eq(errors("{" BASE ",\"mitigation\":\" \\n \"}", VALIDATE_CREATE), "mitigation");
    ck_assert_str_eq(errors("{" BASE ",\"mitigation\":\"\"}", VALIDATE_CREATE), "mitigation");
    ck_assert_str_eq(errors("{" BASE ",\"mitigation\":null}", VALIDATE_CREATE), "");
}
END_TEST

START_TEST(patch_rules)
{
    ck_assert_str_eq(errors("{\"notes\":\"Legal agrees\"}", VALIDATE_PATCH), "");
    ck_assert_str_eq(errors("{\"mitigation\":null,\"status\":\"closed\"}", VALIDATE_PATCH), "");
    ck_assert_str_eq(errors("{\"title\":null}", VALIDATE_PATCH), "title");
    ck_assert_str_eq(errors("{\"probability\":null}", VALIDATE_PATCH), "probability");
    ck_assert_str_eq(errors("{\"version\":3}", VALIDATE_PATCH), "version");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("risk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, score_is_probability_times_impact);
    tcase_add_test(tc, level_thresholds_at_their_edges);
    tcase_add_test(tc, thresholds_rise_strictly_within_1_to_25);
    tcase_add_test(tc, create_rules);
    tcase_add_test(tc, patch_rules);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
