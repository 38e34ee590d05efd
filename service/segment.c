/* segment.c — see segment.h. */
#include "segment.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const field_spec segment_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"description", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"estimated_size", FK_INTEGER, FS_NULLABLE, 0, 1000000000000LL, NULL, NULL},
    {"parent_id", FK_UUID, FS_NULLABLE, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t segment_validate(json_t *j_body, validate_mode mode, verrs *v)
{
    return validate_object(j_body, segment_fields, mode, "", v);
}

static const field_spec overlap_fields[] = {
    {"segment_id", FK_UUID, FS_REQUIRED, 0, 0, NULL, NULL},
    {"ratio", FK_NUMBER, FS_REQUIRED, 0, 1, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t segment_validate_overlaps(json_t *j_body, const char *self_id, verrs *v)
{
    size_t before = verrs_count(v);
    json_t *j_list = json_object_get(j_body, "overlaps");
    const char *key;
    json_t *j_value;
    json_object_foreach(j_body, key, j_value)
        if (strcmp(key, "overlaps") != 0) verrs_add(v, key, "is not a field of a segment's overlaps");
    if (!json_is_array(j_list) || json_array_size(j_list) > SEGMENT_OVERLAPS_MAX) {
        verrs_add(v, "overlaps", "is required: an array of at most %d {segment_id, ratio}", SEGMENT_OVERLAPS_MAX);
        return verrs_count(v) - before;
    }
    size_t i;
    json_t *j_item;
    json_array_foreach(j_list, i, j_item) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "overlaps[%zu]", i);
        if (!json_is_object(j_item)) { verrs_add(v, prefix, "must be an object {segment_id, ratio}"); continue; }
        if (validate_object(j_item, overlap_fields, VALIDATE_CREATE, prefix, v)) continue;
        const char *other = json_string_value(json_object_get(j_item, "segment_id"));
        if (self_id && strcasecmp(other, self_id) == 0) {
            verrs_add(v, prefix, "a segment overlaps itself wholly; name other segments");
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            const char *seen = json_string_value(json_object_get(json_array_get(j_list, k), "segment_id"));
            if (seen && strcasecmp(seen, other) == 0) {
                verrs_add(v, prefix, "names a segment already listed");
                break;
            }
        }
    }
    return verrs_count(v) - before;
}
