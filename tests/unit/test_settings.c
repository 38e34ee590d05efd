/* test_settings.c — the settings' body rules, and a settings document read into the engine's thresholds (the
 * defaults document of GET /v1/settings gives cf_settings_default: the schema's defaults and the engine's agree). */
#include <string.h>

#include "settings.h"
#include "unit.h"

static const char *errors(const char *json, const char *current)
{
    json_t *j = json_loads(json, 0, NULL), *j_cur = current ? json_loads(current, 0, NULL) : NULL;
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(settings_validate(j, VALIDATE_PATCH, j_cur, &v), verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    json_decref(j_cur);
    return fields;
}

#define DEFAULTS                                                                                                 \
    "{\"time_zone\":\"UTC\",\"overlap_window_days\":7,\"overlap_ratio\":0.3,\"frequency_cap\":{\"sends\":2,"     \
    "\"days\":7},\"budget_warn_percent\":80,\"budget_block_percent\":100,\"capacity_warn_percent\":90,"          \
    "\"unapproved_launch_days\":5,\"priority_weights\":{\"engagement_potential\":30,\"estimated_cpa\":25,"        \
    "\"customer_experience\":20,\"strategic_alignment\":25},\"forceable_rules\":[\"budget_overrun\",\"blackout\"]," \
    "\"risk_level_max\":{\"low\":4,\"medium\":9,\"high\":15},\"version\":1,\"updated_at\":null}"

START_TEST(patch_rules)
{
    /* a patch, the stored settings it is checked against (NULL: none), the fields refused */
    static const struct { const char *patch, *current, *refused; } cases[] = {
        {"{\"overlap_window_days\":14,\"frequency_cap\":{\"sends\":3}}", NULL, ""},
        {"{\"time_zone\":\"America/Argentina/Buenos_Aires\"}", NULL, ""},
        /* POSIX-signed names read reversed (Etc/GMT-3 is UTC+3): a city says what it means */
        {"{\"time_zone\":\"Etc/GMT-3\"}", NULL, "time_zone"},
        {"{\"time_zone\":\"+05\"}", NULL, "time_zone"},
        {"{\"time_zone\":\"UTC-3\"}", NULL, "time_zone"}, /* POSIX: the sign reads reversed */
        {"{\"time_zone\":\"Europe//Paris\"}", NULL, "time_zone"},
        {"{\"overlap_ratio\":1.0001}", NULL, "overlap_ratio"},
        {"{\"overlap_ratio\":0}", NULL, ""},
        {"{\"forceable_rules\":[\"capacity_exceeded\"]}", NULL, "forceable_rules"},
        {"{\"forceable_rules\":[]}", NULL, ""},
        {"{\"unapproved_launch_days\":null}", NULL, "unapproved_launch_days"},
        /* against the stored settings: the percentages in order, the weights not all 0 */
        {"{\"budget_warn_percent\":100}", DEFAULTS, ""},
        {"{\"budget_warn_percent\":101}", DEFAULTS, "budget_warn_percent"},
        {"{\"budget_block_percent\":79}", DEFAULTS, "budget_warn_percent"},
        {"{\"priority_weights\":{\"engagement_potential\":0,\"estimated_cpa\":0,\"customer_experience\":0}}",
         DEFAULTS, ""},
        {"{\"priority_weights\":{\"engagement_potential\":0,\"estimated_cpa\":0,\"customer_experience\":0,"
         "\"strategic_alignment\":0}}", DEFAULTS, "priority_weights"},
        /* risk levels: 1–25 each, merged over the stored ones, rising strictly */
        {"{\"risk_level_max\":{\"high\":12}}", DEFAULTS, ""},
        {"{\"risk_level_max\":{\"low\":1,\"medium\":2,\"high\":25}}", DEFAULTS, ""},
        {"{\"risk_level_max\":{\"high\":26}}", NULL, "risk_level_max.high"},
        {"{\"risk_level_max\":{\"low\":0}}", NULL, "risk_level_max.low"},
        {"{\"risk_level_max\":{\"medium\":null}}", NULL, "risk_level_max.medium"},
        {"{\"risk_level_max\":{\"medium\":4}}", DEFAULTS, "risk_level_max"},
        {"{\"risk_level_max\":{\"high\":9}}", DEFAULTS, "risk_level_max"},
        {"{\"risk_level_max\":{\"low\":16}}", DEFAULTS, "risk_level_max"},
        {"{\"risk_level_max\":[]}", NULL, "risk_level_max"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(strcmp(errors(cases[i].patch, cases[i].current), cases[i].refused) == 0, "%s: refused %s",
                      cases[i].patch, errors(cases[i].patch, cases[i].current));
}
END_TEST

START_TEST(defaults_document_gives_the_engine_defaults)
{
    json_t *j = json_loads(DEFAULTS, 0, NULL);
    cf_settings got, want;
    ck_assert_int_eq(settings_from_json(j, &got), 1);
    cf_settings_default(&want);
    ck_assert_int_eq(memcmp(&got, &want, sizeof got), 0);
    /* a ratio of 0.3 is 3000 basis points exactly; the rules come back as bits */
    json_object_set_new(j, "overlap_ratio", json_real(0.29));
    json_object_set_new(j, "forceable_rules", json_pack("[s]", "blackout"));
    ck_assert_int_eq(settings_from_json(j, &got), 1);
    ck_assert_int_eq(got.overlap_ratio, 2900);
    ck_assert_uint_eq(got.forceable, 1u << CF_BLACKOUT);
    json_object_del(j, "frequency_cap");
    ck_assert_int_eq(settings_from_json(j, &got), 0);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("settings");
    tcase_add_test(tc, patch_rules);
    tcase_add_test(tc, defaults_document_gives_the_engine_defaults);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
