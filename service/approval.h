/* approval.h — workflow templates and approval decisions: validation and the
 * rules of who decides what. Pure (jansson only). The database holds the same
 * rules as constraints (sql/migrations/0007_approvals.sql); these give the
 * precise messages. */
#ifndef CAMPAIGND_APPROVAL_H
#define CAMPAIGND_APPROVAL_H

#include <jansson.h>

#include "auth.h"
#include "validate.h"

extern const char *const approval_statuses[];   /* pending, approved, rejected, changes_requested, cancelled, superseded */
extern const char *const approval_decisions[];  /* approve, reject, request_changes */
extern const char *const approval_step_roles[]; /* admin, manager, approver */

#define WORKFLOW_MAX_STEPS 20

/* Checks a workflow body {name, description, distinct_deciders, steps: [{name, role, approver_sub}]}
 * (create or PATCH). Returns the number of errors added. */
size_t workflow_validate(json_t *j_body, validate_mode mode, verrs *v);

/* Checks a submission body {workflow_id}. */
size_t approval_validate_submit(json_t *j_body, verrs *v);

/* Checks a decision body {decision, comment, step}: a comment is required to
 * reject or request changes. */
size_t approval_validate_decision(json_t *j_body, verrs *v);

typedef enum approval_verdict {
    APPROVAL_MAY_DECIDE,      /* the step's role, or its named approver */
    APPROVAL_MAY_DECIDE_ADMIN,/* an admin deciding a step that is not theirs: recorded as such */
    APPROVAL_OWNER,           /* the campaign's owner never decides its approval */
    APPROVAL_ALREADY_DECIDED, /* the request wants distinct deciders, and this one decided a step (admins excepted) */
    APPROVAL_NOT_THEIRS       /* another role's step, or another person's named step */
} approval_verdict;

/* Who may decide j_step ({name, role, approver_sub}) of a request on a campaign
 * owned by owner: the caller (role, sub). already_decided: the request wants
 * distinct deciders (its template's distinct_deciders) and the caller decided
 * another step of it. A named approver decides alone (with admins). */
approval_verdict approval_may_decide(json_t *j_step, auth_role role, const char *sub, const char *owner,
                                     int already_decided);

/* Whether a campaign PATCH changes what an approval approved: dates, budget,
 * segments (as a set), channels (as a set) or the offer, compared with the
 * stored campaign j_current. A field sent with its current value is no change. */
int campaign_material_change(json_t *j_patch, json_t *j_current);

#endif
