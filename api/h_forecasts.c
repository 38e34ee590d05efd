/* h_forecasts.c — POST /v1/forecasts, POST /v1/forecasts/backtest, POST /v1/budget/allocate.
 * Not descriptors: nothing is stored but the fits a forecast or an allocation keeps (forecast_fits, 0021) and
 * the summary of the history they were made from (forecast_histories, 0024). Each parses and validates the body,
 * reads the fits kept at the organisation's history version (or, when there are none, the completed history)
 * on one pooled connection (released before the engine runs), runs the engine (service/planning.c over
 * service/engine/forecast.h), keeps the fits it made and renders its answer. They change no data, so a retry is
 * simply answered again: no transaction, and an Idempotency-Key is not needed. */
#include <stdlib.h>
#include <string.h>

#include "campaign_store.h"
#include "log.h"
#include "handlers.h"
#include "planning.h"
#include "planning_store.h"
#include "respond.h"

static const char *const no_params[] = {NULL};

/* Reads the history in currency (without campaign exclude_id, may be NULL) into h, with the channels j_channels
 * names, and its version (planning_store_history); replies and returns 0 on failure. */
static int history_or_reply(req_ctx *ctx, db_conn *conn, const char *currency, const char *exclude_id,
                            json_t *j_channels, planning_history *h, char version[PLANNING_VERSION_LEN])
{
    char *json = NULL;
    app_err e = planning_store_history(conn, ctx->claims.org, currency, exclude_id, &json, version);
    if (e) {
        reply_problem(ctx, e, NULL);
        return 0;
    }
    int rc = planning_history_load(json, j_channels, h);
    free(json);
    if (rc) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        return 0;
    }
    return 1;
}

/* The fits kept under scope and inputs into f (one not readable is logged and left to be fitted again). */
static app_err kept_fits(req_ctx *ctx, db_conn *conn, const planning_history *h, const char *scope,
                         const char *inputs, planning_fits *f)
{
    planning_fit_bytes kept[FC_KPIS] = {{0}};
    app_err e = planning_store_fits(conn, ctx->claims.org, scope, inputs, fc_kpi_names, FC_KPIS, kept);
    for (int q = 0; !e && q < FC_KPIS; q++)
        if ((kept[q].bytes && !planning_fits_decode(f, h, q, kept[q].bytes, kept[q].len)) ||
            (kept[q].refusal[0] && !planning_fits_refused(f, q, kept[q].refusal)))
            log_warning("forecast fit of %s not readable: fitted again", fc_kpi_names[q]);
    planning_fit_bytes_free(kept, FC_KPIS);
    return e;
}

/* The fits kept at the organisation's history version (0024), when a summary of the history in currency
 * without exclude_id is kept at it and every KPI of mask has a fit (or a refusal) kept: h from the summary (no
 * campaigns), f those fits; false otherwise (h and f empty), or with *e set on a database error. */
static bool kept_or_not(req_ctx *ctx, db_conn *conn, const char *currency, const char *exclude_id,
                        json_t *j_channels, unsigned mask, planning_history *h, planning_fits *f, app_err *e)
{
    char version[PLANNING_VERSION_LEN], scope[65], inputs[65], *summary = NULL;
    if ((*e = planning_store_kept_history(conn, ctx->claims.org, currency, exclude_id, &summary, version)) ||
        !summary)
        return false;
    bool ok = !planning_history_from_summary(summary, j_channels, h) &&
              !planning_fit_keys(h, version, currency, exclude_id, scope, inputs) &&
              !(*e = kept_fits(ctx, conn, h, scope, inputs, f)) && planning_fits_known(f, mask);
    free(summary);
    if (!ok) {
        planning_fits_free(f);
        planning_history_free(h);
    }
    return ok;
}

/* Keeps what a request fitted (models and refusals) under scope and inputs, on *conn (acquired if NULL), in one
 * statement: a fit not kept costs the next request a fit, never a wrong answer, so a failure to keep one is only
 * logged. */
static void keep_fits(req_ctx *ctx, db_conn **conn, const char *scope, const char *inputs, const planning_fits *f)
{
    planning_fit_bytes keep[FC_KPIS] = {{0}};
    const char *kpis[FC_KPIS];
    size_t n = 0;
    for (int q = 0; q < FC_KPIS; q++) {
        planning_fit_bytes *b = &keep[n];
        const char *refusal = f->model[q] ? NULL : planning_fit_refusal(f->status[q]);
        if (!f->fitted[q] || (!f->model[q] && !refusal))
            continue;
        if (f->model[q] && fc_model_encode(f->model[q], &b->bytes, &b->len)) {
            log_warning("forecast fit of %s not kept (out of memory): fitted again next time", fc_kpi_names[q]);
            planning_fit_bytes_free(b, 1);
            continue;
        }
        if (refusal)
            snprintf(b->refusal, sizeof b->refusal, "%s", refusal);
        kpis[n++] = fc_kpi_names[q];
    }
    app_err e = APP_OK;
    if (n && !*conn)
        e = db_acquire(ctx->app->pool, conn);
    if (n && !e)
        e = planning_store_keep_fits(*conn, ctx->claims.org, scope, inputs, kpis, keep, n);
    if (e)
        log_warning("forecast fits not kept (%d): fitted again next time", (int)e);
    planning_fit_bytes_free(keep, n);
}

/* The history and the fits of the KPIs in mask (bits 1 << kpi) for a plan in currency naming the channels
 * j_channels, without campaign exclude_id (may be NULL), read on *conn, which is released before anything is
 * fitted. While the organisation's history version is the one its kept summary and fits were made at, they
 * answer and the history is not read (h then has no campaigns). Otherwise the history is read with its version
 * in one statement, its summary kept, the fits kept under that version read, the others fitted and kept.
 * Replies and returns 0 on failure. */
static int fits_or_reply(req_ctx *ctx, db_conn **conn, const char *currency, const char *exclude_id,
                         json_t *j_channels, unsigned mask, planning_history *h, planning_fits *f)
{
    char version[PLANNING_VERSION_LEN], scope[65], inputs[65];
    app_err e = APP_OK;
    if (kept_or_not(ctx, *conn, currency, exclude_id, j_channels, mask, h, f, &e)) {
        db_release(ctx->app->pool, *conn);
        *conn = NULL;
        return 1;
    }
    if (e) {
        reply_problem(ctx, e, NULL);
        return 0;
    }
    if (!history_or_reply(ctx, *conn, currency, exclude_id, j_channels, h, version))
        return 0;
    if (planning_fit_keys(h, version, currency, exclude_id, scope, inputs)) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        return 0;
    }
    /* a history of no campaign is read at once, and its organisation may have no row to keep it under */
    bool keep = h->history.n_campaigns > 0;
    char *summary = keep ? planning_history_summary(h) : NULL;
    if (summary && (e = planning_store_keep_history(*conn, ctx->claims.org, currency, exclude_id, version, summary)))
        log_warning("forecast history summary not kept (%d): read again next time", (int)e);
    free(summary);
    if ((e = kept_fits(ctx, *conn, h, scope, inputs, f))) {
        reply_problem(ctx, e, NULL);
        return 0;
    }
    db_release(ctx->app->pool, *conn);
    *conn = NULL;
    planning_fits_complete(h, mask, f);
    if (keep)
        keep_fits(ctx, conn, scope, inputs, f);
    return 1;
}

/* The people the segments j_ids (an array of uuids, may be NULL) reach into *audience (0: none named, or a size
 * unknown); replies and returns 0 on failure (422 when a segment does not exist). */
static int audience_or_reply(req_ctx *ctx, db_conn *conn, json_t *j_ids, double *audience)
{
    *audience = 0;
    if (json_array_size(j_ids) == 0)
        return 1;
    char *ids = json_dumps(j_ids, JSON_COMPACT), *json = NULL;
    app_err e = ids ? planning_store_audience(conn, ctx->claims.org, ids, &json) : APP_ERR_INTERNAL;
    free(ids);
    if (e) {
        reply_problem(ctx, e, NULL);
        return 0;
    }
    json_t *j = json_loads(json, 0, NULL);
    free(json);
    int ok = j != NULL;
    if (!j) {
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
    } else if (json_integer_value(json_object_get(j, "unknown")) > 0) {
        verrs v;
        verrs_init(&v);
        verrs_add(&v, "segment_ids", "names a segment that does not exist");
        reply_validation(ctx, &v);
        verrs_free(&v);
        ok = 0;
    } else {
        json_t *j_a = json_object_get(j, "audience");
        *audience = json_is_integer(j_a) ? (double)json_integer_value(j_a) : 0;
    }
    json_decref(j);
    return ok;
}

static void reply_engine(req_ctx *ctx, fc_status st, json_t *j_extra)
{
    const char *detail = NULL;
    app_err e = st == FC_OK ? APP_ERR_INTERNAL : planning_refusal(st, &detail);
    reply_problem_extra(ctx, e, st == FC_OK ? "out of memory" : detail, j_extra);
}

/* An existing campaign as a plan: its currency, dates, channel budgets and segments, into j_plan (a new object).
 * Replies and returns NULL when it cannot be one. */
static json_t *campaign_plan_or_reply(req_ctx *ctx, db_conn *conn, const char *id)
{
    db_doc doc = {0};
    app_err e = campaign_store_get(conn, ctx->claims.org, id, &doc);
    if (e) {
        reply_problem(ctx, e, e == APP_ERR_NOT_FOUND ? "no campaign with this id" : NULL);
        return NULL;
    }
    json_t *j_c = json_loads(doc.json, 0, NULL), *j_plan = NULL;
    db_doc_free(&doc);
    const char *currency = json_string_value(json_object_get(json_object_get(j_c, "budget"), "currency"));
    json_t *j_budgets = json_object_get(j_c, "channel_budgets");
    if (!j_c) {
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
    } else if (!currency || json_array_size(j_budgets) == 0) {
        verrs v;
        verrs_init(&v);
        verrs_add(&v, "campaign_id", "the campaign has no channel budgets to forecast: set channel_budgets first");
        reply_validation(ctx, &v);
        verrs_free(&v);
    } else {
        j_plan = json_pack("{s:s, s:O, s:O, s:O, s:O*}", "currency", currency, "start_date",
                           json_object_get(j_c, "start_date"), "end_date", json_object_get(j_c, "end_date"),
                           "channels", j_budgets, "segment_ids", json_object_get(j_c, "segment_ids"));
        if (!j_plan)
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
    }
    json_decref(j_c);
    return j_plan;
}

void h_forecast_create(req_ctx *ctx)
{
    json_t *j_body = NULL, *j_plan = NULL, *j_out = NULL;
    db_conn *conn = NULL;
    planning_history h = {0};
    planning_fits fits = {0};
    long long *cents = NULL;
    verrs v;
    verrs_init(&v);

    if (!require_perm_or_reply(ctx, PERM_FORECAST) || !query_known_or_reply(ctx, no_params)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (planning_validate_forecast(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (e) { reply_problem(ctx, e, "the database is not reachable; retry shortly"); goto out; }
    const char *id = json_string_value(json_object_get(j_body, "campaign_id"));
    if (id && !(j_plan = campaign_plan_or_reply(ctx, conn, id))) goto out;
    json_t *j_p = j_plan ? j_plan : j_body;
    double audience;
    if (!audience_or_reply(ctx, conn, json_object_get(j_p, "segment_ids"), &audience)) goto out;
    if (!fits_or_reply(ctx, &conn, json_string_value(json_object_get(j_p, "currency")), id,
                       json_object_get(j_p, "channels"), (1u << FC_KPIS) - 1, &h, &fits))
        goto out;
    if (conn) { db_release(ctx->app->pool, conn); conn = NULL; }

    if (!(cents = malloc((h.n_channels ? h.n_channels : 1) * sizeof *cents))) {
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < h.n_channels; c++) cents[c] = -1; /* not in the plan */
    size_t i;
    json_t *j_ch;
    json_array_foreach(json_object_get(j_p, "channels"), i, j_ch) {
        long c = planning_channel(&h, json_string_value(json_object_get(j_ch, "channel")));
        if (c >= 0) cents[c] = planning_cents(json_string_value(json_object_get(j_ch, "amount")));
    }
    fc_status st;
    j_out = planning_forecast(&h, &fits, cents, json_string_value(json_object_get(j_p, "start_date")),
                              json_string_value(json_object_get(j_p, "end_date")),
                              json_string_value(json_object_get(j_p, "currency")), audience, &st);
    if (!j_out) { reply_engine(ctx, st, NULL); goto out; }
    reply_json(ctx, 200, j_out);
out:
    if (conn) db_release(ctx->app->pool, conn);
    planning_fits_free(&fits);
    planning_history_free(&h);
    free(cents);
    json_decref(j_out);
    json_decref(j_plan);
    json_decref(j_body);
    verrs_free(&v);
}

/* The two that take their body as it comes: validate, read the history, run. */
static void planning_route(req_ctx *ctx, size_t (*validate)(json_t *, verrs *), bool allocate)
{
    json_t *j_body = NULL, *j_out = NULL, *j_extra = NULL;
    db_conn *conn = NULL;
    planning_history h = {0};
    planning_fits fits = {0};
    verrs v;
    verrs_init(&v);

    if (!require_perm_or_reply(ctx, PERM_FORECAST) || !query_known_or_reply(ctx, no_params)) goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (validate(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (e) { reply_problem(ctx, e, "the database is not reachable; retry shortly"); goto out; }
    double audience;
    if (!audience_or_reply(ctx, conn, json_object_get(j_body, "segment_ids"), &audience)) goto out;
    /* an allocation fits one KPI (kept fits serve it); a backtest fits every fold afresh */
    const char *currency = json_string_value(json_object_get(j_body, "currency"));
    const char *kpi = json_string_value(json_object_get(j_body, "kpi"));
    unsigned mask = 0;
    for (int q = 0; allocate && kpi && q < FC_KPIS; q++) mask |= strcmp(kpi, fc_kpi_names[q]) ? 0 : 1u << q;
    char version[PLANNING_VERSION_LEN];
    if (mask ? !fits_or_reply(ctx, &conn, currency, NULL, json_object_get(j_body, "channels"), mask, &h, &fits)
             : !history_or_reply(ctx, conn, currency, NULL, NULL, &h, version))
        goto out;
    if (conn) { db_release(ctx->app->pool, conn); conn = NULL; }
    fc_status st;
    j_out = allocate ? planning_allocate(&h, &fits, j_body, audience, &st, &j_extra)
                     : planning_backtest(&h, j_body, &st);
    if (!j_out) { reply_engine(ctx, st, j_extra); j_extra = NULL; goto out; }
    reply_json(ctx, 200, j_out);
out:
    if (conn) db_release(ctx->app->pool, conn);
    planning_fits_free(&fits);
    planning_history_free(&h);
    json_decref(j_out);
    json_decref(j_extra);
    json_decref(j_body);
    verrs_free(&v);
}

void h_forecast_backtest(req_ctx *ctx) { planning_route(ctx, planning_validate_backtest, false); }

void h_budget_allocate(req_ctx *ctx) { planning_route(ctx, planning_validate_allocate, true); }
