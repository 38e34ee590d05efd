/* booking.c — see booking.h. */
#include "booking.h"

#include <string.h>

#include "resource.h"

const char *const booking_statuses[] = {"tentative", "confirmed", "cancelled", NULL};
static const char *const create_statuses[] = {"tentative", "confirmed", NULL};

static const field_spec booking_fields[] = {
    {"campaign_id", FK_UUID, FS_REQUIRED, 0, 0, NULL, NULL},
    {"resource_id", FK_UUID, FS_REQUIRED, 0, 0, NULL, NULL},
    {"segment_id", FK_UUID, FS_NULLABLE, 0, 0, NULL, NULL},
    {"start", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"quantity", FK_INTEGER, 0, 1, 1000000, NULL, NULL},
    {"status", FK_ENUM, 0, 0, 0, create_statuses, NULL},
    {"notes", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"force", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"cost_estimate", FK_OBJECT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* What a PATCH may change: times, quantity, status and notes. */
static const field_spec booking_patch_fields[] = {
    {"start", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end", FK_TIMESTAMP, FS_REQUIRED, 0, 0, NULL, NULL},
    {"quantity", FK_INTEGER, FS_REQUIRED, 1, 1000000, NULL, NULL},
    {"status", FK_ENUM, FS_REQUIRED, 0, 0, booking_statuses, NULL},
    {"notes", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"force", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {"campaign_id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"resource_id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"segment_id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"cost_estimate", FK_OBJECT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t booking_validate_create(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, booking_fields, VALIDATE_CREATE, "", v);
    period_check(json_string_value(json_object_get(j_body, "start")), json_string_value(json_object_get(j_body, "end")),
                 v);
    return verrs_count(v) - before;
}

size_t booking_validate_patch(json_t *j_patch, json_t *j_current, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_patch, booking_patch_fields, VALIDATE_PATCH, "", v);
    json_t *j_start = json_object_get(j_patch, "start"), *j_end = json_object_get(j_patch, "end");
    if (j_start || j_end)
        period_check(json_string_value(j_start ? j_start : json_object_get(j_current, "start")),
                     json_string_value(j_end ? j_end : json_object_get(j_current, "end")), v);
    return verrs_count(v) - before;
}

const char *booking_rule(const char *rule, const char *resource_kind, json_t *j_items)
{
    if (!rule) return "resource_double_booked"; /* the exclusion constraint, seen without the guard's rule */
    if (strcmp(rule, "resource_unavailable") == 0) {
        size_t i;
        json_t *j_item;
        json_array_foreach(j_items, i, j_item) {
            const char *kind = json_string_value(json_object_get(j_item, "kind"));
            if (kind && strcmp(kind, "blackout") == 0) return "blackout";
        }
        return resource_kind && strcmp(resource_kind, "person") == 0 ? "person_unavailable" : "resource_unavailable";
    }
    return rule;
}
