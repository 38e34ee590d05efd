/* test_alloc.c — when jansson cannot allocate, the pure modules report an
 * error; they never give a wrong answer (bad input taken for good, a list
 * cut short, a cursor left out). */
#include <jansson.h>
#include <stdlib.h>

#include "campaign.h"
#include "cursor.h"
#include "unit.h"
#include "validate.h"

static int fail_allocations;

static void *maybe_malloc(size_t n) { return fail_allocations ? NULL : malloc(n); }

START_TEST(a_validation_error_that_cannot_be_recorded_still_counts)
{
    verrs v;
    verrs_init(&v);
    fail_allocations = 1;
    verrs_add(&v, "name", "is required");
    fail_allocations = 0;
    ck_assert_uint_eq(verrs_count(&v), 1);
    verrs_free(&v);

    /* even when the list itself could not be made */
    fail_allocations = 1;
    verrs_init(&v);
    verrs_add(&v, "name", "is required");
    fail_allocations = 0;
    ck_assert_uint_ge(verrs_count(&v), 1);
    verrs_free(&v);
}
END_TEST

START_TEST(no_partial_lists_or_cursors)
{
    fail_allocations = 1;
    json_t *j = campaign_transitions_allowed("draft");
    char *c = cursor_encode("name", "x", "123e4567-e89b-12d3-a456-426614174000");
    fail_allocations = 0;
    ck_assert_ptr_null(j);
    ck_assert_ptr_null(c);
    j = campaign_transitions_allowed("draft");
    ck_assert_uint_gt(json_array_size(j), 0);
    json_decref(j);
}
END_TEST

int main(void)
{
    json_set_alloc_funcs(maybe_malloc, free);
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, a_validation_error_that_cannot_be_recorded_still_counts);
    tcase_add_test(tc, no_partial_lists_or_cursors);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
