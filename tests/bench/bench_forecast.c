/* bench_forecast.c — the forecasting engine's speed on a simulated organisation of 1,000 completed campaigns
 * (tests/unit/forecast_sim.h: 5 channels; leads and conversions per channel, revenue in total only). Prints
 * figures, never pass/fail: tests/bench/forecast.sh builds it in Release and runs it.
 *   forecast   what POST /v1/forecasts costs without a cache: fit leads, conversions and revenue, forecast a plan
 *   kept fits  the same from fits kept (fc_model_encode's bytes): decode the three models, forecast a plan
 *   allocate   fit the KPI, split a budget across the channels
 *   backtest   leave one campaign out over 200 campaigns: 200 folds × 3 KPIs × (model + baseline) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/forecast.h"
#include "forecast_sim.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("%-10s n=%d  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, n, ms[n / 2], ms[(n * 99) / 100],
           ms[n - 1]);
}

static int die(const char *what, fc_status st)
{
    fprintf(stderr, "bench_forecast: %s failed (%d)\n", what, (int)st);
    return 1;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 100;
    if (runs < 1 || runs > 100000)
        runs = 100;
    enum { CH = 5 };
    static sim_org o;
    sim_make(&o, 42, 1000, CH, true);
    sim_add_sales(&o);
    double *ms = malloc((size_t)runs * sizeof *ms);
    if (!ms)
        return 1;
    double plan[CH] = {3000, 9000, 5000, 2500, 7000};
    fc_channel_forecast ch[CH];
    fc_status st;

    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        for (int k = 0; k < FC_KPIS; k++) {
            fc_model *m = NULL;
            fc_forecast f = {.channels = ch};
            if ((st = fc_fit(&o.history, k, FC_METHOD_HILL, &m)) != FC_OK ||
                (st = fc_forecast_plan(m, plan, 28, &f)) != FC_OK)
                return die("forecast", st);
            fc_model_free(m);
        }
        ms[r] = now_ms() - t0;
    }
    printf("history: %zu campaigns, %d channels\n", o.n, CH);
    report("forecast", ms, runs);

    /* what it costs from fits kept in the database (their bytes read back, not the round trip) */
    unsigned char *kept[FC_KPIS];
    size_t kept_len[FC_KPIS];
    for (int k = 0; k < FC_KPIS; k++) {
        fc_model *m = NULL;
        if ((st = fc_fit(&o.history, k, FC_METHOD_HILL, &m)) != FC_OK)
            return die("fit", st);
        if (fc_model_encode(m, &kept[k], &kept_len[k]))
            return die("encode", FC_ERR_NOMEM);
        fc_model_free(m);
    }
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        for (int k = 0; k < FC_KPIS; k++) {
            fc_model *m = NULL;
            fc_forecast f = {.channels = ch};
            if ((st = fc_model_decode(kept[k], kept_len[k], &m)) != FC_OK ||
                (st = fc_forecast_plan(m, plan, 28, &f)) != FC_OK)
                return die("kept forecast", st);
            fc_model_free(m);
        }
        ms[r] = now_ms() - t0;
    }
    report("kept fits", ms, runs);
    printf("           (%zu + %zu + %zu bytes kept)\n", kept_len[0], kept_len[1], kept_len[2]);
    for (int k = 0; k < FC_KPIS; k++)
        free(kept[k]);

    double split[CH], marginal[CH];
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        fc_model *m = NULL;
        fc_alloc_request req = {.budget = 30000, .days = 28, .current = plan};
        fc_alloc_result res = {.split = split, .marginal = marginal, .expected.channels = ch};
        if ((st = fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m)) != FC_OK ||
            (st = fc_allocate(m, &req, &res)) != FC_OK)
            return die("allocate", st);
        fc_model_free(m);
        ms[r] = now_ms() - t0;
    }
    report("allocate", ms, runs);

    fc_history h200 = {CH, 200, o.campaigns};
    fc_backtest b;
    double t0 = now_ms();
    if ((st = fc_backtest_run(&h200, FC_BACKTEST_LEAVE_ONE_OUT, 0, &b)) != FC_OK)
        return die("backtest", st);
    printf("backtest   leave one out over 200 campaigns: %.0f ms (leads wMAPE %.3f, baseline %.3f)\n",
           now_ms() - t0, b.total[FC_LEADS].model.wmape, b.total[FC_LEADS].baseline.wmape);
    fc_backtest_free(&b);
    free(ms);
    return 0;
}
