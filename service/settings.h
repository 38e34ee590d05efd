/* settings.h — the organisation's settings (GET, PATCH /v1/settings): body rules, and the settings document
 * read into the engine's thresholds. Pure: no ulfius, no libpq. The schema holds the same bounds and SPEC's
 * defaults (org_settings and org_settings_of() in sql/migrations/0018_conflicts.sql). */
#ifndef CAMPAIGND_SETTINGS_H
#define CAMPAIGND_SETTINGS_H

#include <jansson.h>

#include "conflicts.h"
#include "validate.h"

#define SETTINGS_TIME_ZONE_MAX 64

/* Validates a merge patch (j_current: the stored settings document, or NULL for shapes only); returns the
 * number of errors added to v. */
size_t settings_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

/* Reads a settings document (as GET /v1/settings shows it) into *s; 0 when it lacks a field. */
int settings_from_json(json_t *j_doc, cf_settings *s);

#endif
