/* h_targets.c — /v1/campaigns/{id}/targets: a campaign's KPI targets, read
 * and replaced as a whole. Not a descriptor's default: the set's version
 * (its ETag) is its own, not the campaign's, while who may write it is
 * who may edit the campaign. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign_store.h"
#include "crud.h"
#include "handlers.h"
#include "target.h"
#include "target_store.h"

#define ID_SEGMENT 2 /* /v1/campaigns/<id>/targets */

static const crud_desc targets_crud = {
    .name = "campaign",
    .id_segment = ID_SEGMENT,
    .read = PERM_CAMPAIGN_READ,
    .write = PERM_CAMPAIGN_WRITE_ANY,
    .write_own = PERM_CAMPAIGN_WRITE_OWN, /* a planner sets the targets of the campaigns they own */
    .get = target_store_get,
    .get_stmt = &target_store_get_stmt,
};

void h_targets_get(req_ctx *ctx) { crud_get(ctx, &targets_crud); }

void h_targets_put(req_ctx *ctx)
{
    char id[37], etag[24];
    json_t *j_body = NULL, *j_rows = NULL;
    char *rows = NULL;
    db_doc camp = {0}, doc = {0};
    app_refusal why = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;

    if (!crud_may_write_or_reply(ctx, &targets_crud) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (target_validate_put(j_body, &j_rows, &v)) { reply_validation(ctx, &v); goto out; }
    if (!(rows = json_dumps(j_rows, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    /* The campaign's lock serialises writers of its targets; its owner says who may write them. */
    app_err e = campaign_store_lock(tx.conn, ctx->claims.org, id, &camp);
    if (e) { tx_fail_reply(ctx, &tx, e, e == APP_ERR_NOT_FOUND ? "no campaign with this id" : NULL, NULL); goto out; }
    if (!auth_role_can(ctx->claims.role, PERM_CAMPAIGN_WRITE_ANY) && strcmp(camp.owner, ctx->claims.sub) != 0) {
        tx_fail_reply(ctx, &tx, APP_ERR_FORBIDDEN, "only the campaign's owner, a manager or an admin may set its targets",
                      NULL);
        goto out;
    }
    int version = 0;
    if ((e = target_store_lock(tx.conn, ctx->claims.org, id, &version))) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
    etag_format(version, etag);
    const char *if_match = u_map_get_case(ctx->req->map_header, "If-Match");
    if (if_match && !etag_matches(if_match, etag)) {
        tx_fail_reply(ctx, &tx, APP_ERR_PRECONDITION_FAILED,
                      "the campaign's targets have changed since you read them; GET them again", NULL);
        goto out;
    }
    if ((e = target_store_replace(tx.conn, ctx->claims.org, id, rows, &doc, &why))) {
        tx_refused_reply(ctx, &tx, e, &why, NULL);
        goto out;
    }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    app_refusal_clear(&why);
    db_doc_free(&camp);
    db_doc_free(&doc);
    free(rows);
    json_decref(j_rows);
    json_decref(j_body);
    verrs_free(&v);
}
