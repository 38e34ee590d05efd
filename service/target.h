/* target.h — a campaign's KPI targets: the set a PUT replaces, checked
 * against the KPI catalogue (the key, and the target's type by the KPI's
 * unit: a count is an integer, a ratio a number, money a decimal string in
 * the campaign's currency). Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_TARGET_H
#define CAMPAIGND_TARGET_H

#include <jansson.h>

#include "validate.h"

#define TARGETS_MAX 50

/* Checks a PUT body {"targets": [...]}; adds errors (targets[i].field) to v.
 * On success (0 errors) *j_rows (new reference) is the normalised set for
 * the store: [{kpi, unit, channel, target (text), direction (the catalogue's
 * better direction unless given)}]. Returns the number of errors added. */
size_t target_validate_put(json_t *j_body, json_t **j_rows, verrs *v);

#endif
