/* h_bookings.c — /v1/bookings: list, create, get, patch, cancel. The
 * database decides whether a resource can take a booking (bookings_guard and
 * the exclusion constraint); this file checks input and roles for good
 * messages and turns a refusal into a 409 naming what is in the way. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "booking_store.h"
#include "conflict_gate.h"
#include "crud.h"
#include "export.h"
#include "import.h"
#include "handlers.h"
#include "respond.h"
#include "tx.h"

#define ID_SEGMENT 2 /* /v1/bookings/<id> */

static int filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    static const char *const uuid_params[] = {"campaign_id", "resource_id", "segment_id", NULL};
    for (int i = 0; uuid_params[i]; i++) {
        const char *val = query_get(&ctx->q, uuid_params[i]);
        if (val && !valid_uuid(val)) { reply_bad_param(ctx, uuid_params[i], "must be a UUID"); return 0; }
        f->v[i] = val;
    }
    const char *from = query_get(&ctx->q, "from"), *to = query_get(&ctx->q, "to");
    if (!window_params_or_reply(ctx, from, to)) return 0;
    if (!enum_list_or_reply(ctx, "status", booking_statuses, &f->owned[0])) return 0;
    f->v[3] = f->owned[0];
    f->v[4] = from;
    f->v[5] = to;
    return 1;
}

static app_err list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out)
{
    booking_filter bf = {f->v[0], f->v[1], f->v[2], f->v[3], f->v[4], f->v[5]};
    return booking_store_list(conn, org, &bf, lp->sort, lp->desc, lp->cursor_key, lp->cursor_id, lp->limit, out);
}

/* The lock takes the booking's resource first (the order of every booking writer) and names the campaign's
 * owner, whose bookings a planner may change, and the resource's kind, which some refusals are told in.
 * Writes keep their handlers: what a booking refers to is checked in its transaction, and a refusal names
 * the rule it broke and what is in the way. */
static const crud_desc booking_crud = {
    .name = "booking",
    .id_segment = ID_SEGMENT,
    .read = PERM_BOOKING_READ,
    .write = PERM_BOOKING_WRITE_ANY,
    .write_own = PERM_BOOKING_WRITE_OWN,
    .not_owner = "a planner changes only the bookings of campaigns they own",
    .get = booking_store_get,
    .get_stmt = &booking_store_get_stmt,
    .lock = booking_store_lock,
    .query_params = (const char *const[]){"campaign_id", "resource_id", "segment_id", "status[]", "from", "to", NULL},
    .sorts = booking_sort_names,
    .filters_or_reply = filters_or_reply,
    .list = list,
};

void reply_booking_conflict(req_ctx *ctx, write_tx *tx, app_refusal *why, const char *resource_id, const char *start,
                            const char *end, const char *except_id, const char *resource_kind, const char *detail)
{
    json_t *j_items = why->items ? json_loads(why->items, 0, NULL) : NULL;
    if (!json_is_array(j_items)) {
        /* Refused by the exclusion constraint itself: look up what is in the way. */
        json_decref(j_items);
        j_items = NULL;
        db_rollback(tx->conn);
        app_err e = APP_OK;
        if (resource_id && start && end)
            e = booking_store_in_the_way(tx->conn, ctx->claims.org, resource_id, start, end, except_id, &j_items);
        else if (!(j_items = json_array()))
            e = APP_ERR_INTERNAL;
        if (e) {
            tx_fail_reply(ctx, tx, e, NULL, NULL);
            app_refusal_clear(why);
            return;
        }
    }
    const char *rule = booking_rule(why->rule, resource_kind, j_items);
    json_t *j_extra = json_pack("{s:s, s:o}", "rule", rule, "conflicts", j_items);
    /* A conflict that cannot say what is in the way would mislead: no memory is a 500. */
    if (!j_extra) tx_fail_reply(ctx, tx, APP_ERR_INTERNAL, NULL, NULL);
    else tx_fail_reply(ctx, tx, APP_ERR_BOOKING_CONFLICT, detail ? detail : why->sentence, j_extra);
    app_refusal_clear(why);
}

/* Whether the caller may book for a campaign owned by owner. */
static int may_book(const req_ctx *ctx, const char *owner)
{
    if (auth_role_can(ctx->claims.role, PERM_BOOKING_WRITE_ANY)) return 1;
    return auth_role_can(ctx->claims.role, PERM_BOOKING_WRITE_OWN) && strcmp(owner, ctx->claims.sub) == 0;
}

static int require_write_role_or_reply(req_ctx *ctx)
{
    if (auth_role_can(ctx->claims.role, PERM_BOOKING_WRITE_ANY) ||
        auth_role_can(ctx->claims.role, PERM_BOOKING_WRITE_OWN))
        return 1;
    reply_problem(ctx, APP_ERR_FORBIDDEN, "only managers, admins and the campaign's planner may book");
    return 0;
}

/* Judges what a new booking refers to (refs, as read): APP_OK with resource_kind set; otherwise the refusal:
 * APP_ERR_VALIDATION with field errors in v, or another error with its detail. */
static app_err refs_check(const req_ctx *ctx, json_t *j_body, const booking_refs *refs, char resource_kind[16],
                          verrs *v, char *detail, size_t detail_len)
{
    if (!refs->campaign_status[0]) verrs_add(v, "campaign_id", "no such campaign in your organisation");
    if (!refs->resource_kind[0]) verrs_add(v, "resource_id", "no such resource in your organisation");
    if (json_is_string(json_object_get(j_body, "segment_id")) && !refs->segment_found)
        verrs_add(v, "segment_id", "no such segment in your organisation");
    if (verrs_count(v)) return APP_ERR_VALIDATION;
    if (!may_book(ctx, refs->campaign_owner)) {
        snprintf(detail, detail_len, "a planner books only for the campaigns they own");
        return APP_ERR_FORBIDDEN;
    }
    if (strcmp(refs->campaign_status, "cancelled") == 0 || strcmp(refs->campaign_status, "completed") == 0) {
        snprintf(detail, detail_len, "the campaign is %s and takes no new bookings", refs->campaign_status);
        return APP_ERR_INVALID_STATE;
    }
    if (!refs->resource_active) {
        snprintf(detail, detail_len, "the resource is inactive; activate it or book another");
        return APP_ERR_RESOURCE_INACTIVE;
    }
    snprintf(resource_kind, 16, "%s", refs->resource_kind);
    return APP_OK;
}

/* What a new booking refers to, as its conflict slice holds it (the slice reads the booking's campaign, resource
 * and segment by key in the organisation): everything but the campaign's owner, which only a write of the
 * campaigns one owns needs. */
static void refs_of_slice(const conflict_slice *s, json_t *j_body, booking_refs *out)
{
    static const char *const kinds[] = {[CF_CHANNEL] = "channel", [CF_PERSON] = "person", [CF_SLOT] = "slot",
                                        [CF_BUDGET_POOL] = "budget_pool"};
    const cf_portfolio *p = conflict_slice_portfolio(s);
    int c = conflict_slice_campaign(s, json_string_value(json_object_get(j_body, "campaign_id")));
    int r = conflict_slice_resource(s, json_string_value(json_object_get(j_body, "resource_id")));
    const char *segment_id = json_string_value(json_object_get(j_body, "segment_id"));
    memset(out, 0, sizeof *out);
    if (c >= 0) snprintf(out->campaign_status, sizeof out->campaign_status, "%s", p->campaigns[c].status);
    if (r >= 0) {
        snprintf(out->resource_kind, sizeof out->resource_kind, "%s", kinds[p->resources[r].kind]);
        out->resource_active = p->resources[r].active;
    }
    out->segment_found = segment_id && conflict_slice_segment(s, segment_id) >= 0;
}

/* Whether the caller's booking takes what it refers to from the conflict rules' slice alone (judged: the rules
 * are on): the slice reads the booking's campaign, resource and segment by key in the organisation, all but the
 * campaign's owner, which only a caller who books for the campaigns they own needs. */
static int refs_from_slice(const req_ctx *ctx, int judged)
{
    return judged && auth_role_can(ctx->claims.role, PERM_BOOKING_WRITE_ANY);
}

/* Queues on conn the statements that read what a new booking refers to and, judged, its slice (*s, to free;
 * NULL otherwise): the slice's statement alone when refs_from_slice, else the references' statement (into
 * *refs) too. They go with conn's next round trip; refs_judge then judges them. */
static app_err refs_send(req_ctx *ctx, db_conn *conn, json_t *j_body, int judged, conflict_slice **s, db_kept *refs)
{
    conflict_ask ask = conflict_ask_booking(j_body);
    app_err e = APP_OK;
    *s = NULL;
    if (judged) e = conflict_store_defer(conn, ctx->claims.org, &ask, s);
    if (!e && !refs_from_slice(ctx, judged))
        e = booking_store_refs_defer(conn, ctx->claims.org, json_string_value(json_object_get(j_body, "campaign_id")),
                                     json_string_value(json_object_get(j_body, "resource_id")),
                                     json_string_value(json_object_get(j_body, "segment_id")), refs);
    return e;
}

/* Judges what refs_send read (sent): APP_OK with resource_kind set; otherwise the refusal: APP_ERR_VALIDATION
 * with field errors in v, or another error with its detail. A booking of a resource the slice does not find
 * reads the references in a round trip of its own on conn, to name every missing one. */
static app_err refs_judge(req_ctx *ctx, db_conn *conn, json_t *j_body, int judged, conflict_slice *s,
                          const db_kept *refs_read, char resource_kind[16], verrs *v, char *detail, size_t detail_len)
{
    booking_refs refs;
    app_err e;
    detail[0] = '\0';
    if (refs_from_slice(ctx, judged)) {
        if (!(e = conflict_store_read(s))) {
            refs_of_slice(s, j_body, &refs);
            return refs_check(ctx, j_body, &refs, resource_kind, v, detail, detail_len);
        }
        if (e != APP_ERR_NOT_FOUND) return e;
        /* not a resource of the organisation: the references' statement names what is missing */
        if (!(e = booking_store_refs(conn, ctx->claims.org, json_string_value(json_object_get(j_body, "campaign_id")),
                                     json_string_value(json_object_get(j_body, "resource_id")),
                                     json_string_value(json_object_get(j_body, "segment_id")), &refs)))
            e = refs_check(ctx, j_body, &refs, resource_kind, v, detail, detail_len);
        return e ? e : APP_ERR_INTERNAL; /* found now, not a moment before */
    }
    e = booking_store_refs_take(refs_read, &refs);
    if (!e) e = refs_check(ctx, j_body, &refs, resource_kind, v, detail, detail_len);
    if (!e && judged && (e = conflict_store_read(s)) == APP_ERR_NOT_FOUND) e = APP_ERR_INTERNAL;
    return e;
}

/* What a new booking refers to, checked in its transaction, and with the conflict rules on (judged) their slice
 * (*s, to free; NULL otherwise), in one round trip of its own (refs_send, then refs_judge). */
static app_err refs_refused(req_ctx *ctx, db_conn *conn, json_t *j_body, int judged, conflict_slice **s,
                            char resource_kind[16], verrs *v, char *detail, size_t detail_len)
{
    db_kept refs = {NULL};
    detail[0] = '\0';
    app_err e = refs_send(ctx, conn, j_body, judged, s, &refs);
    if (!e) e = db_send(conn, NULL);
    if (!e) e = refs_judge(ctx, conn, j_body, judged, *s, &refs, resource_kind, v, detail, detail_len);
    db_kept_clear(&refs);
    return e;
}

/* Whether the body asks to force the conflict rules; the key is taken out (the store never sees it). */
static int take_force(json_t *j_body)
{
    int force = json_is_true(json_object_get(j_body, "force"));
    json_object_del(j_body, "force");
    return force;
}

/* Judges a booking under the conflict rules in its transaction: the slice (loaded by the caller, or here when
 * s is NULL), the proposal (j_doc, the booking as it would be stored; j_stored: the stored document of the booking
 * it changes, or NULL), the gate. 1 to go on (g filled); 0 after replying. */
static int booking_gate_or_reply(req_ctx *ctx, write_tx *tx, conflict_slice *s, json_t *j_doc, json_t *j_stored,
                                 int force, conflict_gate *g)
{
    const char *field;
    int at = conflict_slice_propose_booking(s, j_doc, j_stored, &field);
    if (at < 0) {
        tx_fail_reply(ctx, tx, APP_ERR_INTERNAL, field ? "the booking's references changed under it" : "out of memory",
                      NULL);
        return 0;
    }
    return conflict_gate_or_reply(ctx, tx, s, at, 1, force, g);
}

/* A new booking between its round trips: its request's state, held by its HTTP thread's batch (without an
 * Idempotency-Key: reply_after_writes) or by the handler, which then runs the round trips itself. */
typedef struct booking_new {
    json_t *j_body;
    char *text;
    int force, judged, batched;
    int phase; /* 0: nothing sent; 1: the references and the slice sent; 2: the write sent */
    conflict_slice *s;
    conflict_gate g;
    db_kept refs, row;
    char kind[16];
    write_tx tx;
} booking_new;

static void booking_new_free(void *state)
{
    booking_new *b = state;
    if (!b) return;
    conflict_gate_free(&b->g);
    conflict_slice_free(b->s);
    db_kept_clear(&b->refs);
    db_kept_clear(&b->row);
    free(b->text);
    json_decref(b->j_body);
    free(b);
}

/* The reply to a new booking's write: its round trip's outcome e and refusal *why, its row in b->row. */
static void create_reply(req_ctx *ctx, booking_new *b, app_err e, app_refusal *why)
{
    json_t *j_body = b->j_body;
    if (e == APP_ERR_BOOKING_CONFLICT) {
        reply_booking_conflict(ctx, &b->tx, why, json_string_value(json_object_get(j_body, "resource_id")),
                               json_string_value(json_object_get(j_body, "start")),
                               json_string_value(json_object_get(j_body, "end")), NULL, b->kind, NULL);
        return;
    }
    if (e) {
        tx_refused_reply(ctx, &b->tx, e, why, NULL);
        return;
    }
    db_doc doc = {0};
    char id[37], location[64];
    if ((e = db_doc_take(b->row.res, &doc, id)) || !conflict_gate_decorate(&b->g, &doc)) {
        tx_fail_reply(ctx, &b->tx, e ? e : APP_ERR_INTERNAL, e ? NULL : "out of memory", NULL);
    } else {
        snprintf(location, sizeof location, "/v1/bookings/%s", id);
        tx_commit_doc(ctx, &b->tx, 201, location, &doc);
    }
    db_doc_free(&doc);
}

/* A new booking's steps on conn (see reply_after_writes): the references with the slice are queued; then they
 * are judged, with the conflict rules' gate, and the request context with the insert queued: the write's
 * transaction (no BEGIN, no COMMIT; with an Idempotency-Key, BEGIN went before and COMMIT comes with the key's
 * record); then the reply. e and *why: the outcome of the round trip before. STEP_READS or STEP_WRITES when
 * statements are queued; STEP_REPLIED after replying. */
static int create_run(req_ctx *ctx, booking_new *b, db_conn *conn, app_err e, app_refusal *why)
{
    if (b->batched) b->tx = (write_tx){.conn = conn, .late = ctx, .borrowed = 1};
    if (b->phase == 2) {
        create_reply(ctx, b, e, why);
        return 0;
    }
    if (!e && b->phase == 0) e = refs_send(ctx, conn, b->j_body, b->judged, &b->s, &b->refs);
    if (e) {
        tx_fail_reply(ctx, &b->tx, e, NULL, NULL);
        return 0;
    }
    if (b->phase++ == 0) return STEP_READS;
    verrs v;
    verrs_init(&v);
    char detail[160];
    e = refs_judge(ctx, conn, b->j_body, b->judged, b->s, &b->refs, b->kind, &v, detail, sizeof detail);
    db_kept_clear(&b->refs);
    if (e == APP_ERR_VALIDATION) {
        tx_abort(ctx, &b->tx);
        reply_validation(ctx, &v);
    } else if (e) {
        tx_fail_reply(ctx, &b->tx, e, detail[0] ? detail : NULL, NULL);
    }
    verrs_free(&v);
    if (e) return 0;
    if (b->judged && !booking_gate_or_reply(ctx, &b->tx, b->s, b->j_body, NULL, b->force, &b->g)) return 0;
    tx_context carry;
    if ((e = tx_last_write_carrying(&b->tx, &carry)) ||
        (e = booking_store_insert_defer(conn, ctx->claims.org, ctx->claims.sub, b->text, &carry, &b->row))) {
        tx_fail_reply(ctx, &b->tx, e, NULL, NULL);
        return STEP_REPLIED;
    }
    return STEP_WRITES;
}

static int create_step(req_ctx *ctx, db_conn *conn, app_err e, app_refusal *why)
{
    return create_run(ctx, ctx->later.state, conn, e, why);
}

/* The conflict rules run in the booking's transaction: their slice is read in the round trip that checks the
 * references, blocking findings refuse the booking (409 conflict_blocked) unless forced, and the warnings come
 * back with the 201. The database's guard and exclusion constraint stay the final word on double booking and
 * capacity. Without an Idempotency-Key both round trips go with those of the other requests that the HTTP thread
 * found in the same turn, each its own transaction (reply_after_writes); with one, the handler runs them. */
void h_booking_create(req_ctx *ctx)
{
    booking_new *b = NULL;
    verrs v;
    verrs_init(&v);

    if (!require_write_role_or_reply(ctx) || !query_known_or_reply(ctx, (const char *[]){NULL})) goto out;
    if (!(b = calloc(1, sizeof *b))) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); goto out; }
    if (!(b->j_body = body_object_or_reply(ctx, 0))) goto out;
    if (booking_validate_create(b->j_body, &v)) { reply_validation(ctx, &v); goto out; }
    b->force = take_force(b->j_body);
    if (!(b->text = json_dumps(b->j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    b->judged = conflict_gate_on(ctx);
    if (ctx->may_wait && !u_map_get_case(ctx->req->map_header, "Idempotency-Key")) {
        b->batched = 1;
        reply_after_writes(ctx, create_step, b, booking_new_free);
        b = NULL;
        goto out;
    }
    if (!tx_begin_reads_or_reply(ctx, &b->tx, b->j_body)) goto out;
    app_err e = APP_OK;
    app_refusal why = {0};
    while (create_run(ctx, b, b->tx.conn, e, &why)) {
        app_refusal_clear(&why);
        e = db_send(b->tx.conn, &why);
    }
    app_refusal_clear(&why);
out:
    booking_new_free(b);
    verrs_free(&v);
}

void h_booking_get(req_ctx *ctx) { crud_get(ctx, &booking_crud); }

/* The columns of GET /v1/bookings.csv: every field, the cost estimate flattened. */
static const export_column booking_columns[] = {
    {"id", "id", 0}, {"campaign_id", "campaign_id", 0}, {"resource_id", "resource_id", 0},
    {"segment_id", "segment_id", 0}, {"start", "start", 0}, {"end", "end", 0}, {"quantity", "quantity", 0},
    {"status", "status", 0}, {"status_reason", "status_reason", 0}, {"notes", "notes", 0},
    {"cost_amount", "cost_estimate.amount", 0}, {"cost_currency", "cost_estimate.currency", 0},
    {"created_by", "created_by", 0}, {"version", "version", 0}, {"created_at", "created_at", 0},
    {"updated_at", "updated_at", 0}, {NULL, NULL, 0},
};

void h_booking_export(req_ctx *ctx) { export_csv(ctx, &booking_crud, booking_columns, "bookings.csv"); }

static json_t *import_row_body(json_t *j_row, verrs *v)
{
    static const char *const text[] = {"campaign_id", "resource_id", "segment_id", "start", "end", "quantity",
                                       "status", "notes", NULL};
    return import_body(j_row, text, NULL, v);
}

/* One booking of an import: the create's rules (validation, references, the caller's campaigns, the database's
 * booking rules: a conflict is this row's refusal, with its rule). */
static app_err import_row_create(req_ctx *ctx, db_conn *conn, json_t *j_body, char id_out[37], verrs *v,
                                 char *detail, size_t detail_len, const char **rule)
{
    char kind[16];
    if (booking_validate_create(j_body, v)) return APP_ERR_VALIDATION;
    /* The conflict rules, as on POST /v1/bookings (a row cannot force them): the slice is read with the
     * references, the row judged against it; warnings are announced. */
    conflict_slice *s = NULL;
    conflict_gate g = {0};
    int judged = conflict_gate_on(ctx);
    app_err e = refs_refused(ctx, conn, j_body, judged, &s, kind, v, detail, detail_len);
    if (!e && judged) {
        const char *field, *why_detail = NULL;
        json_t *j_findings = NULL;
        int at = conflict_slice_propose_booking(s, j_body, NULL, &field);
        e = at < 0 ? APP_ERR_INTERNAL : conflict_gate_judge(ctx, conn, s, at, 1, 0, &g, &why_detail, &j_findings);
        json_decref(j_findings);
        if (e && why_detail) snprintf(detail, detail_len, "%s", why_detail);
        if (!e) conflict_gate_free(&g);
    }
    conflict_slice_free(s);
    if (e) return e;
    char *text = json_dumps(j_body, JSON_COMPACT);
    if (!text) return APP_ERR_INTERNAL;
    db_doc doc = {0};
    app_refusal why = {0};
    e = booking_store_insert(conn, ctx->claims.org, ctx->claims.sub, text, &doc, id_out, &why);
    if (e == APP_ERR_BOOKING_CONFLICT) {
        json_t *j_items = why.items ? json_loads(why.items, 0, NULL) : NULL;
        *rule = booking_rule(why.rule, kind, j_items);
        json_decref(j_items);
    }
    import_refusal(e, &why, v, detail, detail_len);
    db_doc_free(&doc);
    free(text);
    return e;
}

static const import_desc booking_import = {
    .name = "booking",
    .patch_path = "/v1/bookings",
    .columns = booking_columns,
    .required = (const char *const[]){"campaign_id", "resource_id", "start", "end", NULL},
    .integer_columns = (const char *const[]){"quantity", NULL},
    .get = booking_store_get,
    .body = import_row_body,
    .create = import_row_create,
};

void h_booking_import(req_ctx *ctx)
{
    if (require_write_role_or_reply(ctx)) import_csv(ctx, &booking_import);
}

void h_booking_list(req_ctx *ctx) { crud_list(ctx, &booking_crud); }

static int is_cancelled(json_t *j_booking)
{
    const char *s = json_string_value(json_object_get(j_booking, "status"));
    return s && strcmp(s, "cancelled") == 0;
}

void h_booking_patch(req_ctx *ctx)
{
    char id[37], *text = NULL;
    json_t *j_body = NULL, *j_after = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    conflict_slice *s = NULL;
    conflict_gate g = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_write_role_or_reply(ctx) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 1))) goto out;
    if (booking_validate_patch(j_body, NULL, &v)) { reply_validation(ctx, &v); goto out; }
    int force = take_force(j_body);
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!crud_open_or_reply(ctx, &booking_crud, &tx, j_body, id, &lk)) goto out;
    json_t *j_current = lk.j_current;
    if (booking_validate_patch(j_body, j_current, &v)) {
        tx_abort(ctx, &tx);
        reply_validation(ctx, &v);
        goto out;
    }
    if (is_cancelled(j_current)) {
        tx_fail_reply(ctx, &tx, APP_ERR_INVALID_STATE, "the booking is cancelled; make a new booking instead", NULL);
        goto out;
    }
    /* the booking as it would be (a cancellation is judged by nobody: it only frees) */
    if (!(j_after = json_deep_copy(j_current)) || json_object_update(j_after, j_body) != 0) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL);
        goto out;
    }
    if (!is_cancelled(j_after) && conflict_gate_on(ctx)) {
        conflict_ask ask = conflict_ask_booking(j_after);
        app_err e = conflict_store_load(tx.conn, ctx->claims.org, &ask, &s);
        if (e) { tx_fail_reply(ctx, &tx, e == APP_ERR_NOT_FOUND ? APP_ERR_INTERNAL : e, NULL, NULL); goto out; }
        if (!booking_gate_or_reply(ctx, &tx, s, j_after, j_current, force, &g)) goto out;
    }
    app_refusal why = {0};
    app_err e = booking_store_update(tx.conn, ctx->claims.org, id, text, &doc, &why);
    if (e == APP_ERR_BOOKING_CONFLICT) {
        json_t *j_s = json_object_get(j_body, "start"), *j_e = json_object_get(j_body, "end");
        reply_booking_conflict(ctx, &tx, &why, json_string_value(json_object_get(j_current, "resource_id")),
                               json_string_value(j_s ? j_s : json_object_get(j_current, "start")),
                               json_string_value(j_e ? j_e : json_object_get(j_current, "end")), id, lk.doc.kind,
                               NULL);
        goto out;
    }
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    if (!conflict_gate_decorate(&g, &doc)) { tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, "out of memory", NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    conflict_gate_free(&g);
    conflict_slice_free(s);
    db_doc_free(&doc);
    free(text);
    json_decref(j_after);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}

static const field_spec cancel_fields[] = {
    {"reason", FK_LONG_TEXT, FS_NULLABLE, 0, 1000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* Cancelling frees the period at once; cancelling again is a no-op answered 200. */
void h_booking_cancel(req_ctx *ctx)
{
    char id[37];
    json_t *j_body = NULL;
    crud_lock lk = {0};
    db_doc doc = {0};
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_write_role_or_reply(ctx) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, ID_SEGMENT, id))
        goto out;
    if (ctx->req->binary_body_length > 0) {
        if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
        if (validate_object(j_body, cancel_fields, VALIDATE_CREATE, "", &v)) { reply_validation(ctx, &v); goto out; }
    }
    if (!crud_open_or_reply(ctx, &booking_crud, &tx, j_body, id, &lk)) goto out;
    app_err e = APP_OK;
    app_refusal why = {0};
    if (is_cancelled(lk.j_current)) doc = lk.doc, lk.doc = (db_doc){0}; /* already cancelled: answer it as stored */
    else e = booking_store_cancel(tx.conn, ctx->claims.org, id, json_string_value(json_object_get(j_body, "reason")),
                                  &doc, &why);
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    tx_commit_doc(ctx, &tx, 200, NULL, &doc);
out:
    db_doc_free(&doc);
    json_decref(j_body);
    crud_lock_free(&lk);
    verrs_free(&v);
}
