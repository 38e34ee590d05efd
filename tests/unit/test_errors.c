/* test_errors.c — the error table, the constraint table and the SQLSTATE rules. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "migrate.h"
#include "unit.h"

START_TEST(sqlstate_decides_status)
{
    ck_assert_int_eq(app_err_from_sqlstate("23505", NULL), APP_ERR_ALREADY_EXISTS);
    ck_assert_int_eq(app_err_lookup(app_err_from_sqlstate("23P01", NULL))->status, 409);
    ck_assert_int_eq(app_err_from_sqlstate("23514", "campaign_status_transition"), APP_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(app_err_from_sqlstate("08006", NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate("57P01", NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate(NULL, NULL), APP_ERR_UNAVAILABLE);
    ck_assert_int_eq(app_err_from_sqlstate("57014", NULL), APP_ERR_TIMEOUT);
    ck_assert_int_eq(app_err_from_sqlstate("40P01", NULL), APP_ERR_CONFLICT);
    ck_assert_int_eq(app_err_from_sqlstate("22007", NULL), APP_ERR_VALIDATION);
    ck_assert_int_eq(app_err_from_sqlstate("42601", NULL), APP_ERR_INTERNAL);
    /* A constraint name decides only for an integrity violation: a timeout stays a timeout. */
    ck_assert_int_eq(app_err_from_sqlstate("57014", "bookings_no_overlap"), APP_ERR_TIMEOUT);
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

/* Every row is complete for what its code promises the client. */
START_TEST(constraint_rows_are_complete)
{
    size_t n = 0;
    const app_constraint *t = app_constraint_table(&n);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(t[i].err > APP_OK && t[i].err < APP_ERR__COUNT, "%s: no error code", t[i].name);
        ck_assert_msg(t[i].sentence && t[i].sentence[0], "%s: no sentence", t[i].name);
        if (t[i].err == APP_ERR_VALIDATION) ck_assert_msg(t[i].field != NULL, "%s: a 422 names its field", t[i].name);
        if (t[i].err == APP_ERR_BOOKING_CONFLICT)
            ck_assert_msg(t[i].rule != NULL, "%s: a conflict has a rule", t[i].name);
        if (t[i].referenced_err != APP_OK)
            ck_assert_msg(t[i].referenced_sentence != NULL, "%s: the referenced side has a sentence", t[i].name);
        for (size_t j = i + 1; j < n; j++) ck_assert_str_ne(t[i].name, t[j].name);
        ck_assert_ptr_eq(app_constraint_lookup(t[i].name), &t[i]);
    }
    ck_assert_ptr_null(app_constraint_lookup("no_such_constraint"));
    ck_assert_ptr_null(app_constraint_lookup(NULL));
}
END_TEST

/* Copies the identifier at p (letters, digits, _) into out; returns its length. */
static size_t ident(const char *p, char out[64])
{
    size_t n = 0;
    while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < 63) n++;
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

static void expect_row(const char *migration, const char *name)
{
    ck_assert_msg(app_constraint_lookup(name) != NULL, "%s: constraint %s is not in the error table (service/errors.c)",
                  migration, name);
}

/* The schema's named constraints and trigger rules all have a row: a client never meets one the table does
 * not explain. Named here: CONSTRAINT <name>, CONSTRAINT = '<name>', booking_refuse('<name>' and
 * CREATE UNIQUE INDEX <name> in every migration. */
START_TEST(every_named_constraint_has_a_row)
{
    static const char *const marks[] = {"CONSTRAINT ", "CONSTRAINT = '", "booking_refuse('", "CREATE UNIQUE INDEX ",
                                        NULL};
    int seen = 0;
    for (size_t m = 0; m < migrations_count; m++) {
        for (int k = 0; marks[k]; k++) {
            for (const char *p = strstr(migrations[m].sql, marks[k]); p; p = strstr(p + 1, marks[k])) {
                char name[64];
                const char *q = p + strlen(marks[k]);
                if (k == 0 && (*q == '=' || strncmp(q, "TRIGGER", 7) == 0)) continue;
                if (k == 0 && p - migrations[m].sql >= 5 && strncmp(p - 5, "DROP ", 5) == 0) continue;
                if (ident(q, name) == 0 || strcmp(name, "p_rule") == 0) continue;
                expect_row(migrations[m].name, name);
                seen++;
            }
        }
    }
    ck_assert_int_gt(seen, 40);
}
END_TEST

START_TEST(foreign_key_sides)
{
    app_refusal r = {0};
    /* An insert naming a missing segment: a field error, not still_referenced. */
    ck_assert_int_eq(app_refusal_from_db(&r, "23503", "bookings_segment", NULL, 0), APP_ERR_VALIDATION);
    ck_assert_str_eq(r.field, "segment_id");
    ck_assert_str_eq(r.sentence, "no such segment in your organisation");
    /* Deleting the segment a booking uses: still_referenced, with no field. */
    ck_assert_int_eq(app_refusal_from_db(&r, "23503", "bookings_segment", NULL, 1), APP_ERR_STILL_REFERENCED);
    ck_assert_ptr_null(r.field);
    ck_assert_str_eq(r.sentence, "the segment is used by a booking");
    /* The path's own parent went away meanwhile: 404. */
    ck_assert_int_eq(app_refusal_from_db(&r, "23503", "availability_resource", NULL, 0), APP_ERR_NOT_FOUND);
    /* An unknown foreign key: the SQLSTATE rule, by side. */
    ck_assert_int_eq(app_refusal_from_db(&r, "23503", "mystery_fkey", NULL, 1), APP_ERR_STILL_REFERENCED);
    ck_assert_int_eq(app_refusal_from_db(&r, "23503", "mystery_fkey", NULL, 0), APP_ERR_VALIDATION);
    ck_assert_ptr_null(r.field);
    app_refusal_clear(&r);
}
END_TEST

START_TEST(booking_refusals_carry_rule_and_items)
{
    app_refusal r = {0};
    ck_assert_int_eq(app_refusal_from_db(&r, "23P01", "bookings_capacity", "[{\"type\":\"booking\"}]", 0),
                     APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(r.rule, "capacity_exceeded");
    ck_assert_str_eq(r.items, "[{\"type\":\"booking\"}]");
    ck_assert_str_eq(r.sentence, "the booking would exceed the resource's capacity");
    /* The exclusion constraint itself gives a key DETAIL, not items. */
    ck_assert_int_eq(app_refusal_from_db(&r, "23P01", "bookings_no_overlap", "Key (resource_id, period)=(...)", 0),
                     APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(r.rule, "resource_double_booked");
    ck_assert_ptr_null(r.items);
    ck_assert_int_eq(app_refusal_from_db(&r, "23514", "bookings_resource_active", NULL, 0), APP_ERR_RESOURCE_INACTIVE);
    ck_assert_int_eq(app_refusal_from_db(&r, "23505", "approval_decisions_one_per_step", NULL, 0),
                     APP_ERR_INVALID_STATE);
    ck_assert_int_eq(app_refusal_from_db(&r, "23514", "approval_decisions_not_owner", NULL, 0), APP_ERR_FORBIDDEN);
    app_refusal_clear(&r);
    ck_assert_int_eq(r.err, APP_OK);
    ck_assert_ptr_null(r.items);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, sqlstate_decides_status);
    tcase_add_test(tc, codes_unique_and_statuses_sane);
    tcase_add_test(tc, constraint_rows_are_complete);
    tcase_add_test(tc, every_named_constraint_has_a_row);
    tcase_add_test(tc, foreign_key_sides);
    tcase_add_test(tc, booking_refusals_carry_rule_and_items);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
