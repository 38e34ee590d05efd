/* h_conflicts.c — the planning engine over HTTP: GET /v1/conflicts (the portfolio scan of a window, filtered,
 * in cursor pages of a stable order) and POST /v1/conflicts/check (the findings a proposed booking or campaign,
 * new or a change of a stored one, would cause; nothing is stored). Not descriptors: the findings are computed,
 * not rows. Each loads its slice (conflict_store.c) and asks the pure engine (engine/conflicts.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "booking.h"
#include "booking_store.h"
#include "campaign.h"
#include "campaign_store.h"
#include "conflict_store.h"
#include "handlers.h"
#include "respond.h"
#include "tx.h"

#define SCAN_MAX_DAYS 400

/* Whether the PostgreSQL array literal "{a,b}" (plain words) names word; a NULL literal names everything. */
static int listed(const char *literal, const char *word)
{
    if (!literal) return 1;
    size_t n = strlen(word);
    for (const char *p = literal + 1; *p && *p != '}';) {
        size_t len = strcspn(p, ",}");
        if (len == n && strncmp(p, word, n) == 0) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* Whether f names the loaded row id of kind k (NULL id: no filter). */
static int names(const cf_portfolio *p, const cf_finding *f, cf_ref_kind k, const char *id)
{
    if (!id) return 1;
    for (int i = 0; i < f->nrefs; i++) {
        if (f->refs[i].kind != k) continue;
        const char *rid = k == CF_REF_CAMPAIGN ? p->campaigns[f->refs[i].index].id
                          : k == CF_REF_RESOURCE ? p->resources[f->refs[i].index].id
                                                 : p->segments[f->refs[i].index].id;
        if (strcasecmp(rid, id) == 0) return 1;
        /* a booking's campaign and resource count as named too */
    }
    if (k == CF_REF_CAMPAIGN || k == CF_REF_RESOURCE)
        for (int i = 0; i < f->nrefs; i++) {
            if (f->refs[i].kind != CF_REF_BOOKING) continue;
            const cf_booking *b = &p->bookings[f->refs[i].index];
            const char *rid = k == CF_REF_CAMPAIGN ? p->campaigns[b->campaign].id : p->resources[b->resource].id;
            if (strcasecmp(rid, id) == 0) return 1;
        }
    return 0;
}

static int uuid_param_or_reply(req_ctx *ctx, const char *name, const char **out)
{
    *out = query_get(&ctx->q, name);
    if (*out && !valid_uuid(*out)) { reply_bad_param(ctx, name, "must be a UUID"); return 0; }
    return 1;
}

void h_conflict_list(req_ctx *ctx)
{
    static const char *const allowed[] = {"from", "to", "type[]", "severity[]", "campaign_id", "resource_id",
                                          "segment_id", "limit", "cursor", "sort", NULL};
    static const char *const sorts[] = {"window", NULL};
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to"), *campaign, *resource, *segment;
    char *types = NULL, *severities = NULL, **items = NULL;
    size_t n = 0;
    list_params lp = {0};
    conflict_slice *s = NULL;
    cf_result r = {0};
    db_conn *conn = NULL;

    if (!require_perm_or_reply(ctx, PERM_CONFLICT_READ) || !query_known_or_reply(ctx, allowed) ||
        !bounded_window_or_reply(ctx, from, to, SCAN_MAX_DAYS) || !list_params_or_reply(ctx, sorts, &lp))
        return;
    if (lp.desc) { reply_bad_param(ctx, "sort", "findings come in the window's order only"); goto out; }
    if (!enum_list_or_reply(ctx, "type", cf_type_names, &types) ||
        !enum_list_or_reply(ctx, "severity", cf_severity_names, &severities) ||
        !uuid_param_or_reply(ctx, "campaign_id", &campaign) || !uuid_param_or_reply(ctx, "resource_id", &resource) ||
        !uuid_param_or_reply(ctx, "segment_id", &segment))
        goto out;
    long long after_order = 0;
    if (lp.cursor_key) {
        char *end;
        after_order = strtoll(lp.cursor_key, &end, 10);
        if (*end) { reply_problem(ctx, APP_ERR_INVALID_CURSOR, NULL); goto out; }
    }
    conflict_ask ask = {.mode = CONFLICT_SCAN, .from = from, .to = to};
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = conflict_store_load(conn, ctx->claims.org, &ask, &s);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    const cf_portfolio *p = conflict_slice_portfolio(s);
    cf_scope q = conflict_slice_scope(s);
    if (cf_run(p, conflict_slice_settings(s), &q, &r) != 0 || !(items = calloc((size_t)lp.limit + 1, sizeof *items))) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    const cf_finding *last = NULL;
    int more = 0;
    for (size_t i = 0; i < r.n; i++) {
        const cf_finding *f = &r.items[i];
        if (!listed(types, cf_type_names[f->type]) || !listed(severities, cf_severity_names[f->severity]) ||
            !names(p, f, CF_REF_CAMPAIGN, campaign) || !names(p, f, CF_REF_RESOURCE, resource) ||
            !names(p, f, CF_REF_SEGMENT, segment))
            continue;
        if (lp.cursor_key && (f->order < after_order || (f->order == after_order && strcmp(f->key, lp.cursor_id) <= 0)))
            continue;
        if (n == (size_t)lp.limit) { more = 1; break; }
        json_t *j = cf_finding_json(p, f);
        if (!j || !(items[n] = json_dumps(j, JSON_COMPACT))) {
            json_decref(j);
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_decref(j);
        n++;
        last = f;
    }
    char key[24];
    if (last) snprintf(key, sizeof key, "%lld", last->order);
    reply_list(ctx, items, n, "window", 0, more ? key : NULL, more ? last->key : NULL);
out:
    for (size_t i = 0; items && i < n; i++) free(items[i]);
    free(items);
    cf_result_free(&r);
    conflict_slice_free(s);
    free(types);
    free(severities);
    list_params_free(&lp);
#ifdef __GLIBC__
    /* A scan allocates in proportion to the window's portfolio (tens of megabytes around 100,000 bookings), and
     * glibc keeps what a thread frees in that thread's arena: every HTTP thread would hold the largest scan it
     * ran, freed but resident. Give it back (measured in README, "Conflicts" under the benchmarks). */
    malloc_trim(0);
#endif
}

/* The proposal merged onto the stored row it changes (a merge patch of the document), or the new one as
 * sent; *j_out is a new reference, and so is *j_stored, the stored row's document (NULL for a new one). 0 after
 * replying. */
static int proposal_or_reply(req_ctx *ctx, db_conn *conn, json_t *j_body, const char *what, const char *id,
                             json_t **j_out, json_t **j_stored)
{
    json_t *j_prop = json_object_get(j_body, what);
    verrs v;
    verrs_init(&v);
    int booking = strcmp(what, "booking") == 0, ok = 0;
    db_doc doc = {0};
    json_t *j_current = NULL;
    *j_stored = NULL;
    if (!id) {
        size_t bad = booking ? booking_validate_create(j_prop, &v) : campaign_validate_create(j_prop, &v);
        if (bad) goto invalid;
        *j_out = json_deep_copy(j_prop);
        ok = *j_out != NULL;
        if (!ok) reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    app_err e = booking ? booking_store_get(conn, ctx->claims.org, id, &doc) : campaign_store_get(conn, ctx->claims.org, id, &doc);
    if (e) {
        char detail[64];
        snprintf(detail, sizeof detail, "no %s with this id", what);
        reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? detail : NULL);
        goto out;
    }
    if (!(j_current = json_loads(doc.json, 0, NULL))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (booking ? booking_validate_patch(j_prop, j_current, &v) : campaign_validate_patch(j_prop, j_current, &v))
        goto invalid;
    if (!(*j_stored = json_deep_copy(j_current)) || json_object_update(j_current, j_prop) != 0) {
        json_decref(*j_stored);
        *j_stored = NULL;
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
        goto out;
    }
    *j_out = json_incref(j_current);
    ok = 1;
    goto out;
invalid: {
    /* the fields are the proposal's: say so in their paths */
    json_t *j_errs = verrs_take(&v), *j_e;
    size_t i;
    json_array_foreach(j_errs, i, j_e) {
        char path[128];
        snprintf(path, sizeof path, "%s.%s", what, json_string_value(json_object_get(j_e, "field")));
        verrs_add(&v, path, "%s", json_string_value(json_object_get(j_e, "message")));
    }
    json_decref(j_errs);
    reply_validation(ctx, &v);
}
out:
    json_decref(j_current);
    db_doc_free(&doc);
    verrs_free(&v);
    return ok;
}

/* The body: one of booking or campaign, and the id of the stored one it changes (optional). 0 after replying. */
static int check_body_or_reply(req_ctx *ctx, json_t *j_body, const char **what, const char **id)
{
    verrs v;
    verrs_init(&v);
    const char *key;
    json_t *j_value;
    json_object_foreach(j_body, key, j_value)
        if (strcmp(key, "booking") && strcmp(key, "campaign") && strcmp(key, "booking_id") && strcmp(key, "campaign_id"))
            verrs_add(&v, key, "is not a field of a check: send booking (and booking_id) or campaign (and campaign_id)");
    json_t *j_b = json_object_get(j_body, "booking"), *j_c = json_object_get(j_body, "campaign");
    *what = j_b ? "booking" : "campaign";
    const char *id_field = j_b ? "booking_id" : "campaign_id", *other = j_b ? "campaign_id" : "booking_id";
    json_t *j_id = json_object_get(j_body, id_field);
    if ((j_b != NULL) == (j_c != NULL)) verrs_add(&v, "booking", "send exactly one of booking and campaign");
    else if (!json_is_object(j_b ? j_b : j_c)) verrs_add(&v, *what, "must be an object");
    if (json_object_get(j_body, other)) verrs_add(&v, other, "goes with %s", j_b ? "campaign" : "booking");
    if (j_id && (!json_is_string(j_id) || !valid_uuid(json_string_value(j_id)))) verrs_add(&v, id_field, "must be a UUID");
    *id = json_string_value(j_id);
    if (verrs_count(&v)) { reply_validation(ctx, &v); verrs_free(&v); return 0; }
    verrs_free(&v);
    return 1;
}

/* The check's answer: the findings, whether any blocks, and whether all that block may be forced. */
static char *check_json(const cf_portfolio *p, const cf_result *r, const cf_settings *st)
{
    json_t *j_list = json_array();
    for (size_t i = 0; j_list && i < r->n; i++)
        if (json_array_append_new(j_list, cf_finding_json(p, &r->items[i])) != 0) {
            json_decref(j_list);
            return NULL;
        }
    json_t *j = json_pack("{s:o, s:b, s:b}", "findings", j_list, "blocked", cf_count(r, CF_BLOCK) > 0, "forceable",
                          cf_count(r, CF_BLOCK) > 0 && cf_blocks_forceable(r, st));
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* A check writes nothing but, with an Idempotency-Key, that key's answer: then it is a write transaction (the
 * key's claim, the answer saved with COMMIT). Without one it runs no transaction at all: each statement reads its
 * own snapshot (a new proposal's check is its slice's one statement; a change's reads the stored row first), and
 * BEGIN, the request context for the audit (campaignd_begin) and COMMIT would be three statements of PostgreSQL's
 * work around it for nothing. The write_tx then holds only the connection (tx_abort, tx_fail_reply and
 * tx_commit_reply release it; there is nothing to roll back or commit). 0 after replying. */
static int check_conn_or_reply(req_ctx *ctx, write_tx *tx, json_t *j_body)
{
    if (u_map_get_case(ctx->req->map_header, "Idempotency-Key")) return tx_begin_or_reply(ctx, tx, j_body);
    memset(tx, 0, sizeof *tx);
    app_err e = db_acquire(ctx->app->pool, &tx->conn);
    if (e) {
        tx->conn = NULL;
        reply_problem(ctx, e, "the database is not reachable; retry shortly");
        return 0;
    }
    return 1;
}

void h_conflict_check(req_ctx *ctx)
{
    static const char *const no_params[] = {NULL};
    json_t *j_body = NULL, *j_prop = NULL, *j_stored = NULL;
    const char *what, *id;
    char *text = NULL;
    conflict_slice *s = NULL;
    cf_result r = {0};
    write_tx tx;

    if (!require_perm_or_reply(ctx, PERM_CONFLICT_READ) || !query_known_or_reply(ctx, no_params)) return;
    if (!(j_body = body_object_or_reply(ctx, 0)) || !check_body_or_reply(ctx, j_body, &what, &id)) goto out;
    if (!check_conn_or_reply(ctx, &tx, j_body)) goto out;
    if (!proposal_or_reply(ctx, tx.conn, j_body, what, id, &j_prop, &j_stored)) { tx_abort(ctx, &tx); goto out; }
    int booking = strcmp(what, "booking") == 0, at = -1;
    const char *field = NULL;
    app_err e;
    if (booking) {
        conflict_ask ask = conflict_ask_booking(j_prop);
        ask.check = 1; /* a blocked booking's free periods and alternatives in the same statement */
        e = conflict_store_load(tx.conn, ctx->claims.org, &ask, &s);
        if (!e && (at = conflict_slice_propose_booking(s, j_prop, j_stored, &field)) < 0)
            e = field ? APP_ERR_VALIDATION : APP_ERR_INTERNAL;
    } else { /* the store asks the engine about the proposal (for the campaigns to move) and hands its answer on */
        e = conflict_store_load_campaign(tx.conn, ctx->claims.org, j_prop, id, &s, &at, &field, &r);
    }
    if (e == APP_ERR_NOT_FOUND) {
        verrs v;
        verrs_init(&v);
        verrs_add(&v, "booking.resource_id", "no such resource in your organisation");
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        verrs_free(&v);
        goto out;
    }
    if (e == APP_ERR_VALIDATION) {
        verrs v;
        verrs_init(&v);
        char path[64];
        snprintf(path, sizeof path, "%s.%s", what, field);
        verrs_add(&v, path, "no such %s in your organisation", strcmp(field, "segment_ids") == 0 ? "segment" : field);
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        verrs_free(&v);
        goto out;
    }
    if (e) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
    if (booking && conflict_slice_incomplete(s)) { /* read short for a resource that has changed since: in full */
        if ((e = conflict_slice_load_around(tx.conn, s, &at))) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
    }
    cf_scope q = conflict_slice_scope(s);
    q.focus_booking = booking ? at : -1;
    q.focus_campaign = booking ? -1 : at;
    if (booking && cf_run(conflict_slice_portfolio(s), conflict_slice_settings(s), &q, &r) != 0) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    if (conflict_slice_wants_around(s, &r)) { /* a blocked booking: its free periods need the bookings around it */
        cf_result_free(&r);
        if ((e = conflict_slice_load_around(tx.conn, s, &at))) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
        q = conflict_slice_scope(s);
        q.focus_booking = at;
        if (cf_run(conflict_slice_portfolio(s), conflict_slice_settings(s), &q, &r) != 0) {
            tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
            goto out;
        }
    }
    const cf_portfolio *p = conflict_slice_portfolio(s);
    if (!(text = check_json(p, &r, conflict_slice_settings(s)))) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    tx_commit_reply(ctx, &tx, 200, NULL, text);
out:
    free(text);
    cf_result_free(&r);
    conflict_slice_free(s);
    json_decref(j_prop);
    json_decref(j_stored);
    json_decref(j_body);
}
