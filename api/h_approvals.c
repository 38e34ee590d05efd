/* h_approvals.c — submitting a campaign for approval (POST
 * /v1/campaigns/{id}/approval), the approval requests and their decisions
 * (/v1/approvals); the templates are h_workflows.c. The lifecycle gates and the
 * one-decision-per-step rule live in the schema; this file checks who may act
 * and says precisely why not. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "approval_store.h"
#include "campaign_store.h"
#include "crud.h"
#include "handlers.h"
#include "respond.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/approvals/<id>, /v1/campaigns/<id>/approval */

static const char *const no_params[] = {NULL};

/* ?mine=true: only the requests whose current step the caller may decide. */
static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *campaign_id = query_get(&ctx->q, "campaign_id"), *mine = query_get(&ctx->q, "mine");
    if (!enum_list_or_reply(ctx, "status", approval_statuses, &f->owned[0])) return 0;
    if (campaign_id && !valid_uuid(campaign_id)) {
        reply_bad_param(ctx, "campaign_id", "must be a UUID");
        return 0;
    }
    if (mine && strcmp(mine, "true") != 0 && strcmp(mine, "false") != 0) {
        reply_bad_param(ctx, "mine", "must be true or false");
        return 0;
    }
    f->v[0] = f->owned[0];
    f->v[1] = campaign_id;
    f->v[2] = mine && strcmp(mine, "true") == 0 ? ctx->claims.sub : NULL;
    f->v[3] = auth_role_name(ctx->claims.role);
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    approval_filter af = {f->v[0], f->v[1], f->v[2], f->v[3]};
    return approval_store_list(conn, org, &af, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

/* Requests are written only by submissions and decisions (below), never through crud_create/patch/delete: a
 * decision is taken by step (approval_may_decide), not by a write permission. */
static const crud_desc approval_crud = {
    .name = "approval request",
    .id_segment = ID_SEGMENT,
    .read = PERM_APPROVAL_READ,
    .get = approval_store_get,
    .get_stmt = &approval_store_get_stmt,
    .lock = approval_store_lock,
    .query_params = (const char *const[]){"status[]", "campaign_id", "mine", NULL},
    .sorts = approval_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

/* --- submitting a campaign --------------------------------------------- */

void h_approval_submit(req_ctx *ctx)
{
    char id[37], approval_id[37], location[64];
    json_t *j_body = NULL, *j_campaign = NULL;
    db_doc campaign = {0}, doc = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!auth_role_can(ctx->claims.role, PERM_CAMPAIGN_WRITE_ANY) &&
        !require_perm_or_reply(ctx, PERM_CAMPAIGN_WRITE_OWN))
        goto out;
    if (!query_known_or_reply(ctx, no_params) || !path_uuid_or_reply(ctx, ID_SEGMENT, id)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (approval_validate_submit(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    /* Not crud_open_or_reply: submitting answers the approval request, and If-Match is not the campaign's here. */
    app_err e = campaign_store_lock(tx.conn, ctx->claims.org, id, &campaign);
    if (!e && !(j_campaign = json_loads(campaign.json, 0, NULL))) e = APP_ERR_INTERNAL;
    if (e) { tx_fail_reply(ctx, &tx, e, e == APP_ERR_NOT_FOUND ? "no campaign with this id" : NULL, NULL); goto out; }
    const char *owner = json_string_value(json_object_get(j_campaign, "owner"));
    const char *status = json_string_value(json_object_get(j_campaign, "status"));
    if (!auth_role_can(ctx->claims.role, PERM_CAMPAIGN_WRITE_ANY) && strcmp(owner, ctx->claims.sub) != 0) {
        tx_fail_reply(ctx, &tx, APP_ERR_FORBIDDEN, "only the campaign's owner, a manager or an admin submits it",
                      NULL);
        goto out;
    }
    if (strcmp(status, "draft") != 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "only a draft campaign is submitted for approval; this one is %s%s", status,
                 strcmp(status, "in_review") == 0 ? " (its request is still open)" : "");
        tx_fail_reply(ctx, &tx, APP_ERR_INVALID_STATE, detail, NULL);
        goto out;
    }
    const char *workflow_id = json_string_value(json_object_get(j_body, "workflow_id"));
    app_refusal why = {0};
    e = approval_store_submit(tx.conn, ctx->claims.org, id, workflow_id, ctx->claims.sub, owner, &doc, approval_id,
                              &why);
    if (e == APP_ERR_NOT_FOUND) {
        /* No row: the template is archived or another organisation's (not a constraint: the insert selects it). */
        verrs_add(&v, "workflow_id", "no active workflow with this id in your organisation");
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    db_doc_free(&campaign);
    if (!e) e = campaign_store_set_status(tx.conn, ctx->claims.org, id, "in_review", "submitted for approval",
                                          &campaign, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    snprintf(location, sizeof location, "/v1/approvals/%s", approval_id);
    tx_commit_doc(ctx, &tx, 201, location, &doc);
out:
    db_doc_free(&doc);
    db_doc_free(&campaign);
    json_decref(j_body);
    json_decref(j_campaign);
    verrs_free(&v);
}

/* --- approval requests ------------------------------------------------- */

void h_approval_list(req_ctx *ctx) { crud_list(ctx, &approval_crud); }

void h_approval_get(req_ctx *ctx) { crud_get(ctx, &approval_crud); }

/* Whether sub decided any step of the request j_request. */
static int decided_before(json_t *j_request, const char *sub)
{
    size_t i;
    json_t *j_d;
    json_array_foreach(json_object_get(j_request, "decisions"), i, j_d) {
        if (strcmp(json_string_value(json_object_get(j_d, "decided_by")), sub) == 0) return 1;
    }
    return 0;
}

/* Refuses a decision the caller may not take on j_request's current step; 0 after replying. */
static int may_decide_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_request, json_t *j_body, int *as_admin)
{
    char detail[200];
    const char *status = json_string_value(json_object_get(j_request, "status"));
    json_t *j_current = json_object_get(j_request, "current_step");
    if (strcmp(status, "pending") != 0 || !json_is_object(j_current)) {
        snprintf(detail, sizeof detail, "the approval request is %s; it takes no more decisions", status);
        tx_fail_reply(ctx, tx, APP_ERR_INVALID_STATE, detail, NULL);
        return 0;
    }
    int step = (int)json_integer_value(json_object_get(j_current, "index"));
    json_t *j_step = json_object_get(j_body, "step");
    if (j_step && json_integer_value(j_step) != step) {
        snprintf(detail, sizeof detail, "step %lld was already decided; the request now waits for step %d (%s)",
                 json_integer_value(j_step), step, json_string_value(json_object_get(j_current, "name")));
        tx_fail_reply(ctx, tx, APP_ERR_INVALID_STATE, detail, NULL);
        return 0;
    }
    const char *owner = json_string_value(json_object_get(j_request, "campaign_owner"));
    int distinct = json_is_true(json_object_get(j_request, "distinct_deciders"));
    switch (approval_may_decide(j_current, ctx->claims.role, ctx->claims.sub, owner,
                                distinct && decided_before(j_request, ctx->claims.sub))) {
    case APPROVAL_MAY_DECIDE: *as_admin = 0; return 1;
    case APPROVAL_MAY_DECIDE_ADMIN: *as_admin = 1; return 1;
    case APPROVAL_OWNER:
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN, "the campaign's owner never decides its own approval", NULL);
        return 0;
    case APPROVAL_ALREADY_DECIDED:
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN,
                      "you already decided a step of this request; its workflow wants another person for each step",
                      NULL);
        return 0;
    case APPROVAL_NOT_THEIRS:
    default: {
        const char *named = json_string_value(json_object_get(j_current, "approver_sub"));
        if (named) snprintf(detail, sizeof detail, "step \"%s\" is decided by %s", json_string_value(json_object_get(j_current, "name")), named);
        else snprintf(detail, sizeof detail, "step \"%s\" is decided by the %s role",
                      json_string_value(json_object_get(j_current, "name")),
                      json_string_value(json_object_get(j_current, "role")));
        tx_fail_reply(ctx, tx, APP_ERR_FORBIDDEN, detail, NULL);
        return 0;
    }
    }
}

/* Records the decision, moves the request on, and moves the campaign: to
 * approved after the last approval, back to draft on a rejection or a request
 * for changes (with the comment as the reason). */
void h_approval_decide(req_ctx *ctx)
{
    char id[37], etag[24];
    json_t *j_body = NULL, *j_request = NULL;
    db_doc request = {0}, doc = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    int as_admin = 0;
    if (!require_perm_or_reply(ctx, PERM_APPROVAL_READ) || !query_known_or_reply(ctx, no_params) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (approval_validate_decision(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    /* The version before waiting for the lock: if another decision landed while this one waited, the
     * caller decided on what they saw, not on the step now current (unless they named the step).
     * Locks are taken campaign first, then request — the order of every other writer of both (submit,
     * transitions, PATCH) — so a decision never deadlocks with a withdrawal or a material change. */
    int seen_version = 0;
    app_err e = approval_store_lock_for_decision(tx.conn, ctx->claims.org, id, &seen_version, &request);
    if (!e && !(j_request = json_loads(request.json, 0, NULL))) e = APP_ERR_INTERNAL;
    if (e) {
        tx_fail_reply(ctx, &tx, e, e == APP_ERR_NOT_FOUND ? "no approval request with this id" : NULL, NULL);
        goto out;
    }
    if (!json_object_get(j_body, "step") && request.version != seen_version) {
        tx_fail_reply(ctx, &tx, APP_ERR_INVALID_STATE,
                      "another decision on this request landed just now; GET it and decide again", NULL);
        goto out;
    }
    etag_format(request.version, etag);
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    if (if_match && !etag_matches(if_match, etag)) {
        tx_fail_reply(ctx, &tx, APP_ERR_PRECONDITION_FAILED, "the request has moved on since you read it; GET it again",
                      NULL);
        goto out;
    }
    if (!may_decide_or_reply(ctx, &tx, j_request, j_body, &as_admin)) goto out;

    const char *decision = json_string_value(json_object_get(j_body, "decision"));
    const char *comment = json_string_value(json_object_get(j_body, "comment"));
    const char *campaign_id = json_string_value(json_object_get(j_request, "campaign_id"));
    int step = (int)json_integer_value(json_object_get(json_object_get(j_request, "current_step"), "index"));
    int last = (int)json_array_size(json_object_get(j_request, "steps")) - 1;
    app_refusal why = {0};
    e = approval_store_decide(tx.conn, ctx->claims.org, id, step, decision, comment, ctx->claims.sub,
                              auth_role_name(ctx->claims.role), as_admin, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    const char *status = strcmp(decision, "reject") == 0            ? "rejected"
                         : strcmp(decision, "request_changes") == 0 ? "changes_requested"
                         : step == last                             ? "approved"
                                                                    : "pending";
    if (strcmp(status, "pending") == 0) tx_last_write(&tx); /* nothing follows: COMMIT goes with it */
    e = approval_store_advance(tx.conn, ctx->claims.org, id, status, strcmp(status, "pending") == 0 ? step + 1 : step,
                               strcmp(decision, "approve") == 0 ? NULL : comment, &doc, &why);
    if (!e && strcmp(status, "pending") != 0) {
        char reason[4096];
        if (strcmp(status, "approved") == 0) snprintf(reason, sizeof reason, "approved");
        else snprintf(reason, sizeof reason, "%s: %s", strcmp(status, "rejected") == 0 ? "rejected" : "changes requested",
                      comment);
        /* sent with the COMMIT: three round trips in all */
        e = campaign_store_move(tx.conn, ctx->claims.org, campaign_id,
                                strcmp(status, "approved") == 0 ? "approved" : "draft", reason);
    }
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    tx_commit_doc(ctx, &tx, 201, NULL, &doc);
out:
    db_doc_free(&request);
    db_doc_free(&doc);
    json_decref(j_body);
    json_decref(j_request);
    verrs_free(&v);
}
