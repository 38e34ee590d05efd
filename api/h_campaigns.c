/* h_campaigns.c — /v1/campaigns: list, create and get through the shared
 * pipeline (crud.c); patch, delete and transitions follow the lifecycle. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "campaign.h"
#include "campaign_store.h"
#include "conflict_gate.h"
#include "crud.h"
#include "export.h"
#include "import.h"
#include "handlers.h"
#include "respond.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/campaigns/<id> */

/* Segment ids of the body that are not the organisation's, as field errors in v (APP_ERR_VALIDATION); APP_OK
 * when all exist; a database error as it is. */
static app_err segments_refused(req_ctx *ctx, db_conn *conn, json_t *j_body, verrs *v)
{
    json_t *j_ids = json_object_get(j_body, "segment_ids");
    if (!json_array_size(j_ids)) return APP_OK;
    char *ids = json_dumps(j_ids, JSON_COMPACT);
    json_t *j_missing = NULL;
    app_err e = ids ? campaign_store_unknown_segments(conn, ctx->claims.org, ids, &j_missing) : APP_ERR_INTERNAL;
    free(ids);
    if (e) return e;
    size_t i;
    json_t *j_idx;
    json_array_foreach(j_missing, i, j_idx) {
        char field[32];
        snprintf(field, sizeof field, "segment_ids[%lld]", json_integer_value(j_idx));
        verrs_add(v, field, "no such segment in your organisation");
    }
    e = json_array_size(j_missing) ? APP_ERR_VALIDATION : APP_OK;
    json_decref(j_missing);
    return e;
}

/* Field errors for segment ids that are not the organisation's; 0 when all exist. */
static int segments_exist_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body)
{
    verrs v;
    verrs_init(&v);
    app_err e = segments_refused(ctx, tx->conn, j_body, &v);
    if (e != APP_ERR_VALIDATION) {
        verrs_free(&v);
        if (!e) return 1;
        tx_fail_reply(ctx, tx, e, NULL, NULL);
        return 0;
    }
    tx_abort(ctx, tx);
    reply_validation(ctx, &v);
    verrs_free(&v);
    return 0;
}

/* Judges the campaign as it would be (j_doc: a create body, or the stored document with the change; id NULL: a
 * new one) under the conflict rules in its transaction: blocking findings refuse it (409 conflict_blocked)
 * unless forced, warnings fill g. 1 to go on; 0 after replying. */
/* The conflict rules on a campaign write, as a value (see conflict_gate_judge). */
static app_err campaign_gate(req_ctx *ctx, db_conn *conn, json_t *j_doc, const char *id, int force, conflict_gate *g,
                             const char **detail, json_t **j_extra)
{
    *detail = NULL;
    *j_extra = NULL;
    memset(g, 0, sizeof *g);
    if (!conflict_gate_on(ctx)) return APP_OK;
    conflict_slice *s = NULL;
    const char *field;
    int at;
    app_err e = conflict_store_load_campaign(conn, ctx->claims.org, j_doc, id, &s, &at, &field, NULL);
    if (e == APP_ERR_VALIDATION) {
        *detail = "the campaign's segments changed under it";
        return APP_ERR_INTERNAL;
    }
    if (e) return e;
    e = conflict_gate_judge(ctx, conn, s, at, 0, force, g, detail, j_extra);
    conflict_slice_free(s);
    return e;
}

static int campaign_gate_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_doc, const char *id, int force,
                                  conflict_gate *g)
{
    const char *detail;
    json_t *j_extra;
    app_err e = campaign_gate(ctx, tx->conn, j_doc, id, force, g, &detail, &j_extra);
    if (e) tx_fail_reply(ctx, tx, e, detail, j_extra);
    return e == APP_OK;
}

static int take_force(json_t *j_body)
{
    int force = json_is_true(json_object_get(j_body, "force"));
    json_object_del(j_body, "force");
    return force;
}

/* A new campaign is judged before it is stored (crud_create's judge). */
static int judge_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body, json_t **j_warnings)
{
    conflict_gate g;
    if (!campaign_gate_or_reply(ctx, tx, j_body, NULL, json_is_true(json_object_get(j_body, "force")), &g)) return 0;
    *j_warnings = json_incref(g.j_warnings);
    conflict_gate_free(&g);
    return 1;
}

static size_t validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    if (mode == VALIDATE_CREATE) return campaign_validate_create(j_body, v);
    return campaign_validate_patch(j_body, j_current, v);
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const query *q = &ctx->q;
    const char *owner = query_get(q, "owner"), *objective = query_get(q, "objective");
    const char *from = query_get(q, "from"), *to = query_get(q, "to"), *text = query_get(q, "q");
    if (objective && enum_index(campaign_objectives, objective) < 0) {
        reply_bad_param(ctx, "objective", "must be one of awareness, acquisition, conversion, retention, launch, other");
        return 0;
    }
    if (from && !valid_date(from)) { reply_bad_param(ctx, "from", "must be a calendar date YYYY-MM-DD"); return 0; }
    if (to && !valid_date(to)) { reply_bad_param(ctx, "to", "must be a calendar date YYYY-MM-DD"); return 0; }
    if (from && to && strcmp(from, to) > 0) { reply_bad_param(ctx, "to", "must not be before from"); return 0; }
    if (text && (utf8_length(text) > 200 || !valid_text_chars(text, 0))) {
        reply_bad_param(ctx, "q", "must be at most 200 characters without control characters");
        return 0;
    }
    if (owner && (strlen(owner) > 255 || !valid_text_chars(owner, 0))) {
        reply_bad_param(ctx, "owner", "must be at most 255 characters without control characters");
        return 0;
    }
    const char *pmin = query_get(q, "priority_min");
    if (pmin) {
        char *end;
        double d = strtod(pmin, &end);
        if (!*pmin || *end || !(d >= 0 && d <= 100)) {
            reply_bad_param(ctx, "priority_min", "must be a number from 0 to 100");
            return 0;
        }
    }
    if (!enum_list_or_reply(ctx, "status", campaign_statuses, &f->owned[0])) return 0;
    const char *v[] = {f->owned[0], owner, objective, from, to, text, pmin};
    memcpy(f->v, v, sizeof v);
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    campaign_filter cf = {.statuses = f->v[0], .owner = f->v[1], .objective = f->v[2], .from = f->v[3],
                          .to = f->v[4], .q = f->v[5], .priority_min = f->v[6]};
    return campaign_store_list(conn, org, &cf, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

static const crud_desc campaign_crud = {
    .name = "campaign",
    .id_segment = ID_SEGMENT,
    .read = PERM_CAMPAIGN_READ,
    .create = PERM_CAMPAIGN_CREATE,
    .write = PERM_CAMPAIGN_WRITE_ANY,
    .write_own = PERM_CAMPAIGN_WRITE_OWN, /* a planner writes only the campaigns they own */
    .not_owner = "only the campaign's owner, a manager or an admin may change it",
    .collection = "/v1/campaigns",
    .get = campaign_store_get,
    .get_stmt = &campaign_store_get_stmt,
    .lock = campaign_store_lock,
    .validate = validate,
    .refs_or_reply = segments_exist_or_reply,
    .judge_or_reply = judge_or_reply,
    .insert = campaign_store_insert,
    .query_params = (const char *const[]){"status[]", "owner", "objective", "from", "to", "q", "priority_min", NULL},
    .sorts = campaign_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

/* The columns of GET /v1/campaigns.csv: every field, nested ones flattened (budget) or as JSON. */
static const export_column campaign_columns[] = {
    {"id", "id", 0}, {"name", "name", 0}, {"objective", "objective", 0}, {"status", "status", 0},
    {"status_reason", "status_reason", 0}, {"owner", "owner", 0}, {"team", "team", 0},
    {"start_date", "start_date", 0}, {"end_date", "end_date", 0}, {"budget_amount", "budget.amount", 0},
    {"budget_currency", "budget.currency", 0}, {"channel_budgets", "channel_budgets", 1},
    {"channels", "channels", 1}, {"tags", "tags", 1}, {"segment_ids", "segment_ids", 1}, {"offer", "offer", 1},
    {"scoring", "scoring", 1}, {"notes", "notes", 0}, {"version", "version", 0}, {"created_by", "created_by", 0},
    {"created_at", "created_at", 0}, {"updated_at", "updated_at", 0}, {NULL, NULL, 0},
};

void h_campaign_list(req_ctx *ctx) { crud_list(ctx, &campaign_crud); }
void h_campaign_export(req_ctx *ctx) { export_csv(ctx, &campaign_crud, campaign_columns, "campaigns.csv"); }

/* A row of campaigns.csv as a create's body: budget_amount and budget_currency make the budget. */
static json_t *import_row_body(json_t *j_row, verrs *v)
{
    static const char *const text[] = {"name", "objective", "start_date", "end_date", "team", "notes", NULL};
    static const char *const json[] = {"channel_budgets", "channels", "tags", "segment_ids", "offer", "scoring", NULL};
    json_t *j_body = import_body(j_row, text, json, v);
    json_t *j_amount = json_object_get(j_row, "budget_amount"), *j_currency = json_object_get(j_row, "budget_currency");
    if (j_body && (j_amount || j_currency)) {
        json_t *j_budget = json_object();
        if (!j_budget || (j_amount && json_object_set(j_budget, "amount", j_amount) != 0) ||
            (j_currency && json_object_set(j_budget, "currency", j_currency) != 0) ||
            json_object_set_new(j_body, "budget", j_budget) != 0) {
            json_decref(j_body);
            return NULL;
        }
    }
    return j_body;
}

/* One campaign of an import: the create's rules (validation, segments, the schema), the caller its owner. */
static app_err import_row_create(req_ctx *ctx, db_conn *conn, json_t *j_body, char id_out[37], verrs *v,
                                 char *detail, size_t detail_len, const char **rule)
{
    (void)rule;
    if (campaign_validate_create(j_body, v)) return APP_ERR_VALIDATION;
    app_err e = segments_refused(ctx, conn, j_body, v);
    if (e) return e;
    /* The conflict rules, as on POST /v1/campaigns (a row cannot force them); warnings are announced. */
    conflict_gate g;
    const char *why_detail;
    json_t *j_findings;
    e = campaign_gate(ctx, conn, j_body, NULL, 0, &g, &why_detail, &j_findings);
    json_decref(j_findings);
    if (e) {
        if (why_detail) snprintf(detail, detail_len, "%s", why_detail);
        return e;
    }
    conflict_gate_free(&g);
    char *text = json_dumps(j_body, JSON_COMPACT);
    if (!text) return APP_ERR_INTERNAL;
    db_doc doc = {0};
    app_refusal why = {0};
    e = campaign_store_insert(conn, ctx->claims.org, ctx->claims.sub, text, &doc, id_out, &why);
    import_refusal(e, &why, v, detail, detail_len);
    db_doc_free(&doc);
    free(text);
    return e;
}

static const import_desc campaign_import = {
    .name = "campaign",
    .patch_path = "/v1/campaigns",
    .columns = campaign_columns,
    .required = (const char *const[]){"name", "objective", "start_date", "end_date", NULL},
    .integer_columns = (const char *const[]){NULL},
    .get = campaign_store_get,
    .body = import_row_body,
    .create = import_row_create,
};

void h_campaign_import(req_ctx *ctx)
{
    if (require_perm_or_reply(ctx, PERM_CAMPAIGN_CREATE)) import_csv(ctx, &campaign_import);
}
void h_campaign_create(req_ctx *ctx) { crud_create(ctx, &campaign_crud); }
void h_campaign_get(req_ctx *ctx) { crud_get(ctx, &campaign_crud); }

static int write_request_or_reply(req_ctx *ctx, char id[37])
{
    return crud_may_write_or_reply(ctx, &campaign_crud) && query_known_or_reply(ctx, (const char *[]){NULL}) &&
           path_uuid_or_reply(ctx, ID_SEGMENT, id);
}

/* Not crud_patch: a material change to an approved or scheduled campaign first takes it back to draft (its
 * approval superseded), and the answer says so in Approval-Effect. */
void h_campaign_patch(req_ctx *ctx)
{
    char id[37];
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    char *text = NULL;
    json_t *j_after = NULL;
    conflict_gate g = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!write_request_or_reply(ctx, id)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    /* Field shapes first: no connection is taken for a malformed patch. */
    if (campaign_validate_patch(j_body, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    int force = take_force(j_body);
    if (!crud_open_or_reply(ctx, &campaign_crud, &tx, j_body, id, &lk)) goto out;
    json_t *j_current = lk.j_current;
    if (campaign_validate_patch(j_body, j_current, &v)) { tx_abort(ctx, &tx); reply_validation(ctx, &v); goto out; }
    if (!segments_exist_or_reply(ctx, &tx, j_body)) goto out;
    /* the campaign as it would be, judged by the conflict rules */
    if (!(j_after = json_deep_copy(j_current)) || json_object_update(j_after, j_body) != 0) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    if (!campaign_gate_or_reply(ctx, &tx, j_after, id, force, &g)) goto out;
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, NULL, NULL); goto out; }
    /* What an approval approved (dates, budget, segments, channels, offer) does not change under it: such a
     * change takes an approved or scheduled campaign back to draft first, and its approval is superseded. */
    const char *before = json_string_value(json_object_get(j_current, "status"));
    int had_approval = strcmp(before, "approved") == 0 || strcmp(before, "scheduled") == 0;
    int superseded = had_approval && campaign_material_change(j_body, j_current);
    app_err e = APP_OK;
    app_refusal why = {0};
    if (superseded) {
        db_doc draft = {0};
        e = campaign_store_set_status(tx.conn, ctx->claims.org, id, "draft",
                                      "a material change (dates, budget, segments, channels or offer) needs a new approval",
                                      &draft, &why);
        db_doc_free(&draft);
    }
    if (!e) e = campaign_store_update(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    if (!conflict_gate_decorate(&g, &doc)) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
    if (ctx->status == 200 && had_approval) reply_header(ctx, "Approval-Effect", superseded ? "superseded" : "kept");
out:
    conflict_gate_free(&g);
    json_decref(j_after);
    free(text);
    db_doc_free(&doc);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}

/* Not crud_delete: only a draft or cancelled campaign is deleted; the others are cancelled instead. */
void h_campaign_delete(req_ctx *ctx)
{
    char id[37];
    crud_lock lk;
    write_tx tx;

    if (!write_request_or_reply(ctx, id)) return;
    if (!crud_open_or_reply(ctx, &campaign_crud, &tx, NULL, id, &lk)) return;
    const char *status = json_string_value(json_object_get(lk.j_current, "status"));
    if (!status || !campaign_deletable(status)) {
        char detail[160];
        snprintf(detail, sizeof detail, "a campaign in status %s cannot be deleted; cancel it instead",
                 status ? status : "?");
        tx_fail_reply(ctx, &tx, APP_ERR_INVALID_STATE, detail, NULL);
    } else {
        app_refusal why = {0};
        app_err e = campaign_store_delete(tx.conn, ctx->claims.org, id, &why);
        if (e) tx_refused_reply(ctx, &tx, e, &why, NULL);
        else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
    }
    crud_lock_free(&lk);
}

/* A command on one campaign: the lifecycle rules answer which moves a caller may ask for. */
void h_campaign_transition(req_ctx *ctx)
{
    char id[37];
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    conflict_gate g = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!write_request_or_reply(ctx, id)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (campaign_validate_transition(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    if (!crud_open_or_reply(ctx, &campaign_crud, &tx, j_body, id, &lk)) goto out;

    const char *from = json_string_value(json_object_get(lk.j_current, "status"));
    const char *to = json_string_value(json_object_get(j_body, "to"));
    transition_verdict verdict = campaign_transition_check(from, to);
    if (verdict != TRANSITION_OK) {
        char detail[200];
        if (verdict == TRANSITION_WORKFLOW_ONLY && strcmp(to, "in_review") == 0)
            snprintf(detail, sizeof detail, "submit it for approval instead: POST /v1/campaigns/%s/approval", id);
        else if (verdict == TRANSITION_WORKFLOW_ONLY)
            snprintf(detail, sizeof detail, "%s is reached only through the approval workflow", to);
        else
            snprintf(detail, sizeof detail, "a %s campaign cannot go to %s", from, to);
        json_t *j_extra = json_pack("{s:s, s:o}", "from", from, "allowed", campaign_transitions_allowed(from));
        if (!j_extra) tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, NULL, NULL);
        else tx_fail_reply(ctx, &tx, APP_ERR_INVALID_TRANSITION, detail, j_extra);
        goto out;
    }
    /* scheduling commits the campaign: the conflict rules may refuse it */
    if (strcmp(to, "scheduled") == 0 &&
        !campaign_gate_or_reply(ctx, &tx, lk.j_current, id, json_is_true(json_object_get(j_body, "force")), &g))
        goto out;
    app_refusal why = {0};
    app_err e = campaign_store_set_status(tx.conn, ctx->claims.org, id, to,
                                          json_string_value(json_object_get(j_body, "reason")), &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    if (!conflict_gate_decorate(&g, &doc)) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    conflict_gate_free(&g);
    db_doc_free(&doc);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}
