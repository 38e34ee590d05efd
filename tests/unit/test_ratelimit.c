/* test_ratelimit.c — the limits per subject and per organisation, the window's turn, the binding policy. */
#include "ratelimit.h"
#include "unit.h"

START_TEST(subject_limit_then_refusal_until_the_window_turns)
{
    ratelimit *rl = ratelimit_new(3, 0, 60);
    ratelimit_result r;
    for (unsigned i = 0; i < 3; i++) {
        ratelimit_take(rl, "acme", "ada", 120, &r);
        ck_assert(r.allowed);
        ck_assert_uint_eq(r.remaining, 2 - i);
        ck_assert_str_eq(r.policy, "subject");
    }
    ratelimit_take(rl, "acme", "ada", 150, &r);
    ck_assert(!r.allowed);
    ck_assert_uint_eq(r.remaining, 0);
    ck_assert_uint_eq(r.reset_s, 30); /* the window [120, 180) ends in 30 s */
    /* another subject, another organisation: their own counts */
    ratelimit_take(rl, "acme", "bob", 150, &r);
    ck_assert(r.allowed);
    ratelimit_take(rl, "other", "ada", 150, &r);
    ck_assert(r.allowed);
    /* a new window */
    ratelimit_take(rl, "acme", "ada", 180, &r);
    ck_assert(r.allowed);
    ck_assert_uint_eq(r.remaining, 2);
    ck_assert_uint_eq(r.reset_s, 60);
    char policy[128];
    ratelimit_policy_header(rl, policy, sizeof policy);
    ck_assert_str_eq(policy, "\"subject\";q=3;w=60");
    ratelimit_free(rl);
}
END_TEST

START_TEST(organisation_limit_binds_across_subjects)
{
    ratelimit *rl = ratelimit_new(10, 4, 10);
    ratelimit_result r;
    const char *subs[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        ratelimit_take(rl, "acme", subs[i], 5, &r);
        ck_assert(r.allowed);
        ck_assert_str_eq(r.policy, "organisation"); /* fewer left there than in the subject's */
        ck_assert_uint_eq(r.remaining, (unsigned)(3 - i));
    }
    ratelimit_take(rl, "acme", "e", 5, &r);
    ck_assert(!r.allowed);
    ck_assert_str_eq(r.policy, "organisation");
    /* a refused request is not counted: the subject still has its 10 in the next window */
    ratelimit_take(rl, "acme", "e", 10, &r);
    ck_assert(r.allowed);
    char policy[128];
    ratelimit_policy_header(rl, policy, sizeof policy);
    ck_assert_str_eq(policy, "\"subject\";q=10;w=10, \"organisation\";q=4;w=10");
    ratelimit_free(rl);
}
END_TEST

START_TEST(off_when_both_limits_are_zero)
{
    ck_assert_ptr_null(ratelimit_new(0, 0, 60));
    ck_assert_ptr_null(ratelimit_new(5, 5, 0));
    ratelimit *rl = ratelimit_new(0, 2, 60);
    ratelimit_result r;
    ratelimit_take(rl, "acme", "ada", 0, &r);
    ck_assert(r.allowed);
    ck_assert_str_eq(r.policy, "organisation");
    ck_assert_uint_eq(r.remaining, 1);
    ratelimit_free(rl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, subject_limit_then_refusal_until_the_window_turns);
    tcase_add_test(tc, organisation_limit_binds_across_subjects);
    tcase_add_test(tc, off_when_both_limits_are_zero);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
