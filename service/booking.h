/* booking.h — bookings of a resource for a campaign: validation, and the
 * reading of a refusal from the database into the rule a client sees.
 * Pure (jansson only). */
#ifndef CAMPAIGND_BOOKING_H
#define CAMPAIGND_BOOKING_H

#include <jansson.h>

#include "validate.h"

extern const char *const booking_statuses[];

/* Checks a create body. Returns the number of errors added. */
size_t booking_validate_create(json_t *j_body, verrs *v);

/* Checks a PATCH body against the stored booking j_current (for the period:
 * a patch of only start or only end is checked with the stored other end). */
size_t booking_validate_patch(json_t *j_patch, json_t *j_current, verrs *v);

/* The SPEC §6 rule a refusal broke: the error table's rule for it (NULL:
 * resource_double_booked), made precise by the resource kind (a person's
 * unavailability is person_unavailable) and the items in the way (a blackout
 * among them is blackout; may be NULL). Never NULL. */
const char *booking_rule(const char *rule, const char *resource_kind, json_t *j_items);

#endif
