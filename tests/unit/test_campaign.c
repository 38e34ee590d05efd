/* test_campaign.c — campaign body rules and the lifecycle. */
#include "campaign.h"
#include "unit.h"

static size_t create_errors(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    verrs v;
    verrs_init(&v);
    size_t n = campaign_validate_create(j, &v);
    verrs_free(&v);
    json_decref(j);
    return n;
}

#define BASE "\"name\":\"Spring\",\"objective\":\"acquisition\",\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\""

START_TEST(create_rules)
{
    ck_assert_uint_eq(create_errors("{" BASE "}"), 0);
    ck_assert_uint_eq(create_errors("{" BASE ",\"budget\":{\"amount\":\"1250.00\",\"currency\":\"EUR\"}}"), 0);
    ck_assert_uint_eq(create_errors("{" BASE ",\"budget\":{\"amount\":1250,\"currency\":\"EUR\"}}"), 1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"budget\":{\"amount\":\"1\",\"currency\":\"EURO\"}}"), 1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"status\":\"live\"}"), 1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"owner\":\"someone-else\"}"), 1);
    ck_assert_uint_eq(create_errors("{\"name\":\"x\",\"objective\":\"launch\",\"start_date\":\"2026-03-02\","
                                    "\"end_date\":\"2026-03-01\"}"),
                      1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"scoring\":{\"engagement_potential\":11,\"estimated_cpa\":1,"
                                    "\"customer_experience\":1,\"strategic_alignment\":1}}"),
                      1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"channels\":[\"Email\"]}"), 1);
    ck_assert_uint_eq(create_errors("{" BASE ",\"segment_ids\":[\"nope\"]}"), 1);
    ck_assert_uint_eq(create_errors("{}"), 4);
}
END_TEST

START_TEST(patch_checks_merged_dates)
{
    json_t *j_cur = json_loads("{\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\"}", 0, NULL);
    json_t *j_patch = json_loads("{\"start_date\":\"2026-04-01\"}", 0, NULL);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(campaign_validate_patch(j_patch, j_cur, &v), 1);
    json_decref(j_patch);
    j_patch = json_loads("{\"start_date\":\"2026-03-15\"}", 0, NULL);
    ck_assert_uint_eq(campaign_validate_patch(j_patch, j_cur, &v), 0);
    verrs_free(&v);
    json_decref(j_patch);
    json_decref(j_cur);
}
END_TEST

START_TEST(lifecycle)
{
    /* Review is entered by submitting for approval, and left approved by the last step. */
    ck_assert_int_eq(campaign_transition_check("draft", "in_review"), TRANSITION_WORKFLOW_ONLY);
    ck_assert_int_eq(campaign_transition_check("draft", "cancelled"), TRANSITION_OK);
    ck_assert_int_eq(campaign_transition_check("in_review", "approved"), TRANSITION_WORKFLOW_ONLY);
    ck_assert_int_eq(campaign_transition_check("in_review", "draft"), TRANSITION_OK);
    ck_assert_int_eq(campaign_transition_check("approved", "scheduled"), TRANSITION_OK);
    ck_assert_int_eq(campaign_transition_check("scheduled", "draft"), TRANSITION_WORKFLOW_ONLY);
    ck_assert_int_eq(campaign_transition_check("scheduled", "live"), TRANSITION_OK);
    ck_assert_int_eq(campaign_transition_check("live", "completed"), TRANSITION_OK);
    ck_assert_int_eq(campaign_transition_check("draft", "live"), TRANSITION_INVALID);
    ck_assert_int_eq(campaign_transition_check("completed", "cancelled"), TRANSITION_INVALID);
    ck_assert_int_eq(campaign_transition_check("draft", "draft"), TRANSITION_INVALID);
    json_t *j = campaign_transitions_allowed("draft");
    ck_assert_uint_eq(json_array_size(j), 1); /* cancelled */
    json_decref(j);
    ck_assert(campaign_deletable("draft"));
    ck_assert(!campaign_deletable("live"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("campaign");
    TCase *tc = tcase_create("campaign");
    tcase_add_test(tc, create_rules);
    tcase_add_test(tc, patch_checks_merged_dates);
    tcase_add_test(tc, lifecycle);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
