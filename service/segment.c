/* segment.c — see segment.h. */
#include "segment.h"

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
