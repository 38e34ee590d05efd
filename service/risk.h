/* risk.h — a campaign's risks: body rules, score and level. Pure: no ulfius, no libpq.
 * A risk's score is probability × impact (1–25); its level follows from the score by
 * the thresholds below, constants until the settings resource exists (the schema's
 * risk_level() in sql/migrations/0016_risks.sql holds the same; the store test checks
 * that both agree on every score). */
#ifndef CAMPAIGND_RISK_H
#define CAMPAIGND_RISK_H

#include <jansson.h>

#include "validate.h"

#define RISK_RATING_MIN 1 /* probability and impact */
#define RISK_RATING_MAX 5
#define RISK_LEVEL_LOW_MAX 4     /* score <= 4: low */
#define RISK_LEVEL_MEDIUM_MAX 9  /* score <= 9: medium */
#define RISK_LEVEL_HIGH_MAX 15   /* score <= 15: high; above: critical */
#define RISK_MATRIX_CELL_IDS 100 /* ids listed per cell of the matrix (the count is always the full number) */

extern const char *const risk_categories[]; /* NULL-terminated, in the matrix's order */
extern const char *const risk_statuses[];
extern const char *const risk_levels[];     /* low, medium, high, critical */

/* probability × impact, or 0 when either is outside 1–5. */
int risk_score(int probability, int impact);

/* The level of a score 1–25 ("low" … "critical", static), or NULL outside that range. */
const char *risk_level(int score);

/* Validates a create (mode VALIDATE_CREATE) or a patch body (j_current: the
 * stored risk, or NULL for shapes only); returns the number of errors added. */
size_t risk_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

#endif
