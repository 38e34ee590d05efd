/* resource.c — see resource.h. */
#include "resource.h"

#include <string.h>

const char *const resource_kinds[] = {"channel", "person", "slot", "budget_pool", NULL};
const char *const resource_units[] = {"concurrent", "hours_per_week", "sends_per_day", NULL};
const char *const availability_kinds[] = {"unavailable", "leave", "blackout", NULL};

static const field_spec money_fields[] = {
    {"amount", FK_DECIMAL, FS_REQUIRED, 0, 0, NULL, NULL},
    {"currency", FK_CURRENCY, FS_REQUIRED, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* A channel's frequency cap per segment: at most `sends` sends reach one segment within any `days` days. */
static const field_spec frequency_cap_fields[] = {
    {"sends", FK_INTEGER, FS_REQUIRED, 1, 1000, NULL, NULL},
    {"days", FK_INTEGER, FS_REQUIRED, 1, 365, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec resource_fields[] = {
    {"kind", FK_ENUM, FS_REQUIRED, 0, 0, resource_kinds, NULL},
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"capacity", FK_INTEGER, 0, 1, 1000000, NULL, NULL},
    {"capacity_unit", FK_ENUM, 0, 0, 0, resource_units, NULL},
    {"cost_per_unit", FK_OBJECT, FS_NULLABLE, 0, 0, NULL, money_fields},
    {"skills", FK_TEXT_ARRAY, 0, 0, 50, NULL, NULL},
    {"notes", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"active", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {"frequency_cap", FK_OBJECT, FS_NULLABLE, 0, 0, NULL, frequency_cap_fields},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec availability_fields[] = {
    {"kind", FK_ENUM, FS_REQUIRED, 0, 0, availability_kinds, NULL},
    {"start", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"note", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"resource_id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* The value the resource will have: the body's, else the stored one, else the default. */
static const char *effective(json_t *j_body, json_t *j_current, const char *key, const char *dflt)
{
    json_t *j = json_object_get(j_body, key);
    if (!j) j = json_object_get(j_current, key);
    return json_is_string(j) ? json_string_value(j) : dflt;
}

size_t resource_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    size_t before = verrs_count(v);
    if (validate_object(j_body, resource_fields, mode, "", v)) return verrs_count(v) - before;
    /* What a field may be depends on the kind; a patch's first pass (before the stored resource is read) checks
     * shapes only, or a person's new capacity_unit or skills would be judged against no kind at all. */
    if (mode == VALIDATE_PATCH && !j_current) return verrs_count(v) - before;
    const char *kind = effective(j_body, j_current, "kind", "");
    const char *unit = effective(j_body, j_current, "capacity_unit", "concurrent");
    if (strcmp(unit, "hours_per_week") == 0 && strcmp(kind, "person") != 0)
        verrs_add(v, "capacity_unit", "hours_per_week is for people (kind person)");
    if (strcmp(unit, "sends_per_day") == 0 && strcmp(kind, "channel") != 0)
        verrs_add(v, "capacity_unit", "sends_per_day is for channels (kind channel)");
    json_t *j_skills = json_object_get(j_body, "skills");
    if (!j_skills) j_skills = json_object_get(j_current, "skills");
    if (json_array_size(j_skills) > 0 && strcmp(kind, "person") != 0)
        verrs_add(v, "skills", "only people (kind person) have skills");
    json_t *j_cap = json_object_get(j_body, "frequency_cap");
    if (!j_cap) j_cap = json_object_get(j_current, "frequency_cap");
    if (json_is_object(j_cap) && strcmp(kind, "channel") != 0)
        verrs_add(v, "frequency_cap", "only channels (kind channel) have a frequency cap");
    return verrs_count(v) - before;
}

void period_check(const char *start, const char *end, verrs *v)
{
    long long s, e;
    if (start && end && valid_timestamp(start, &s) && valid_timestamp(end, &e) && e <= s)
        verrs_add(v, "end", "must be after start (periods are half-open: [start, end))");
}

size_t availability_validate(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, availability_fields, VALIDATE_CREATE, "", v);
    period_check(json_string_value(json_object_get(j_body, "start")), json_string_value(json_object_get(j_body, "end")),
                 v);
    return verrs_count(v) - before;
}
