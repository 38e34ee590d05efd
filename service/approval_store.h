/* approval_store.h — workflow templates, approval requests and decisions: SQL, scoped by organisation.
 * Documents come back with their version (db_doc: the ETag needs no parsing);
 * a write the database refuses fills *why (may be NULL) as the error table
 * describes it, for the handler to reply (tx_refused_reply). */
#ifndef CAMPAIGND_APPROVAL_STORE_H
#define CAMPAIGND_APPROVAL_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const workflow_sort_names[];
extern const char *const approval_sort_names[];

app_err workflow_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* workflow_store_get's statement: (org, id) -> document, version. */
extern const db_stmt workflow_store_get_stmt;
/* Locks the workflow for a change; *doc is the stored workflow and its version. */
app_err workflow_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
app_err workflow_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                              char id_out[37], app_refusal *why);
app_err workflow_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                              app_refusal *why);
/* Deletes a workflow no request ever used (doc->json NULL); a used one is
 * archived (active false) instead and *doc is the workflow after. */
app_err workflow_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why);
/* active: "true", "false" or NULL (both). */
app_err workflow_store_list(db_conn *conn, const char *org, const char *active, const char *q, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out);

/* Opens a request for the campaign with a copy of the active workflow's steps.
 * APP_ERR_NOT_FOUND when the workflow is unknown or archived. */
app_err approval_store_submit(db_conn *conn, const char *org, const char *campaign_id, const char *workflow_id,
                              const char *submitted_by, const char *campaign_owner, db_doc *doc, char id_out[37],
                              app_refusal *why);
app_err approval_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* approval_store_get's statement: (org, id) -> document, version. */
extern const db_stmt approval_store_get_stmt;
/* Locks the request (every decision on it queues here); *doc is the request with its decisions. */
app_err approval_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* What a decision reads, in one round trip: the request's version as it was
 * before waiting for any lock (*seen_version), then the lock of its campaign,
 * then the lock of the request itself (*request) — campaign first, then
 * request, the order of every writer of both. APP_ERR_NOT_FOUND when there is
 * no such request in the organisation. */
app_err approval_store_lock_for_decision(db_conn *conn, const char *org, const char *id, int *seen_version,
                                         db_doc *request);
/* Records a decision on step `step` (the database refuses any other than the
 * current one). It is sent with the next statement (db_defer), which fails
 * with its refusal when the database refuses it. */
app_err approval_store_decide(db_conn *conn, const char *org, const char *id, int step, const char *decision,
                              const char *comment, const char *actor, const char *role, int as_admin, app_refusal *why);
/* Moves the request on: to step `step` while pending, or closed with status and comment. */
app_err approval_store_advance(db_conn *conn, const char *org, const char *id, const char *status, int step,
                               const char *comment, db_doc *doc, app_refusal *why);

typedef struct approval_filter {
    const char *statuses;    /* PostgreSQL array literal or NULL */
    const char *campaign_id; /* or NULL */
    const char *mine_sub;    /* non-NULL: only requests this caller may decide now */
    const char *role;        /* the caller's role (with mine_sub) */
} approval_filter;

app_err approval_store_list(db_conn *conn, const char *org, const approval_filter *f, int sort, int desc,
                            const char *cursor_key, const char *cursor_id, int limit, list_result *out);

#endif
