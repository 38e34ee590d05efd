/* h_risks.c — the risk register: /v1/campaigns/{id}/risks (list, create under
 * the campaign), /v1/risks (list across campaigns) and /v1/risks/{id} (get,
 * patch, delete), all through the shared pipeline (crud.c). Who may write a
 * risk follows who may edit its campaign; approvers may write its notes. Score,
 * level and the scheduling gate live in the schema (0016_risks.sql; the level
 * follows the organisation's thresholds, 0020_risk_levels.sql). */
#include <stdlib.h>
#include <string.h>

#include "campaign_store.h"
#include "respond.h"
#include "crud.h"
#include "handlers.h"
#include "risk.h"
#include "risk_store.h"

#define ID_SEGMENT 2          /* /v1/risks/<id> */
#define CAMPAIGN_ID_SEGMENT 2 /* /v1/campaigns/<id>/risks */

/* The filters both lists share; campaign_id is the path's on the nested one. */
static int common_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *owner = query_get(&ctx->q, "owner");
    if (owner && (strlen(owner) > 255 || !valid_text_chars(owner, 0))) {
        reply_bad_param(ctx, "owner", "must be at most 255 characters without control characters");
        return 0;
    }
    if (!enum_list_or_reply(ctx, "category", risk_categories, &f->owned[0]) ||
        !enum_list_or_reply(ctx, "status", risk_statuses, &f->owned[1]) ||
        !enum_list_or_reply(ctx, "level", risk_levels, &f->owned[2]))
        return 0;
    f->v[1] = f->owned[0];
    f->v[2] = f->owned[1];
    f->v[3] = f->owned[2];
    f->v[4] = owner;
    return 1;
}

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *campaign_id = query_get(&ctx->q, "campaign_id");
    if (campaign_id && !valid_uuid(campaign_id)) { reply_bad_param(ctx, "campaign_id", "must be a UUID"); return 0; }
    f->v[0] = campaign_id;
    return common_filters_or_reply(ctx, f);
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    risk_filter rf = {f->v[0], f->v[1], f->v[2], f->v[3], f->v[4]};
    return risk_store_list(conn, org, &rf, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

static int campaign_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    char *cid = malloc(37);
    if (!cid) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); return 0; }
    f->owned[3] = cid;
    if (!path_uuid_or_reply(ctx, CAMPAIGN_ID_SEGMENT, cid)) return 0;
    f->v[0] = cid;
    return common_filters_or_reply(ctx, f);
}

/* The campaign must exist in the organisation: an empty page would hide a wrong id. */
static app_err campaign_list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp,
                             list_result *out)
{
    db_doc doc = {0};
    app_err e = campaign_store_get(conn, org, f->v[0], &doc);
    db_doc_free(&doc);
    return e ? e : list(conn, org, f, lp, out);
}

#define RISK_LIST_PARAMS "category[]", "status[]", "level[]", "owner"

static const crud_desc risk_crud = {
    .name = "risk",
    .id_segment = ID_SEGMENT,
    .read = PERM_RISK_READ,
    .create = PERM_CAMPAIGN_WRITE_OWN,
    .write = PERM_CAMPAIGN_WRITE_ANY,
    .write_own = PERM_CAMPAIGN_WRITE_OWN, /* a planner writes the risks of the campaigns they own */
    .not_owner = "only the campaign's owner, a manager or an admin may change its risks",
    .collection = "/v1/risks",
    .get = risk_store_get,
    .get_stmt = &risk_store_get_stmt,
    .lock = risk_store_lock,
    .validate = risk_validate,
    .insert = risk_store_insert,
    .update = risk_store_update,
    .remove = risk_store_remove,
    .parent_lock = risk_store_lock_campaign, /* created under its campaign, whose lock the gate shares */
    .parent_name = "campaign",
    .parent_id_segment = CAMPAIGN_ID_SEGMENT,
    .parent_field = "campaign_id",
    .annotate = PERM_RISK_ANNOTATE,
    .annotate_fields = (const char *const[]){"notes", NULL},
    .query_params = (const char *const[]){"campaign_id", RISK_LIST_PARAMS, NULL},
    .sorts = risk_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

/* One campaign's register: the same list, its campaign from the path. */
static const crud_desc campaign_risk_crud = {
    .name = "campaign",
    .read = PERM_RISK_READ,
    .query_params = (const char *const[]){RISK_LIST_PARAMS, NULL},
    .sorts = risk_sort_names,
    .filters_or_reply = campaign_filters_or_reply,
    .list = campaign_list,
};

void h_campaign_risk_list(req_ctx *ctx) { crud_list(ctx, &campaign_risk_crud); }
void h_campaign_risk_create(req_ctx *ctx) { crud_create(ctx, &risk_crud); }
void h_risk_list(req_ctx *ctx) { crud_list(ctx, &risk_crud); }
void h_risk_get(req_ctx *ctx) { crud_get(ctx, &risk_crud); }
void h_risk_patch(req_ctx *ctx) { crud_patch(ctx, &risk_crud); }
void h_risk_delete(req_ctx *ctx) { crud_delete(ctx, &risk_crud); }

/* Not a descriptor's default: an aggregate read of the register, not a row or a page. The window is two
 * calendar dates (inclusive), like the campaign list's: the campaigns whose dates overlap it. */
void h_risk_matrix(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", "campaign_id", "category[]", "status[]", "owner", NULL};
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to");
    crud_filter f = {0};
    char *json = NULL;
    db_conn *conn = NULL;

    if (!require_perm_or_reply(ctx, PERM_RISK_READ) || !query_known_or_reply(ctx, allowed)) return;
    if (!from || !valid_date(from) || !date_storable(from)) {
        reply_bad_param(ctx, "from", "is required: a calendar date YYYY-MM-DD from 1900-01-01 to 9999-12-30");
        return;
    }
    if (!to || !valid_date(to) || !date_storable(to)) {
        reply_bad_param(ctx, "to", "is required: a calendar date YYYY-MM-DD from 1900-01-01 to 9999-12-30");
        return;
    }
    if (strcmp(to, from) < 0) { reply_bad_param(ctx, "to", "must not be before from"); return; }
    if (!filters_or_reply(ctx, &f)) goto out;
    risk_filter rf = {f.v[0], f.v[1], f.v[2], NULL, f.v[4]};
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = risk_store_matrix(conn, ctx->claims.org, from, to, &rf, &json);
    db_release(ctx->app->pool, conn);
    if (e) reply_problem(ctx, e, NULL);
    else reply_json_text(ctx, 200, json);
out:
    free(json);
    for (size_t i = 0; i < sizeof f.owned / sizeof f.owned[0]; i++) free(f.owned[i]);
}
