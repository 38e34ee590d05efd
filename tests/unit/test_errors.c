/* test_errors.c — the error table and the SQLSTATE mapping. */
#include <string.h>

#include "errors.h"
#include "unit.h"

START_TEST(sqlstate_decides_status)
{
    ck_assert_int_eq(app_err_from_sqlstate("23505", NULL), APP_ERR_ALREADY_EXISTS);
    ck_assert_int_eq(app_err_from_sqlstate("23503", NULL), APP_ERR_STILL_REFERENCED);
    ck_assert_int_eq(app_err_lookup(app_err_from_sqlstate("23P01", NULL))->status, 409);
    ck_assert_int_eq(app_err_from_sqlstate("23514", "campaign_status_transition"), APP_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(app_err_from_sqlstate("08006", NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate("57P01", NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate(NULL, NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate("57014", NULL), APP_ERR_TIMEOUT);
    ck_assert_int_eq(app_err_from_sqlstate("22007", NULL), APP_ERR_VALIDATION);
    ck_assert_int_eq(app_err_from_sqlstate("42601", NULL), APP_ERR_INTERNAL);
}
END_TEST

START_TEST(codes_unique_and_statuses_sane)
{
    for (int i = 1; i < APP_ERR__COUNT; i++) {
        const app_err_info *a = app_err_lookup((app_err)i);
        ck_assert(a->status >= 400 && a->status < 600);
        for (int j = i + 1; j < APP_ERR__COUNT; j++) ck_assert_str_ne(a->code, app_err_lookup((app_err)j)->code);
    }
    ck_assert_str_eq(app_err_lookup((app_err)999)->code, "internal_error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, sqlstate_decides_status);
    tcase_add_test(tc, codes_unique_and_statuses_sane);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
