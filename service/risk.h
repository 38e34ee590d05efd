/* risk.h — a campaign's risks: body rules, score and level. Pure: no ulfius, no libpq.
 * A risk's score is probability × impact (1–25); its level follows from the score by
 * the organisation's thresholds (settings: risk_level_max; SPEC's 4, 9 and 15 until an
 * admin changes them). The schema's risk_level() in sql/migrations/0020_risk_levels.sql
 * holds the same rule and sets the stored level; the store test checks that both agree. */
#ifndef CAMPAIGND_RISK_H
#define CAMPAIGND_RISK_H

#include <jansson.h>

#include "validate.h"

#define RISK_RATING_MIN 1 /* probability and impact */
#define RISK_RATING_MAX 5
#define RISK_SCORE_MAX 25 /* RISK_RATING_MAX²: the highest score */
#define RISK_MATRIX_CELL_IDS 100 /* ids listed per cell of the matrix (the count is always the full number) */

/* The highest score of each level but critical: 1 <= low < medium < high <= 25. */
typedef struct risk_thresholds {
    int low_max, medium_max, high_max;
} risk_thresholds;

extern const risk_thresholds risk_thresholds_default; /* 4, 9, 15 */
extern const char *const risk_categories[]; /* NULL-terminated, in the matrix's order */
extern const char *const risk_statuses[];
extern const char *const risk_levels[];     /* low, medium, high, critical */

/* probability × impact, or 0 when either is outside 1–5. */
int risk_score(int probability, int impact);

/* Whether the thresholds are in order and within 1–25. */
int risk_thresholds_valid(const risk_thresholds *t);

/* The level of a score 1–25 under t ("low" … "critical", static), or NULL outside that range. */
const char *risk_level(const risk_thresholds *t, int score);

/* Validates a create (mode VALIDATE_CREATE) or a patch body (j_current: the
 * stored risk, or NULL for shapes only); returns the number of errors added. */
size_t risk_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

#endif
