/* test_campaign.c — campaign body rules and the lifecycle. */
#include "campaign.h"
#include "unit.h"

/* The fields refused (unit_why() says why). */
static const char *create_errors(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(campaign_validate_create(j, &v), verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

#define BASE "\"name\":\"Spring\",\"objective\":\"acquisition\",\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\""

START_TEST(create_rules)
{
    ck_assert_str_eq(create_errors("{" BASE "}"), "");
    ck_assert_str_eq(create_errors("{" BASE ",\"budget\":{\"amount\":\"1250.00\",\"currency\":\"EUR\"}}"), "");
    ck_assert_str_eq(create_errors("{" BASE ",\"budget\":{\"amount\":1250,\"currency\":\"EUR\"}}"), "budget.amount");
    ck_assert_str_eq(create_errors("{" BASE ",\"budget\":{\"amount\":\"1\",\"currency\":\"EURO\"}}"),
                     "budget.currency");
    ck_assert_str_eq(create_errors("{" BASE ",\"status\":\"live\"}"), "status");
    ck_assert_str_eq(unit_why(), "status: read-only field");
    ck_assert_str_eq(create_errors("{" BASE ",\"owner\":\"someone-else\"}"), "owner");
    ck_assert_str_eq(unit_why(), "owner: read-only field");
    ck_assert_str_eq(create_errors("{\"name\":\"x\",\"objective\":\"launch\",\"start_date\":\"2026-03-02\","
                                   "\"end_date\":\"2026-03-01\"}"),
                     "end_date");
    ck_assert_str_eq(unit_why(), "end_date: must be on or after start_date");
    ck_assert_str_eq(create_errors("{" BASE ",\"scoring\":{\"engagement_potential\":11,\"estimated_cpa\":1,"
                                   "\"customer_experience\":1,\"strategic_alignment\":1}}"),
                     "scoring.engagement_potential");
    ck_assert_str_eq(create_errors("{" BASE ",\"channels\":[\"Email\"]}"), "channels[0]");
    ck_assert_str_eq(create_errors("{" BASE ",\"segment_ids\":[\"nope\"]}"), "segment_ids[0]");
    ck_assert_str_eq(create_errors("{}"), "name objective start_date end_date");
}
END_TEST

START_TEST(patch_checks_merged_dates)
{
    json_t *j_cur = json_loads("{\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\"}", 0, NULL);
    json_t *j_patch = json_loads("{\"start_date\":\"2026-04-01\"}", 0, NULL);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(campaign_validate_patch(j_patch, j_cur, &v), 1);
    ck_assert_str_eq(unit_refused(&v), "end_date"); /* the stored end is now before the new start */
    ck_assert_str_eq(unit_why(), "end_date: must be on or after start_date");
    json_decref(j_patch);
    j_patch = json_loads("{\"start_date\":\"2026-03-15\"}", 0, NULL);
    ck_assert_uint_eq(campaign_validate_patch(j_patch, j_cur, &v), 0);
    ck_assert_str_eq(unit_refused(&v), "");
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
