/* test_cursor.c — cursors round-trip and refuse what they did not make. */
#include <stdlib.h>

#include "cursor.h"
#include "unit.h"

START_TEST(round_trip)
{
    char *c = cursor_encode("-name", "Spring \"sale\" é", "123e4567-e89b-12d3-a456-426614174000");
    char *k = NULL, *i = NULL;
    ck_assert_int_eq(cursor_decode(c, "-name", &k, &i), 0);
    ck_assert_str_eq(k, "Spring \"sale\" é");
    ck_assert_str_eq(i, "123e4567-e89b-12d3-a456-426614174000");
    free(k);
    free(i);
    /* another sort */
    ck_assert_int_eq(cursor_decode(c, "name", &k, &i), -1);
    free(c);
}
END_TEST

START_TEST(garbage_refused)
{
    char *k = NULL, *i = NULL;
    ck_assert_int_eq(cursor_decode("", "name", &k, &i), -1);
    ck_assert_int_eq(cursor_decode("not a cursor!", "name", &k, &i), -1);
    ck_assert_int_eq(cursor_decode("e30", "name", &k, &i), -1); /* {} */
    char *bad_id = cursor_encode("name", "x", "not-a-uuid");
    ck_assert_int_eq(cursor_decode(bad_id, "name", &k, &i), -1);
    free(bad_id);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, garbage_refused);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
