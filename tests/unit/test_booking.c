/* test_booking.c — booking and resource body rules, and how a refusal is named. */
#include "booking.h"
#include "resource.h"
#include "unit.h"

/* The fields check refused (unit_why() says why). */
static const char *errors_of(size_t (*check)(json_t *, verrs *), const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(check(j, &v), verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

static size_t resource_create(json_t *j, verrs *v)
{
    return resource_validate(j, VALIDATE_CREATE, NULL, v);
}

#define REFS "\"campaign_id\":\"5d0c7f3e-2b1a-4c8d-9e6f-7a8b9c0d1e2f\",\"resource_id\":\"0b9f4c1e-7d2a-4e59-8c3b-5a6d7e8f9012\""

START_TEST(booking_create_rules)
{
    ck_assert_str_eq(errors_of(booking_validate_create,
                               "{" REFS ",\"start\":\"2026-03-01T09:00:00Z\",\"end\":\"2026-03-01T10:00:00+01:00\"}"),
                     "end"); /* the same instant: empty */
    ck_assert_str_eq(unit_why(), "end: must be after start (periods are half-open: [start, end))");
    ck_assert_str_eq(errors_of(booking_validate_create,
                               "{" REFS ",\"start\":\"2026-03-01T09:00:00Z\",\"end\":\"2026-03-01T10:00:01+01:00\"}"),
                     "");
    ck_assert_str_eq(errors_of(booking_validate_create,
                               "{" REFS ",\"start\":\"2026-03-01T09:00:00Z\",\"end\":\"infinity\"}"),
                     "end");
    ck_assert_str_eq(errors_of(booking_validate_create, "{" REFS ",\"start\":\"2026-03-01T09:00:00Z\","
                                                        "\"end\":\"2026-03-01T10:00:00Z\",\"status\":\"cancelled\"}"),
                     "status");
    ck_assert_str_eq(errors_of(booking_validate_create, "{" REFS ",\"start\":\"2026-03-01T09:00:00Z\","
                                                        "\"end\":\"2026-03-01T10:00:00Z\",\"quantity\":0}"),
                     "quantity");
    ck_assert_str_eq(errors_of(booking_validate_create, "{\"start\":\"2026-03-01T09:00:00Z\"}"),
                     "campaign_id resource_id end");
}
END_TEST

START_TEST(booking_patch_rules)
{
    json_t *j_current = json_loads("{\"start\":\"2026-03-01T09:00:00+00:00\",\"end\":\"2026-03-01T10:00:00+00:00\"}",
                                   0, NULL);
    verrs v;
    verrs_init(&v);
    json_t *j = json_loads("{\"end\":\"2026-03-01T08:00:00Z\"}", 0, NULL);
    ck_assert_uint_eq(booking_validate_patch(j, j_current, &v), 1);
    ck_assert_str_eq(unit_refused(&v), "end"); /* before the stored start */
    ck_assert_str_eq(unit_why(), "end: must be after start (periods are half-open: [start, end))");
    json_decref(j);
    j = json_loads("{\"start\":\"2026-03-01T09:30:00Z\",\"status\":\"cancelled\",\"notes\":null}", 0, NULL);
    ck_assert_uint_eq(booking_validate_patch(j, j_current, &v), 0);
    json_decref(j);
    j = json_loads("{\"resource_id\":\"0b9f4c1e-7d2a-4e59-8c3b-5a6d7e8f9012\",\"quantity\":null}", 0, NULL);
    ck_assert_uint_eq(booking_validate_patch(j, j_current, &v), 2);
    ck_assert_str_eq(unit_refused(&v), "resource_id quantity");
    json_decref(j);
    verrs_free(&v);
    json_decref(j_current);
}
END_TEST

START_TEST(resource_rules)
{
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"slot\",\"name\":\"Banner\"}"), "");
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"person\",\"name\":\"W\",\"capacity\":40,"
                                                "\"capacity_unit\":\"hours_per_week\",\"skills\":[\"seo\"]}"),
                     "");
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"slot\",\"name\":\"W\",\"capacity_unit\":\"hours_per_week\"}"),
                     "capacity_unit");
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"person\",\"name\":\"W\",\"capacity_unit\":\"sends_per_day\"}"),
                     "capacity_unit");
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"channel\",\"name\":\"W\",\"skills\":[\"seo\"]}"), "skills");
    ck_assert_str_eq(errors_of(resource_create, "{\"kind\":\"slot\",\"name\":\"W\",\"active\":1}"), "active");
    /* A PATCH is checked against the stored kind. */
    json_t *j_current = json_loads("{\"kind\":\"slot\",\"capacity_unit\":\"concurrent\",\"skills\":[]}", 0, NULL);
    json_t *j = json_loads("{\"capacity_unit\":\"hours_per_week\"}", 0, NULL);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(resource_validate(j, VALIDATE_PATCH, j_current, &v), 1);
    ck_assert_str_eq(unit_refused(&v), "capacity_unit");
    verrs_free(&v);
    json_decref(j);
    json_decref(j_current);
    /* A person's patch of its unit or skills alone is judged by the stored kind, not by the kind it does not send:
     * the shape-only first pass (no stored resource yet) lets it through, the second accepts it. */
    j_current = json_loads("{\"kind\":\"person\",\"capacity_unit\":\"concurrent\",\"skills\":[]}", 0, NULL);
    j = json_loads("{\"capacity_unit\":\"hours_per_week\",\"skills\":[\"seo\"]}", 0, NULL);
    verrs_init(&v);
    ck_assert_uint_eq(resource_validate(j, VALIDATE_PATCH, NULL, &v), 0);
    ck_assert_uint_eq(resource_validate(j, VALIDATE_PATCH, j_current, &v), 0);
    verrs_free(&v);
    json_decref(j);
    json_decref(j_current);
}
END_TEST

START_TEST(refusal_rules)
{
    json_t *j_leave = json_loads("[{\"type\":\"availability\",\"kind\":\"leave\"}]", 0, NULL);
    json_t *j_blackout = json_loads("[{\"type\":\"availability\",\"kind\":\"leave\"},"
                                    "{\"type\":\"availability\",\"kind\":\"blackout\"}]", 0, NULL);
    ck_assert_str_eq(booking_rule("resource_double_booked", "slot", NULL), "resource_double_booked");
    ck_assert_str_eq(booking_rule(NULL, "slot", NULL), "resource_double_booked");
    ck_assert_str_eq(booking_rule("capacity_exceeded", "channel", NULL), "capacity_exceeded");
    ck_assert_str_eq(booking_rule("resource_unavailable", "person", j_leave), "person_unavailable");
    ck_assert_str_eq(booking_rule("resource_unavailable", "slot", j_leave), "resource_unavailable");
    ck_assert_str_eq(booking_rule("resource_unavailable", "person", j_blackout), "blackout");
    ck_assert_str_eq(booking_rule("resource_booked", NULL, NULL), "resource_booked");
    json_decref(j_leave);
    json_decref(j_blackout);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("booking");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, booking_create_rules);
    tcase_add_test(tc, booking_patch_rules);
    tcase_add_test(tc, resource_rules);
    tcase_add_test(tc, refusal_rules);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
