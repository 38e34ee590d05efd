/* resource.h — resources (channels, people, slots, budget pools) and their
 * availability periods: validation. Pure (jansson only). The capacity rules
 * themselves live in the schema (sql/migrations/0005_bookings.sql). */
#ifndef CAMPAIGND_RESOURCE_H
#define CAMPAIGND_RESOURCE_H

#include <jansson.h>

#include "validate.h"

extern const char *const resource_kinds[];
extern const char *const resource_units[];
extern const char *const availability_kinds[];

/* Checks a resource body (create or PATCH); in PATCH mode j_current (the
 * stored resource) supplies the fields the patch leaves out, so the kind,
 * unit and skills are checked together. Returns the number of errors added. */
size_t resource_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

/* Checks an availability body {kind, start, end, note}; end after start. */
size_t availability_validate(json_t *j_body, verrs *v);

/* Adds "end: must be after start" when both are valid timestamps and end <= start. */
void period_check(const char *start, const char *end, verrs *v);

#endif
