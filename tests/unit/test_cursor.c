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
    /* integer ids (the audit trail's bigints): positive, at most 18 digits, nothing else */
    static const char *const bad_ints[] = {"0", "-1", "1e3", "012", "1234567890123456789", " 7", "7 "};
    for (size_t n = 0; n < sizeof bad_ints / sizeof bad_ints[0]; n++) {
        char *c = cursor_encode("at", "x", bad_ints[n]);
        ck_assert_msg(cursor_decode(c, "at", &k, &i) == -1, "%s", bad_ints[n]);
        free(c);
    }
    char *c = cursor_encode("at", "x", "123456789012345678");
    ck_assert_int_eq(cursor_decode(c, "at", &k, &i), 0);
    ck_assert_str_eq(i, "123456789012345678");
    free(k);
    free(i);
    free(c);
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
