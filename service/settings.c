/* settings.c — see settings.h. */
#include "settings.h"

#include <math.h>
#include <string.h>

#include "risk.h"

static const field_spec cap_fields[] = {
    {"sends", FK_INTEGER, 0, 1, 1000, NULL, NULL},
    {"days", FK_INTEGER, 0, 1, 365, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec weight_fields[] = {
    {"engagement_potential", FK_INTEGER, 0, 0, 100, NULL, NULL},
    {"estimated_cpa", FK_INTEGER, 0, 0, 100, NULL, NULL},
    {"customer_experience", FK_INTEGER, 0, 0, 100, NULL, NULL},
    {"strategic_alignment", FK_INTEGER, 0, 0, 100, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* The highest score of each risk level but critical (merged field by field; in order, checked below). */
static const field_spec risk_level_fields[] = {
    {"low", FK_INTEGER, 0, 1, RISK_SCORE_MAX, NULL, NULL},
    {"medium", FK_INTEGER, 0, 1, RISK_SCORE_MAX, NULL, NULL},
    {"high", FK_INTEGER, 0, 1, RISK_SCORE_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec settings_fields[] = {
    {"time_zone", FK_TEXT, 0, 1, SETTINGS_TIME_ZONE_MAX, NULL, NULL},
    {"overlap_window_days", FK_INTEGER, 0, 1, 365, NULL, NULL},
    {"overlap_ratio", FK_NUMBER, 0, 0, 1, NULL, NULL},
    {"frequency_cap", FK_OBJECT, 0, 0, 0, NULL, cap_fields},
    {"budget_warn_percent", FK_INTEGER, 0, 1, 1000, NULL, NULL},
    {"budget_block_percent", FK_INTEGER, 0, 1, 1000, NULL, NULL},
    {"capacity_warn_percent", FK_INTEGER, 0, 1, 100, NULL, NULL},
    {"unapproved_launch_days", FK_INTEGER, 0, 0, 365, NULL, NULL},
    {"priority_weights", FK_OBJECT, 0, 0, 0, NULL, weight_fields},
    {"forceable_rules", FK_SLUG_ARRAY, 0, 0, 2, NULL, NULL},
    {"risk_level_max", FK_OBJECT, 0, 0, 0, NULL, risk_level_fields},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const char *const weight_names[] = {"engagement_potential", "estimated_cpa", "customer_experience",
                                           "strategic_alignment", NULL};

/* The value a field will have: the patch's, else the stored one (NULL: neither). */
static json_t *effective(json_t *j_body, json_t *j_current, const char *key)
{
    json_t *j = json_object_get(j_body, key);
    return j ? j : json_object_get(j_current, key);
}

/* An IANA-style name (Area/Location, UTC): letters first, no POSIX offsets such as "+05" or "UTC-3" that
 * PostgreSQL would read with the sign reversed. The schema checks that PostgreSQL knows it. */
static int time_zone_shaped(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))) return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 *p == '/' || (*p == '-' && p[-1] != '/' && (p[1] < '0' || p[1] > '9'));
        if (!ok || (*p == '/' && (p[1] == '/' || p[1] == '\0'))) return 0;
    }
    return 1;
}

size_t settings_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    size_t before = verrs_count(v);
    if (validate_object(j_body, settings_fields, mode, "", v)) return verrs_count(v) - before;
    const char *tz = json_string_value(json_object_get(j_body, "time_zone"));
    if (tz && !time_zone_shaped(tz)) verrs_add(v, "time_zone", "must be a time zone name such as Europe/Paris or UTC");
    json_t *j_rules = json_object_get(j_body, "forceable_rules");
    size_t i;
    json_t *j_rule;
    json_array_foreach(j_rules, i, j_rule)
        if (enum_index(cf_forceable_names, json_string_value(j_rule)) < 0)
            verrs_add(v, "forceable_rules", "may name only budget_overrun and blackout: the database refuses the "
                                            "other block rules itself, so they cannot be forced");
    if (!j_current) return verrs_count(v) - before;
    json_t *j_warn = effective(j_body, j_current, "budget_warn_percent");
    json_t *j_block = effective(j_body, j_current, "budget_block_percent");
    if (json_integer_value(j_warn) > json_integer_value(j_block))
        verrs_add(v, "budget_warn_percent", "must not be above budget_block_percent");
    /* weights merge field by field (a merge patch); their sum must stay above 0 */
    json_t *j_w = json_object_get(j_body, "priority_weights"), *j_cw = json_object_get(j_current, "priority_weights");
    long long sum = 0;
    for (int k = 0; weight_names[k]; k++) {
        json_t *j = json_object_get(j_w, weight_names[k]);
        sum += json_integer_value(j ? j : json_object_get(j_cw, weight_names[k]));
    }
    if (sum <= 0) verrs_add(v, "priority_weights", "must not all be 0");
    /* the risk levels merge field by field too; the result must rise strictly within 1–25 */
    json_t *j_r = json_object_get(j_body, "risk_level_max"), *j_cr = json_object_get(j_current, "risk_level_max");
    if (j_r) {
        risk_thresholds t = {(int)json_integer_value(effective(j_r, j_cr, "low")),
                             (int)json_integer_value(effective(j_r, j_cr, "medium")),
                             (int)json_integer_value(effective(j_r, j_cr, "high"))};
        if (!risk_thresholds_valid(&t))
            verrs_add(v, "risk_level_max", "must rise strictly within 1–25: low < medium < high (here %d, %d, %d)",
                      t.low_max, t.medium_max, t.high_max);
    }
    return verrs_count(v) - before;
}

static int int_field(json_t *j_obj, const char *key, int *out)
{
    json_t *j = json_object_get(j_obj, key);
    if (!json_is_integer(j)) return 0;
    *out = (int)json_integer_value(j);
    return 1;
}

int settings_from_json(json_t *j_doc, cf_settings *s)
{
    cf_settings_default(s);
    json_t *j_ratio = json_object_get(j_doc, "overlap_ratio");
    json_t *j_cap = json_object_get(j_doc, "frequency_cap"), *j_w = json_object_get(j_doc, "priority_weights");
    if (!json_is_number(j_ratio) || !int_field(j_doc, "overlap_window_days", &s->overlap_window_days) ||
        !int_field(j_cap, "sends", &s->cap_sends) || !int_field(j_cap, "days", &s->cap_days) ||
        !int_field(j_doc, "budget_warn_percent", &s->budget_warn_pct) ||
        !int_field(j_doc, "budget_block_percent", &s->budget_block_pct) ||
        !int_field(j_doc, "capacity_warn_percent", &s->capacity_warn_pct) ||
        !int_field(j_doc, "unapproved_launch_days", &s->unapproved_horizon_days))
        return 0;
    /* numeric(5,4) in the schema: basis points are exact */
    s->overlap_ratio = (int)lround(json_number_value(j_ratio) * CF_RATIO_ONE);
    for (int k = 0; weight_names[k]; k++)
        if (!int_field(j_w, weight_names[k], &s->weights[k])) return 0;
    s->forceable = 0;
    size_t i;
    json_t *j_rule;
    json_array_foreach(json_object_get(j_doc, "forceable_rules"), i, j_rule) {
        int t = enum_index(cf_type_names, json_string_value(j_rule));
        if (t >= 0) s->forceable |= 1u << t;
    }
    return 1;
}
