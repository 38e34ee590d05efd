/* segment.h — segment body rules. Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_SEGMENT_H
#define CAMPAIGND_SEGMENT_H

#include <jansson.h>

#include "validate.h"

/* Validates a create (mode VALIDATE_CREATE) or patch body; returns errors added. */
size_t segment_validate(json_t *j_body, validate_mode mode, verrs *v);

#endif
