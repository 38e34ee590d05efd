/* test_validate.c — scalar checks and the field-table validator. */
#include "unit.h"
#include "validate.h"

START_TEST(dates)
{
    ck_assert(valid_date("2026-03-01"));
    ck_assert(valid_date("2024-02-29"));
    ck_assert(!valid_date("2026-02-29"));
    ck_assert(!valid_date("2026-02-30"));
    ck_assert(!valid_date("2026-13-01"));
    ck_assert(!valid_date("2026-3-1"));
    ck_assert(!valid_date("2026-03-01T00:00:00Z"));
    ck_assert(!valid_date("1900-02-29"));
    ck_assert(valid_date("2000-02-29"));
}
END_TEST

START_TEST(timestamps)
{
    long long us = 0;
    ck_assert(valid_timestamp("2026-03-01T09:00:00Z", &us));
    ck_assert_int_eq(us, 1772355600LL * 1000000);
    ck_assert(valid_timestamp("2026-03-01T10:00:00+01:00", &us));
    ck_assert_int_eq(us, 1772355600LL * 1000000); /* the same instant */
    ck_assert(valid_timestamp("2026-03-01T04:30:00.25-04:30", &us));
    ck_assert_int_eq(us, 1772355600LL * 1000000 + 250000);
    ck_assert(valid_timestamp("1970-01-01T00:00:00Z", &us));
    ck_assert_int_eq(us, 0);
    ck_assert(valid_timestamp("2024-02-29t23:59:59z", NULL));
    ck_assert(!valid_timestamp("2026-03-01T09:00:00", NULL));        /* no offset */
    ck_assert(!valid_timestamp("2026-03-01 09:00:00Z", NULL));       /* not RFC 3339 */
    ck_assert(!valid_timestamp("2026-02-29T09:00:00Z", NULL));       /* no such day */
    ck_assert(!valid_timestamp("2026-03-01T24:00:00Z", NULL));
    ck_assert(!valid_timestamp("2026-03-01T09:60:00Z", NULL));
    ck_assert(!valid_timestamp("2026-03-01T09:00:00+24:00", NULL));
    ck_assert(!valid_timestamp("2026-03-01T09:00:00.Z", NULL));
    ck_assert(!valid_timestamp("infinity", NULL));
    ck_assert(!valid_timestamp("2026-03-01T09:00Z", NULL));           /* seconds required */
    ck_assert(!valid_timestamp("2026-03-01T09:00:00Z trailing", NULL));
    ck_assert(!valid_timestamp(NULL, NULL));
}
END_TEST

/* Year 10000 must never reach an output: an offset can push a valid local time past 9999 in UTC, and an
 * all-day event ending on 9999-12-31 would end on 10000-01-01 in the iCalendar feed. */
START_TEST(storable_dates_and_instants)
{
    long long us = 0;
    ck_assert(date_storable("1900-01-01"));
    ck_assert(date_storable("9999-12-30"));
    ck_assert(!date_storable("9999-12-31"));
    ck_assert(!date_storable("1899-12-31"));
    ck_assert(valid_timestamp("9999-12-31T20:00:00-14:00", &us));
    ck_assert(!timestamp_storable(us)); /* 10000-01-01T10:00:00Z */
    ck_assert(valid_timestamp("9999-12-31T23:59:59.999999Z", &us));
    ck_assert(timestamp_storable(us));
    ck_assert(valid_timestamp("9999-12-31T23:59:59.999999-00:01", &us));
    ck_assert(!timestamp_storable(us));
    ck_assert(valid_timestamp("1900-01-01T00:00:00Z", &us));
    ck_assert(timestamp_storable(us));
    ck_assert(valid_timestamp("1900-01-01T00:30:00+01:00", &us));
    ck_assert(!timestamp_storable(us)); /* 1899-12-31T23:30:00Z */
}
END_TEST

START_TEST(money_and_currency)
{
    ck_assert(valid_decimal_amount("0"));
    ck_assert(valid_decimal_amount("1250.00"));
    ck_assert(valid_decimal_amount("1250.5"));
    ck_assert(!valid_decimal_amount("1250.555"));
    ck_assert(!valid_decimal_amount("-1"));
    ck_assert(!valid_decimal_amount("01"));
    ck_assert(!valid_decimal_amount("1e3"));
    ck_assert(!valid_decimal_amount("1."));
    ck_assert(!valid_decimal_amount("123456789012345"));
    ck_assert(valid_currency("EUR"));
    ck_assert(valid_currency("USD"));
    ck_assert(!valid_currency("eur"));
    ck_assert(!valid_currency("XXX1"));
    ck_assert(!valid_currency("ABC"));
}
END_TEST

START_TEST(uuids)
{
    ck_assert(valid_uuid("123e4567-e89b-12d3-a456-426614174000"));
    ck_assert(!valid_uuid("123e4567e89b12d3a456426614174000"));
    ck_assert(!valid_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    ck_assert(!valid_uuid("'; DROP TABLE campaigns; --"));
}
END_TEST

static const char *const colours[] = {"red", "blue", NULL};
static const field_spec specs[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 10, NULL, NULL},
    {"colour", FK_ENUM, FS_NULLABLE, 0, 0, colours, NULL},
    {"count", FK_INTEGER, 0, 0, 5, NULL, NULL},
    {"tags", FK_TEXT_ARRAY, 0, 0, 2, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* The fields refused (unit_why() says why). */
static const char *check(const char *json, validate_mode mode)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    size_t n = validate_object(j, specs, mode, "", &v);
    ck_assert_uint_eq(n, verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

START_TEST(field_table)
{
    ck_assert_str_eq(check("{\"name\":\"ok\"}", VALIDATE_CREATE), "");
    ck_assert_str_eq(check("{}", VALIDATE_CREATE), "name");
    ck_assert_str_eq(unit_why(), "name: is required");
    ck_assert_str_eq(check("{}", VALIDATE_PATCH), "");
    ck_assert_str_eq(check("{\"name\":null}", VALIDATE_PATCH), "name");
    ck_assert_str_eq(unit_why(), "name: must not be null");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"colour\":null}", VALIDATE_CREATE), "");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"colour\":\"green\"}", VALIDATE_CREATE), "colour");
    ck_assert_str_eq(unit_why(), "colour: must be one of: red, blue");
    ck_assert_str_eq(check("{\"name\":\"far too long a name\"}", VALIDATE_CREATE), "name");
    ck_assert_str_eq(check("{\"name\":\"a\\nb\"}", VALIDATE_CREATE), "name");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"count\":6}", VALIDATE_CREATE), "count");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"count\":\"1\"}", VALIDATE_CREATE), "count");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"tags\":[\"a\",\"A\"]}", VALIDATE_CREATE), "tags[1]"); /* the same tag twice */
    ck_assert_str_eq(check("{\"name\":\"ok\",\"tags\":[\"a\",\"b\",\"c\"]}", VALIDATE_CREATE), "tags");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"id\":\"x\"}", VALIDATE_CREATE), "id");
    ck_assert_str_eq(unit_why(), "id: read-only field");
    ck_assert_str_eq(check("{\"name\":\"ok\",\"nmae\":\"typo\"}", VALIDATE_CREATE), "nmae");
    ck_assert_str_eq(unit_why(), "nmae: unknown field");
    /* every problem is reported, not only the first */
    ck_assert_str_eq(check("{\"colour\":1,\"count\":-1,\"extra\":true}", VALIDATE_CREATE), "colour count extra name");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, dates);
    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, storable_dates_and_instants);
    tcase_add_test(tc, money_and_currency);
    tcase_add_test(tc, uuids);
    tcase_add_test(tc, field_table);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
