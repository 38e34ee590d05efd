/* segment.h — segment body rules. Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_SEGMENT_H
#define CAMPAIGND_SEGMENT_H

#include <jansson.h>

#include "validate.h"

/* Validates a create (mode VALIDATE_CREATE) or patch body; returns errors added. */
size_t segment_validate(json_t *j_body, validate_mode mode, verrs *v);

#define SEGMENT_OVERLAPS_MAX 500

/* Validates the body of PUT /v1/segments/{id}/overlaps, {"overlaps": [{"segment_id", "ratio"}]}: UUIDs other
 * than self_id, each once, ratios 0–1. Returns the number of errors added. */
size_t segment_validate_overlaps(json_t *j_body, const char *self_id, verrs *v);

#endif
