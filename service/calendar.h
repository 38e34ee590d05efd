/* calendar.h — key events, the shared calendar's items and feed tokens:
 * validation and presentation rules. Pure (jansson only). */
#ifndef CAMPAIGND_CALENDAR_H
#define CAMPAIGND_CALENDAR_H

#include <jansson.h>

#include "validate.h"

extern const char *const key_event_kinds[];
/* The item types of GET /v1/calendar: campaign, booking, availability, key_event, risk. */
extern const char *const calendar_item_types[];

/* The longest window GET /v1/calendar and the feed answer for, in days. */
#define CALENDAR_MAX_DAYS 366

/* Checks a key event body (create or PATCH); in PATCH mode j_current (the
 * stored event) supplies the dates the patch leaves out, so end_date >=
 * start_date is checked on the result. Returns the number of errors added. */
size_t key_event_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

/* Checks a feed token body {name, filters: {resource_id, segment_id, channel,
 * owner, types}}. Returns the number of errors added. */
size_t feed_token_validate(json_t *j_body, verrs *v);

/* A colour hint (#rrggbb) for a calendar item: campaigns by objective, bookings
 * by resource (a stable colour per resource id), availability and key events by
 * kind, risks by level. key is the objective, the resource id, the kind or the
 * level. Never NULL. */
const char *calendar_colour(const char *type, const char *key);

/* The iCalendar STATUS of an item of type with the given status (may be NULL):
 * cancelled items and closed risks are CANCELLED, so subscribers drop them. */
const char *calendar_ics_status(const char *type, const char *status);

/* A new feed token: "cfeed_" and 64 hex digits from the system's random source.
 * Returns 0 on success, -1 when no randomness is available. */
int calendar_feed_token_new(char out[71]);

#endif
