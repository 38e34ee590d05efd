/* test_approval.c — workflow and decision bodies, who decides a step, and what is a material change. */
#include "approval.h"
#include "unit.h"

enum { WORKFLOW_CREATE, WORKFLOW_PATCH, DECISION };

/* The fields refused (unit_why() says why). */
static const char *errors_of(const char *json, int which)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    size_t n = which == WORKFLOW_CREATE  ? workflow_validate(j, VALIDATE_CREATE, &v)
               : which == WORKFLOW_PATCH ? workflow_validate(j, VALIDATE_PATCH, &v)
                                         : approval_validate_decision(j, &v);
    ck_assert_uint_eq(n, verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

START_TEST(workflow_rules)
{
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[{\"name\":\"Lead\",\"role\":\"manager\"},"
                               "{\"name\":\"Legal\",\"role\":\"approver\",\"approver_sub\":\"lea\"}]}",
                               WORKFLOW_CREATE),
                     "");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\"}", WORKFLOW_CREATE), "steps");
    ck_assert_str_eq(unit_why(), "steps: is required");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[]}", WORKFLOW_CREATE), "steps"); /* at least one */
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[{\"name\":\"x\",\"role\":\"planner\"}]}",
                               WORKFLOW_CREATE),
                     "steps[0].role");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[{\"role\":\"manager\",\"colour\":1}]}", WORKFLOW_CREATE),
                     "steps[0].colour steps[0].name");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[7]}", WORKFLOW_CREATE), "steps[0]");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":{}}", WORKFLOW_CREATE), "steps");
    ck_assert_str_eq(errors_of("{\"name\":\"Brief\",\"steps\":[{\"name\":\"x\",\"role\":\"manager\"}],\"active\":false}",
                               WORKFLOW_CREATE),
                     "active");
    ck_assert_str_eq(unit_why(), "active: read-only field");
    ck_assert_str_eq(errors_of("{\"description\":\"only this\"}", WORKFLOW_PATCH), "");
    char many[4096] = "{\"name\":\"Long\",\"steps\":[";
    for (int i = 0; i < WORKFLOW_MAX_STEPS + 1; i++) strcat(many, i ? ",{\"name\":\"s\",\"role\":\"admin\"}" : "{\"name\":\"s\",\"role\":\"admin\"}");
    strcat(many, "]}");
    ck_assert_str_eq(errors_of(many, WORKFLOW_CREATE), "steps");
}
END_TEST

START_TEST(decision_rules)
{
    ck_assert_str_eq(errors_of("{\"decision\":\"approve\"}", DECISION), "");
    ck_assert_str_eq(errors_of("{\"decision\":\"approve\",\"step\":2,\"comment\":\"fine\"}", DECISION), "");
    ck_assert_str_eq(errors_of("{\"decision\":\"reject\"}", DECISION), "comment"); /* a rejection says why */
    ck_assert_str_eq(unit_why(), "comment: is required to reject: say what must change");
    ck_assert_str_eq(errors_of("{\"decision\":\"request_changes\",\"comment\":\"\"}", DECISION), "comment");
    ck_assert_str_eq(unit_why(), "comment: is required to request_changes: say what must change");
    ck_assert_str_eq(errors_of("{\"decision\":\"request_changes\",\"comment\":\"shorter copy\"}", DECISION), "");
    ck_assert_str_eq(errors_of("{\"decision\":\"maybe\"}", DECISION), "decision");
    ck_assert_str_eq(errors_of("{\"decision\":\"approve\",\"step\":-1}", DECISION), "step");
    ck_assert_str_eq(errors_of("{}", DECISION), "decision");
    ck_assert_str_eq(unit_why(), "decision: is required");
}
END_TEST

START_TEST(who_decides)
{
    json_t *j_manager = json_pack("{s:s, s:s, s:n}", "name", "Lead", "role", "manager", "approver_sub");
    json_t *j_named = json_pack("{s:s, s:s, s:s}", "name", "Legal", "role", "approver", "approver_sub", "lea");
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_MANAGER, "mia", "pat", 0), APPROVAL_MAY_DECIDE);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_APPROVER, "abe", "pat", 0), APPROVAL_NOT_THEIRS);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_PLANNER, "pia", "pat", 0), APPROVAL_NOT_THEIRS);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_MANAGER, "mia", "mia", 0), APPROVAL_OWNER);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_ADMIN, "ada", "ada", 0), APPROVAL_OWNER);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_MANAGER, "mia", "pat", 1), APPROVAL_ALREADY_DECIDED);
    ck_assert_int_eq(approval_may_decide(j_manager, ROLE_ADMIN, "ada", "pat", 1), APPROVAL_MAY_DECIDE_ADMIN);
    /* A named approver decides alone, whatever their role; others with the role do not. */
    ck_assert_int_eq(approval_may_decide(j_named, ROLE_VIEWER, "lea", "pat", 0), APPROVAL_MAY_DECIDE);
    ck_assert_int_eq(approval_may_decide(j_named, ROLE_APPROVER, "abe", "pat", 0), APPROVAL_NOT_THEIRS);
    ck_assert_int_eq(approval_may_decide(j_named, ROLE_ADMIN, "ada", "pat", 0), APPROVAL_MAY_DECIDE_ADMIN);
    json_decref(j_manager);
    json_decref(j_named);
}
END_TEST

static int material(const char *patch)
{
    json_t *j_current = json_loads(
        "{\"name\":\"Spring\",\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\","
        "\"budget\":{\"amount\":\"1250.50\",\"currency\":\"EUR\"},\"offer\":{\"code\":\"SPRING\",\"description\":null,"
        "\"terms\":null},\"segment_ids\":[\"a\",\"b\"],\"channels\":[\"email\",\"sms\"],\"tags\":[\"q1\"],\"notes\":null,"
        "\"channel_budgets\":[{\"channel\":\"email\",\"amount\":\"500.00\"},{\"channel\":\"sms\",\"amount\":\"250.50\"}]}",
        0, NULL);
    json_t *j_patch = json_loads(patch, 0, NULL);
    int m = campaign_material_change(j_patch, j_current);
    json_decref(j_patch);
    json_decref(j_current);
    return m;
}

START_TEST(material_changes)
{
    ck_assert(!material("{\"name\":\"Spring sale\",\"tags\":[\"q2\"],\"notes\":\"copy due\",\"team\":\"CRM\"}"));
    ck_assert(!material("{\"start_date\":\"2026-03-01\",\"budget\":{\"amount\":\"1250.5\",\"currency\":\"EUR\"}}"));
    ck_assert(!material("{\"channels\":[\"sms\",\"email\"],\"segment_ids\":[\"b\",\"a\"]}"));
    ck_assert(!material("{\"offer\":{\"code\":\"SPRING\"}}"));
    ck_assert(material("{\"end_date\":\"2026-04-01\"}"));
    ck_assert(material("{\"budget\":{\"amount\":\"1300.00\",\"currency\":\"EUR\"}}"));
    ck_assert(material("{\"budget\":{\"amount\":\"1250.50\",\"currency\":\"USD\"}}"));
    ck_assert(material("{\"budget\":null}"));
    ck_assert(material("{\"channels\":[\"email\"]}"));
    ck_assert(material("{\"segment_ids\":[\"a\",\"b\",\"c\"]}"));
    ck_assert(material("{\"offer\":{\"code\":\"SPRING20\"}}"));
    ck_assert(material("{\"offer\":null}"));
    /* The split across channels is material like the budget; the same split in another order or notation is not. */
    ck_assert(!material("{\"channel_budgets\":[{\"channel\":\"sms\",\"amount\":\"250.5\"},"
                        "{\"channel\":\"email\",\"amount\":\"500\"}]}"));
    ck_assert(material("{\"channel_budgets\":[{\"channel\":\"email\",\"amount\":\"750.50\"}]}"));
    ck_assert(material("{\"channel_budgets\":[{\"channel\":\"email\",\"amount\":\"500.00\"},"
                       "{\"channel\":\"social\",\"amount\":\"250.50\"}]}"));
    ck_assert(material("{\"channel_budgets\":null}"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("approval");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, workflow_rules);
    tcase_add_test(tc, decision_rules);
    tcase_add_test(tc, who_decides);
    tcase_add_test(tc, material_changes);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
