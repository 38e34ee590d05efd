/* campaign.h — campaign rules: body validation and the status lifecycle.
 * Pure: no ulfius, no libpq. The database enforces the same rules again
 * (checks and the transition trigger); these give the precise messages. */
#ifndef CAMPAIGND_CAMPAIGN_H
#define CAMPAIGND_CAMPAIGN_H

#include <jansson.h>

#include "validate.h"

#define CAMPAIGN_CHANNEL_BUDGETS_MAX 20

extern const char *const campaign_statuses[];   /* NULL-terminated */
extern const char *const campaign_objectives[]; /* NULL-terminated */

/* Validates a create body; returns the number of field errors added to v. */
size_t campaign_validate_create(json_t *j_body, verrs *v);

/* Validates a PATCH body against the current representation j_current (the
 * campaign as GET returns it), including cross-field rules on the merged
 * result (end_date >= start_date). Returns the number of errors added. */
size_t campaign_validate_patch(json_t *j_patch, json_t *j_current, verrs *v);

typedef enum transition_verdict {
    TRANSITION_OK,
    TRANSITION_INVALID,      /* not an edge of the lifecycle from the current status */
    TRANSITION_WORKFLOW_ONLY /* an edge, but taken only by the approval workflow */
} transition_verdict;

/* Judges a requested status change from -> to (both valid status names). */
transition_verdict campaign_transition_check(const char *from, const char *to);

/* Statuses a client may request from `from` (new reference, array of strings). */
json_t *campaign_transitions_allowed(const char *from);

/* Validates a transition body {"to", "reason"}; returns errors added. */
size_t campaign_validate_transition(json_t *j_body, verrs *v);

/* Whether a campaign in this status may be deleted. */
int campaign_deletable(const char *status);

#endif
