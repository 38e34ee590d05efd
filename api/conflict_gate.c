/* conflict_gate.c — see conflict_gate.h. */
#include "conflict_gate.h"

#include <stdlib.h>
#include <string.h>

#include "respond.h"

static const db_stmt q_note = {"conflict_note", "SELECT conflict_note($1, $2)", 2};

int conflict_gate_on(const req_ctx *ctx) { return ctx->app->cfg->conflict_writes; }

/* Whether the database refuses what f finds by itself (bookings_guard and the exclusion constraint: double
 * bookings, capacity, a resource's own unavailability): the write goes on and the refusal is its
 * booking_conflict, naming what is in the way, as it always was. */
static int db_refuses(const cf_finding *f)
{
    if (f->type == CF_RESOURCE_DOUBLE_BOOKED || f->type == CF_CAPACITY_EXCEEDED || f->type == CF_PERSON_UNAVAILABLE)
        return 1;
    for (int i = 0; f->type == CF_BLACKOUT && i < f->nrefs; i++)
        if (f->refs[i].kind == CF_REF_UNAVAILABILITY) return 1;
    return 0;
}

/* Whether r holds a block the gate refuses itself (one the database does not refuse). */
static int refuses(const cf_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].severity == CF_BLOCK && !db_refuses(&r->items[i])) return 1;
    return 0;
}

/* The findings of r of severity sev as a JSON array (a new reference; NULL out of memory). */
static json_t *findings(const cf_portfolio *p, const cf_result *r, int sev)
{
    json_t *j = json_array();
    for (size_t i = 0; j && i < r->n; i++)
        if ((sev < 0 || (int)r->items[i].severity == sev) && json_array_append_new(j, cf_finding_json(p, &r->items[i])) != 0) {
            json_decref(j);
            return NULL;
        }
    return j;
}

/* The warnings of r the change finds anew (not known in the question as it was before it, cf_finding_known), as
 * the items of j_warnings (r's warnings rendered, in order) that are; a new reference, NULL out of memory. */
static json_t *new_warnings(conflict_slice *s, const cf_settings *st, const cf_result *r, json_t *j_warnings)
{
    cf_portfolio before;
    cf_scope q;
    cf_result b = {0};
    int has = conflict_slice_before(s, &before, &q);
    if (has < 0 || (has && cf_run(&before, st, &q, &b) != 0)) return NULL;
    json_t *j = json_array();
    for (size_t i = 0, w = 0; j && i < r->n; i++) {
        if (r->items[i].severity != CF_WARN) continue;
        if ((!has || !cf_finding_known(&b, &r->items[i])) && json_array_append(j, json_array_get(j_warnings, w)) != 0) {
            json_decref(j);
            j = NULL;
        }
        w++;
    }
    cf_result_free(&b);
    return j;
}

app_err conflict_gate_judge(req_ctx *ctx, db_conn *conn, conflict_slice *s, int focus, int focus_booking, int force,
                            conflict_gate *g, const char **detail, json_t **j_extra)
{
    memset(g, 0, sizeof *g);
    *detail = NULL;
    *j_extra = NULL;
    const cf_settings *st = conflict_slice_settings(s);
    cf_scope q = conflict_slice_scope(s);
    q.focus_booking = focus_booking ? focus : -1;
    q.focus_campaign = focus_booking ? -1 : focus;
    json_t *j_blocks = NULL, *j_new = NULL;
    char *warn_text = NULL, *block_text = NULL;
    app_err e = APP_OK;
    if (conflict_slice_incomplete(s)) { /* read short for a resource that has changed since: read it in full */
        if ((e = conflict_slice_load_around(conn, s, &focus))) goto refused;
        st = conflict_slice_settings(s);
        q = conflict_slice_scope(s);
        q.focus_booking = focus;
    }
    if (cf_run(conflict_slice_portfolio(s), st, &q, &g->r) != 0) goto oom;
    /* a refusal of a booking names its nearest free periods, which need the bookings around it */
    if (refuses(&g->r) && conflict_slice_wants_around(s, &g->r)) {
        cf_result_free(&g->r);
        if ((e = conflict_slice_load_around(conn, s, &focus))) goto refused;
        st = conflict_slice_settings(s);
        q = conflict_slice_scope(s);
        q.focus_booking = focus;
        if (cf_run(conflict_slice_portfolio(s), st, &q, &g->r) != 0) goto oom;
    }
    const cf_portfolio *p = conflict_slice_portfolio(s);
    if (!(g->j_warnings = findings(p, &g->r, CF_WARN))) goto oom;
    size_t blocks = 0;
    int forceable = 1;
    for (size_t i = 0; i < g->r.n; i++) {
        const cf_finding *f = &g->r.items[i];
        if (f->severity != CF_BLOCK || db_refuses(f)) continue;
        blocks++;
        if (!(st->forceable & (1u << f->type))) forceable = 0;
    }
    if (blocks) {
        if (force && !auth_role_can(ctx->claims.role, PERM_CONFLICT_FORCE)) {
            *detail = "only a manager or an admin may force the conflict rules";
            e = APP_ERR_FORBIDDEN;
            goto refused;
        }
        if (!force || !forceable) {
            json_t *j_all = findings(p, &g->r, -1);
            if (!j_all || !(*j_extra = json_pack("{s:o, s:b}", "findings", j_all, "forceable", forceable))) goto oom;
            *detail = !forceable ? "the conflict rules refuse this change, and no role may force it"
                                 : "the conflict rules refuse this change; a manager or an admin may send "
                                   "\"force\": true to override it";
            e = APP_ERR_CONFLICT_BLOCKED;
            goto refused;
        }
        if (!(j_blocks = findings(p, &g->r, CF_BLOCK)) || !(block_text = json_dumps(j_blocks, JSON_COMPACT))) goto oom;
    }
    /* the event announces the warnings the change finds anew: one already there before it is not news */
    if (json_array_size(g->j_warnings) && (!(j_new = new_warnings(s, st, &g->r, g->j_warnings)) ||
                                           (json_array_size(j_new) && !(warn_text = json_dumps(j_new, JSON_COMPACT)))))
        goto oom;
    if (warn_text || block_text) {
        const char *params[] = {warn_text, block_text};
        if ((e = db_defer(conn, &q_note, params, NULL))) goto refused;
    }
    json_decref(j_blocks);
    json_decref(j_new);
    free(warn_text);
    free(block_text);
    return APP_OK;
oom:
    e = APP_ERR_INTERNAL;
    *detail = "out of memory";
refused:
    json_decref(j_blocks);
    json_decref(j_new);
    free(warn_text);
    free(block_text);
    conflict_gate_free(g);
    return e;
}

int conflict_gate_or_reply(req_ctx *ctx, write_tx *tx, conflict_slice *s, int focus, int focus_booking, int force,
                           conflict_gate *g)
{
    const char *detail;
    json_t *j_extra;
    app_err e = conflict_gate_judge(ctx, tx->conn, s, focus, focus_booking, force, g, &detail, &j_extra);
    if (e) tx_fail_reply(ctx, tx, e, detail, j_extra);
    return e == APP_OK;
}

int conflict_gate_decorate(const conflict_gate *g, db_doc *doc)
{
    if (!json_array_size(g->j_warnings)) return 1; /* the document as every read shows it */
    json_t *j = doc->json ? json_loads(doc->json, 0, NULL) : NULL;
    char *text = NULL;
    if (j && json_object_set(j, "warnings", g->j_warnings ? g->j_warnings : json_array()) == 0)
        text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return 0;
    free(doc->json);
    doc->json = text;
    return 1;
}

void conflict_gate_free(conflict_gate *g)
{
    cf_result_free(&g->r);
    json_decref(g->j_warnings);
    g->j_warnings = NULL;
}
