/* forecast_backtest.c — the model and the naive baseline scored on campaigns they did not see.
 *
 * A fold holds one campaign out, fits both on the training campaigns (the model: fc_fit with FC_METHOD_HILL; the
 * baseline: FC_METHOD_RATIO, historical cost per result × planned spend), forecasts the held-out campaign's plan
 * (its spend and days) and compares with what it achieved: in total wherever its total is known (or measured per
 * channel on every channel it used), and per channel wherever measured per channel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_internal.h"

typedef struct {
    size_t n, n_mape, covered;
    double ape, abs_err, actual;
} acc;

static void acc_add(acc *a, double actual, const fc_interval *iv)
{
    double err = fabs(iv->p50 - actual);
    a->n++;
    a->abs_err += err;
    a->actual += actual;
    if (actual > 0) {
        a->n_mape++;
        a->ape += err / actual;
    }
    if (iv->p10 <= actual && actual <= iv->p90)
        a->covered++;
}

static fc_accuracy acc_done(const acc *a)
{
    return (fc_accuracy){
        .n = a->n,
        .n_mape = a->n_mape,
        .mape = a->n_mape ? a->ape / (double)a->n_mape : 0,
        .wmape = a->actual > 0 ? a->abs_err / a->actual : 0,
        .coverage = a->n ? (double)a->covered / (double)a->n : 0,
    };
}

/* The campaign's actual total of KPI k, if known. */
static bool actual_total(const fc_campaign *cp, size_t n_ch, fc_kpi k, double *out)
{
    if (cp->has_total[k]) {
        *out = cp->total[k];
        return true;
    }
    if (!cp->by_channel[k])
        return false;
    double s = 0;
    bool any = false;
    for (size_t c = 0; c < n_ch; c++) {
        if (cp->spend[c] > 0 && cp->by_channel[k][c] < 0)
            return false;
        if (cp->by_channel[k][c] >= 0) {
            s += cp->by_channel[k][c];
            any = true;
        }
    }
    *out = s;
    return any;
}

typedef struct {
    const fc_history *h;
    fc_campaign *train;      /* scratch: the fold's training campaigns */
    fc_channel_forecast *cf; /* scratch: n_channels */
    acc total[FC_KPIS][2];
    acc *chan[FC_KPIS][2];   /* n_channels each */
    bool measured[FC_KPIS];
    size_t folds;
} bt_ctx;

/* Fits both methods on `train` and scores their forecasts of campaign `held`, for every KPI. A KPI whose training
 * history is too small is skipped; any other failure is returned. */
static fc_status bt_fold(bt_ctx *b, size_t n_train, const fc_campaign *held)
{
    size_t n_ch = b->h->n_channels;
    fc_history sub = {n_ch, n_train, b->train};
    bool scored = false;
    for (int k = 0; k < FC_KPIS; k++) {
        double actual;
        bool has_actual = actual_total(held, n_ch, k, &actual);
        bool has_channel = held->by_channel[k] != NULL;
        if (!has_actual && !has_channel)
            continue;
        for (int method = 0; method < 2; method++) {
            fc_model *m = NULL;
            fc_status st = fc_fit(&sub, k, method ? FC_METHOD_RATIO : FC_METHOD_HILL, &m);
            if (st == FC_ERR_NO_HISTORY || st == FC_ERR_TOO_LITTLE_HISTORY)
                break; /* both or neither: the same rows */
            if (st != FC_OK)
                return st;
            fc_forecast f = {.channels = b->cf};
            st = fc_forecast_plan_reaching(m, held->spend, held->days, held->audience, &f);
            fc_model_free(m);
            if (st != FC_OK)
                return st;
            scored = true;
            if (has_actual)
                acc_add(&b->total[k][method], actual, &f.total);
            if (has_channel)
                for (size_t c = 0; c < n_ch; c++)
                    if (held->spend[c] > 0 && held->by_channel[k][c] >= 0) {
                        acc_add(&b->chan[k][method][c], held->by_channel[k][c], &f.channels[c].outcome);
                        b->measured[k] = true;
                    }
        }
    }
    b->folds += scored;
    return FC_OK;
}

typedef struct {
    double start;
    size_t i;
} bt_key;

static int by_start(const void *a, const void *b)
{
    const bt_key *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void fc_backtest_free(fc_backtest *b)
{
    if (!b)
        return;
    for (int k = 0; k < FC_KPIS; k++) {
        free(b->by_channel[k]);
        b->by_channel[k] = NULL;
    }
}

fc_status fc_backtest_run(const fc_history *h, fc_backtest_mode mode, size_t min_train, fc_backtest *out)
{
    if (!h || !out || (mode != FC_BACKTEST_ROLLING_ORIGIN && mode != FC_BACKTEST_LEAVE_ONE_OUT) ||
        (h->n_campaigns && !h->campaigns))
        return FC_ERR_INVALID;
    size_t n = h->n_campaigns, n_ch = h->n_channels;
    bt_ctx b = {.h = h};
    fc_status st = FC_ERR_NOMEM;
    bt_key *order = malloc((n ? n : 1) * sizeof *order);
    b.train = malloc((n ? n : 1) * sizeof *b.train);
    b.cf = calloc(n_ch ? n_ch : 1, sizeof *b.cf);
    if (!order || !b.train || !b.cf)
        goto out;
    for (int k = 0; k < FC_KPIS; k++)
        for (int m = 0; m < 2; m++)
            if (!(b.chan[k][m] = calloc(n_ch ? n_ch : 1, sizeof(acc))))
                goto out;
    for (size_t i = 0; i < n; i++)
        order[i] = (bt_key){h->campaigns[i].start, i};
    qsort(order, n, sizeof *order, by_start);
    for (size_t t = 0; t < n; t++) {
        const fc_campaign *held = &h->campaigns[order[t].i];
        size_t n_train = 0;
        if (mode == FC_BACKTEST_ROLLING_ORIGIN) {
            if (t < min_train)
                continue;
            for (size_t i = 0; i < t; i++) {
                const fc_campaign *cp = &h->campaigns[order[i].i];
                if (cp->start + cp->days <= held->start)
                    b.train[n_train++] = *cp;
            }
        } else {
            for (size_t i = 0; i < n; i++)
                if (i != t)
                    b.train[n_train++] = h->campaigns[order[i].i];
        }
        if ((st = bt_fold(&b, n_train, held)) != FC_OK)
            goto out;
    }
    memset(out, 0, sizeof *out);
    out->folds = b.folds;
    for (int k = 0; k < FC_KPIS; k++) {
        out->has_total[k] = b.total[k][0].n > 0;
        out->total[k] = (fc_score){acc_done(&b.total[k][0]), acc_done(&b.total[k][1])};
        if (!b.measured[k])
            continue;
        if (!(out->by_channel[k] = calloc(n_ch, sizeof *out->by_channel[k]))) {
            fc_backtest_free(out);
            st = FC_ERR_NOMEM;
            goto out;
        }
        for (size_t c = 0; c < n_ch; c++)
            out->by_channel[k][c] = (fc_score){acc_done(&b.chan[k][0][c]), acc_done(&b.chan[k][1][c])};
    }
    st = FC_OK;
out:
    for (int k = 0; k < FC_KPIS; k++)
        for (int m = 0; m < 2; m++)
            free(b.chan[k][m]);
    free(order);
    free(b.train);
    free(b.cf);
    return st;
}
