/* test_forecast.c — the forecasting engine: its accuracy on Robyn's public demo data against the naive baseline,
 * recovery of known curves from a simulated organisation, the allocator against the true optimum, degenerate
 * histories, and determinism. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "engine/forecast.h"
#include "forecast_sim.h"
#include "unit.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR names tests/data"
#endif

/* ---- Robyn's demo data as a history: each 4-week block one campaign, total revenue its only outcome ---- */

enum { ROBYN_CHANNELS = 5, ROBYN_WEEKS = 208, ROBYN_BLOCK = 4, ROBYN_CAMPAIGNS = ROBYN_WEEKS / ROBYN_BLOCK };
static const char *const robyn_columns[ROBYN_CHANNELS] = {"tv_S", "ooh_S", "print_S", "facebook_S", "search_S"};

typedef struct {
    double spend[ROBYN_CAMPAIGNS][ROBYN_CHANNELS];
    fc_campaign campaigns[ROBYN_CAMPAIGNS];
    fc_history history;
} robyn_data;

/* Days since 1970-01-01 of "YYYY-MM-DD". */
static double day_number(const char *s)
{
    struct tm tm = {0};
    ck_assert_int_eq(sscanf(s, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)(timegm(&tm) / 86400);
}

/* Splits one CSV line of plain fields (quotes dropped) into at most max fields; returns the count. */
static int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    for (int i = 0; i < n; i++) {
        f[i][strcspn(f[i], "\r\n")] = '\0';
        if (f[i][0] == '"') {
            f[i]++;
            f[i][strcspn(f[i], "\"")] = '\0';
        }
    }
    return n;
}

static void robyn_load(robyn_data *d)
{
    FILE *fp = fopen(TEST_DATA_DIR "/robyn_dt_simulated_weekly.csv", "r");
    ck_assert_msg(fp != NULL, "tests/data/robyn_dt_simulated_weekly.csv");
    char line[1024], *f[32];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    int nf = csv_fields(line, f, 32), col[ROBYN_CHANNELS], rev = -1, date = -1;
    for (int c = 0; c < ROBYN_CHANNELS; c++) {
        col[c] = -1;
        for (int i = 0; i < nf; i++)
            if (!strcmp(f[i], robyn_columns[c]))
                col[c] = i;
        ck_assert_int_ge(col[c], 0);
    }
    for (int i = 0; i < nf; i++) {
        rev = strcmp(f[i], "revenue") ? rev : i;
        date = strcmp(f[i], "DATE") ? date : i;
    }
    ck_assert(rev >= 0 && date >= 0);
    memset(d, 0, sizeof *d);
    int week = 0;
    while (fgets(line, sizeof line, fp)) {
        ck_assert_int_lt(week, ROBYN_WEEKS);
        ck_assert_int_eq(csv_fields(line, f, 32), nf);
        fc_campaign *cp = &d->campaigns[week / ROBYN_BLOCK];
        if (week % ROBYN_BLOCK == 0) {
            cp->start = day_number(f[date]);
            cp->days = 7 * ROBYN_BLOCK;
            cp->spend = d->spend[week / ROBYN_BLOCK];
            cp->has_total[FC_REVENUE] = true;
        }
        for (int c = 0; c < ROBYN_CHANNELS; c++)
            d->spend[week / ROBYN_BLOCK][c] += strtod(f[col[c]], NULL);
        cp->total[FC_REVENUE] += strtod(f[rev], NULL);
        week++;
    }
    fclose(fp);
    ck_assert_int_eq(week, ROBYN_WEEKS);
    d->history = (fc_history){ROBYN_CHANNELS, ROBYN_CAMPAIGNS, d->campaigns};
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The goals on data nobody here wrote: rolling origin from the first year (13 campaigns), revenue. */
START_TEST(robyn_rolling_origin_beats_the_baseline)
{
    static robyn_data d;
    robyn_load(&d);
    fc_backtest b;
    double t0 = seconds_now();
    ck_assert_int_eq(fc_backtest_run(&d.history, FC_BACKTEST_ROLLING_ORIGIN, 13, &b), FC_OK);
    double t1 = seconds_now();
    const fc_score *s = &b.total[FC_REVENUE];
    printf("robyn rolling-origin backtest, %zu folds of 4-week campaigns, revenue (%.2f s):\n"
           "  model:    wMAPE %.3f  MAPE %.3f  80%% coverage %.1f%%\n"
           "  baseline: wMAPE %.3f  MAPE %.3f  80%% coverage %.1f%%\n",
           b.folds, t1 - t0, s->model.wmape, s->model.mape, 100 * s->model.coverage, s->baseline.wmape,
           s->baseline.mape, 100 * s->baseline.coverage);
    ck_assert(b.has_total[FC_REVENUE]);
    ck_assert_uint_eq(s->model.n, ROBYN_CAMPAIGNS - 13);
    ck_assert_double_le(s->model.wmape, 0.25);
    ck_assert_double_le(s->model.wmape, 0.6 * s->baseline.wmape);
    ck_assert_double_ge(s->model.coverage, 0.70);
    ck_assert_double_le(s->model.coverage, 0.90);
    fc_backtest_free(&b);
}
END_TEST

/* ---- a simulated organisation with known curves ---- */

START_TEST(simulated_half_saturation_points_are_recovered)
{
    static sim_org o;
    /* three seeds: one lucky draw does not pass the test */
    static const uint64_t seeds[] = {1, 2, 3, 4, 5};
    for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
        sim_make(&o, seeds[s], SIM_CAMPAIGNS, SIM_CHANNELS, true);
        fc_model *m = NULL;
        ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
        ck_assert_int_eq(fc_model_method(m), FC_METHOD_HILL);
        for (int c = 0; c < SIM_CHANNELS; c++) {
            const fc_curve *cv = fc_model_curve(m, c);
            double err = fabs(cv->gamma / sim_truth[c].gamma - 1);
            printf("simulated seed %llu channel %d: gamma %.0f (true %.0f, error %.1f%%), alpha %.2f (true %.2f), "
                   "beta %.0f (true %.0f)\n", (unsigned long long)seeds[s], c, cv->gamma, sim_truth[c].gamma,
                   100 * err, cv->alpha, sim_truth[c].alpha, cv->beta, sim_truth[c].beta);
            ck_assert_double_le(err, 0.25);
        }
        fc_model_free(m);
    }
}
END_TEST

/* The best split on the true curves, by exhaustive search on a grid of budget/400 (then refined around it). */
static double true_optimum(double budget)
{
    double best = 0;
    int steps = 400;
    for (int i = 0; i <= steps; i++)
        for (int j = 0; i + j <= steps; j++) {
            double x0 = budget * i / steps, x1 = budget * j / steps, x2 = budget - x0 - x1;
            double v = true_value(&sim_truth[0], x0) + true_value(&sim_truth[1], x1) + true_value(&sim_truth[2], x2);
            best = fmax(best, v);
        }
    return best;
}

START_TEST(allocator_reaches_the_true_optimum)
{
    static sim_org o;
    sim_make(&o, 7, SIM_CAMPAIGNS, SIM_CHANNELS, true);
    fc_model *m = NULL;
    ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    /* budgets from where only email pays to where every channel is well into its curve */
    static const double budgets[] = {3000, 10000, 20000, 40000};
    for (size_t b = 0; b < sizeof budgets / sizeof *budgets; b++) {
        double split[SIM_CHANNELS], marginal[SIM_CHANNELS], even[SIM_CHANNELS];
        fc_channel_forecast chans[SIM_CHANNELS];
        for (int c = 0; c < SIM_CHANNELS; c++)
            even[c] = budgets[b] / SIM_CHANNELS;
        fc_alloc_request req = {.budget = budgets[b], .days = 28, .current = even};
        fc_alloc_result r = {.split = split, .marginal = marginal, .expected.channels = chans};
        ck_assert_int_eq(fc_allocate(m, &req, &r), FC_OK);
        double got = 0, sum = 0, opt = true_optimum(budgets[b]);
        for (int c = 0; c < SIM_CHANNELS; c++) {
            ck_assert(split[c] >= 0 && split[c] <= budgets[b]);
            ck_assert(isfinite(marginal[c]) && marginal[c] >= 0);
            got += true_value(&sim_truth[c], split[c]);
            sum += split[c];
        }
        printf("allocator budget %.0f: split %.0f / %.0f / %.0f reaches %.2f%% of the true optimum; uplift over an "
               "even split %.1f\n", budgets[b], split[0], split[1], split[2], 100 * got / opt, r.uplift);
        ck_assert_double_eq(sum, budgets[b]);
        ck_assert_double_ge(got, 0.98 * opt);
        ck_assert(r.has_current);
        ck_assert_double_ge(r.uplift, 0);
        ck_assert(r.expected.total.p10 <= r.expected.total.p50 && r.expected.total.p50 <= r.expected.total.p90);
    }
    fc_model_free(m);
}
END_TEST

/* ---- what every answer must be, whatever the history ---- */

static void assert_interval(const fc_interval *iv)
{
    ck_assert(isfinite(iv->p10) && isfinite(iv->p50) && isfinite(iv->p90));
    ck_assert(0 <= iv->p10 && iv->p10 <= iv->p50 && iv->p50 <= iv->p90);
}

static void assert_forecast(const fc_forecast *f, size_t n)
{
    assert_interval(&f->total);
    for (size_t c = 0; c < n; c++)
        assert_interval(&f->channels[c].outcome);
    ck_assert(f->confidence >= FC_CONFIDENCE_LOW && f->confidence <= FC_CONFIDENCE_HIGH);
}

/* A small hand-made history: n campaigns of two channels, leads in total only, spend s0·(1 + i%3), s1. */
typedef struct {
    double spend[8][2];
    fc_campaign c[8];
    fc_history h;
} tiny;

static void tiny_make(tiny *t, size_t n, double s0, double s1, double leads)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        t->spend[i][0] = s0 * (double)(1 + i % 3);
        t->spend[i][1] = s1;
        t->c[i] = (fc_campaign){.start = 19000 + 30.0 * (double)i, .days = 28, .spend = t->spend[i]};
        t->c[i].has_total[FC_LEADS] = true;
        t->c[i].total[FC_LEADS] = leads * (double)(1 + i % 3) * (1 + 0.05 * (double)(i % 2));
    }
    t->h = (fc_history){2, n, t->c};
}

START_TEST(degenerate_histories_give_warnings_or_refusals)
{
    static tiny t;
    fc_model *m = NULL;
    fc_channel_forecast ch[2];
    fc_forecast f = {.channels = ch};
    double plan[2] = {150, 80};

    /* no campaign, one campaign: refused, no model */
    tiny_make(&t, 0, 100, 50, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_NO_HISTORY);
    tiny_make(&t, 1, 100, 50, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_TOO_LITTLE_HISTORY);
    ck_assert_ptr_null(m);
    /* an outcome nobody measured */
    tiny_make(&t, 6, 100, 50, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_REVENUE, FC_METHOD_HILL, &m), FC_ERR_NO_HISTORY);
    /* zero spend everywhere: nothing to learn a response from */
    tiny_make(&t, 6, 0, 0, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_NO_HISTORY);

    /* three campaigns: too few rows for curves, the ratio stands in and says so */
    tiny_make(&t, 3, 100, 50, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    ck_assert_int_eq(fc_model_method(m), FC_METHOD_RATIO);
    ck_assert(fc_model_warnings(m) & FC_WARN_LITTLE_HISTORY);
    ck_assert_int_eq(fc_forecast_plan(m, plan, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert(f.warnings & FC_WARN_LITTLE_HISTORY);
    ck_assert_int_eq(f.confidence, FC_CONFIDENCE_LOW);
    fc_model_free(m);
    m = NULL;

    /* every outcome zero: a forecast of zero, said so */
    tiny_make(&t, 6, 100, 50, 0);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    ck_assert(fc_model_warnings(m) & FC_WARN_ZERO_OUTCOMES);
    ck_assert_int_eq(fc_forecast_plan(m, plan, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert_double_eq(f.total.p90, 0);
    fc_model_free(m);
    m = NULL;

    /* channel 1's spend never varied: a curve held to the prior's shape, and a warning */
    tiny_make(&t, 8, 100, 50, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    ck_assert(fc_model_curve(m, 1)->warnings & FC_WARN_CONSTANT_SPEND);
    ck_assert(!(fc_model_curve(m, 0)->warnings & FC_WARN_CONSTANT_SPEND));
    ck_assert_int_eq(fc_forecast_plan(m, plan, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert(f.warnings & FC_WARN_CONSTANT_SPEND);
    /* a plan ten times the largest spend seen: extrapolation, named on its channel */
    double far[2] = {3000, 50};
    ck_assert_int_eq(fc_forecast_plan(m, far, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert(ch[0].warnings & FC_WARN_EXTRAPOLATION);
    ck_assert(!(ch[1].warnings & FC_WARN_EXTRAPOLATION));
    ck_assert_int_ne(f.confidence, FC_CONFIDENCE_HIGH);
    /* in range on every channel, but three times as long as any campaign seen: the base is extrapolated */
    double inside[2] = {150, 50};
    ck_assert_int_eq(fc_forecast_plan(m, inside, 28, &f), FC_OK);
    ck_assert(!(f.warnings & FC_WARN_EXTRAPOLATION));
    ck_assert_int_eq(fc_forecast_plan(m, inside, 84, &f), FC_OK);
    ck_assert(f.warnings & FC_WARN_EXTRAPOLATION);
    /* hostile magnitudes stay finite; nonsense is refused */
    double huge[2] = {1e300, 1e300}, neg[2] = {-1, 5}, nan_[2] = {NAN, 5};
    ck_assert_int_eq(fc_forecast_plan(m, huge, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert_int_eq(fc_forecast_plan(m, neg, 28, &f), FC_ERR_INVALID);
    ck_assert_int_eq(fc_forecast_plan(m, nan_, 28, &f), FC_ERR_INVALID);
    ck_assert_int_eq(fc_forecast_plan(m, plan, 0, &f), FC_ERR_INVALID);
    ck_assert_int_eq(fc_forecast_plan(m, plan, INFINITY, &f), FC_ERR_INVALID);
    fc_model_free(m);
    m = NULL;

    /* one channel only */
    tiny_make(&t, 8, 100, 0, 40);
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    ck_assert(fc_model_curve(m, 1)->warnings & FC_WARN_NO_HISTORY);
    double one[2] = {150, 0};
    ck_assert_int_eq(fc_forecast_plan(m, one, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert(!(f.warnings & FC_WARN_NO_HISTORY));
    ck_assert_double_gt(f.total.p50, 0);
    /* … and a plan on the channel it never used: the prior stands in, low confidence */
    ck_assert_int_eq(fc_forecast_plan(m, plan, 28, &f), FC_OK);
    assert_forecast(&f, 2);
    ck_assert(ch[1].warnings & FC_WARN_NO_HISTORY);
    ck_assert_double_gt(ch[1].outcome.p50, 0);
    ck_assert_int_eq(f.confidence, FC_CONFIDENCE_LOW);
    fc_model_free(m);
    m = NULL;

    /* a history with a negative spend or a non-finite outcome is refused whole */
    tiny_make(&t, 6, 100, 50, 40);
    t.spend[2][1] = -5;
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_INVALID);
    tiny_make(&t, 6, 100, 50, 40);
    t.c[3].total[FC_LEADS] = NAN;
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_INVALID);
    tiny_make(&t, 6, 100, 50, 40);
    t.c[3].days = 0;
    ck_assert_int_eq(fc_fit(&t.h, FC_LEADS, FC_METHOD_HILL, &m), FC_ERR_INVALID);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(allocator_refuses_infeasible_bounds_by_name)
{
    static sim_org o;
    sim_make(&o, 11, 40, SIM_CHANNELS, true);
    fc_model *m = NULL;
    ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    double split[SIM_CHANNELS], marginal[SIM_CHANNELS];
    fc_channel_forecast chans[SIM_CHANNELS];
    static const struct {
        const char *name;
        double budget, min[SIM_CHANNELS], max[SIM_CHANNELS], cpa;
        fc_status status;
        fc_bound bound;
        size_t channel;
    } cases[] = {
        {"minimums above the budget", 10000, {4000, 4000, 4000}, {1e9, 1e9, 1e9}, 0, FC_ERR_INFEASIBLE,
         FC_BOUND_MIN_SUM, 0},
        {"maximums below the budget", 10000, {0, 0, 0}, {3000, 3000, 3000}, 0, FC_ERR_INFEASIBLE, FC_BOUND_MAX_SUM, 0},
        {"a channel's min above its max", 10000, {0, 500, 0}, {1e9, 400, 1e9}, 0, FC_ERR_INFEASIBLE,
         FC_BOUND_CHANNEL, 1},
        {"a negative minimum", 10000, {0, 0, -1}, {1e9, 1e9, 1e9}, 0, FC_ERR_INFEASIBLE, FC_BOUND_CHANNEL, 2},
        {"a negative budget", -1, {0, 0, 0}, {1e9, 1e9, 1e9}, 0, FC_ERR_INFEASIBLE, FC_BOUND_BUDGET, 0},
        {"a CPA no split can meet", 10000, {3000, 3000, 3000}, {1e9, 1e9, 1e9}, 0.01, FC_ERR_INFEASIBLE,
         FC_BOUND_CPA, 0},
        {"maximums below the budget are fine under a CPA", 10000, {0, 0, 0}, {3000, 3000, 3000}, 1000, FC_OK,
         FC_BOUND_NONE, 0},
        {"tight bounds: the only split", 9000, {3000, 3000, 3000}, {3000, 3000, 3000}, 0, FC_OK, FC_BOUND_NONE, 0},
        {"a zero budget", 0, {0, 0, 0}, {1e9, 1e9, 1e9}, 0, FC_OK, FC_BOUND_NONE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fc_alloc_request req = {.budget = cases[i].budget, .days = 28, .min = cases[i].min, .max = cases[i].max,
                                .target_cpa = cases[i].cpa};
        fc_alloc_result r = {.split = split, .marginal = marginal, .expected.channels = chans};
        ck_assert_msg(fc_allocate(m, &req, &r) == cases[i].status, "%s", cases[i].name);
        ck_assert_msg(r.bound == cases[i].bound, "%s: bound %d", cases[i].name, r.bound);
        if (cases[i].bound == FC_BOUND_CHANNEL)
            ck_assert_uint_eq(r.channel, cases[i].channel);
        if (cases[i].status != FC_OK)
            continue;
        double sum = 0;
        for (int c = 0; c < SIM_CHANNELS; c++) {
            ck_assert_msg(split[c] >= cases[i].min[c] && split[c] <= cases[i].max[c], "%s", cases[i].name);
            sum += split[c];
        }
        ck_assert_double_eq(sum, r.spent);
        if (cases[i].cpa == 0)
            ck_assert_double_eq(sum, cases[i].budget);
        else
            ck_assert_double_le(sum, cases[i].budget);
        assert_forecast(&r.expected, SIM_CHANNELS);
    }
    fc_model_free(m);
}
END_TEST

START_TEST(allocator_meets_a_cpa)
{
    static sim_org o;
    sim_make(&o, 12, 80, SIM_CHANNELS, true);
    fc_model *m = NULL;
    ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    double split[SIM_CHANNELS], marginal[SIM_CHANNELS];
    fc_channel_forecast chans[SIM_CHANNELS];
    /* a target between the cheapest first leads (email) and the average of spending everything */
    static const double targets[] = {6, 10, 15};
    double last = 0;
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        fc_alloc_request req = {.budget = 40000, .days = 28, .target_cpa = targets[i]};
        fc_alloc_result r = {.split = split, .marginal = marginal, .expected.channels = chans};
        ck_assert_int_eq(fc_allocate(m, &req, &r), FC_OK);
        double cpa = r.spent / r.expected.total.p50;
        printf("allocator CPA target %.0f: spends %.0f of 40000 for %.0f leads (CPA %.2f)\n", targets[i], r.spent,
               r.expected.total.p50, cpa);
        ck_assert_double_le(cpa, targets[i] * (1 + 1e-9));
        ck_assert_double_le(r.spent, 40000);
        /* a looser target never buys fewer results */
        ck_assert_double_ge(r.expected.total.p50, last);
        last = r.expected.total.p50;
    }
    fc_model_free(m);
}
END_TEST

START_TEST(the_same_input_gives_the_same_answer)
{
    static robyn_data d;
    robyn_load(&d);
    fc_model *a = NULL, *b = NULL;
    ck_assert_int_eq(fc_fit(&d.history, FC_REVENUE, FC_METHOD_HILL, &a), FC_OK);
    ck_assert_int_eq(fc_fit(&d.history, FC_REVENUE, FC_METHOD_HILL, &b), FC_OK);
    double plan[ROBYN_CHANNELS] = {60000, 150000, 15000, 10000, 30000};
    fc_channel_forecast ca[ROBYN_CHANNELS], cb[ROBYN_CHANNELS];
    fc_forecast fa = {.channels = ca}, fb = {.channels = cb};
    ck_assert_int_eq(fc_forecast_plan(a, plan, 28, &fa), FC_OK);
    ck_assert_int_eq(fc_forecast_plan(b, plan, 28, &fb), FC_OK);
    assert_forecast(&fa, ROBYN_CHANNELS);
    ck_assert_mem_eq(&fa.total, &fb.total, sizeof fa.total);
    for (size_t c = 0; c < ROBYN_CHANNELS; c++) {
        ck_assert_mem_eq(&ca[c].outcome, &cb[c].outcome, sizeof ca[c].outcome);
        ck_assert_uint_eq(ca[c].warnings, cb[c].warnings);
    }
    for (size_t c = 0; c < ROBYN_CHANNELS; c++)
        ck_assert_mem_eq(fc_model_curve(a, c), fc_model_curve(b, c), sizeof(fc_curve));
    double sa[ROBYN_CHANNELS], sb[ROBYN_CHANNELS], ma[ROBYN_CHANNELS], mb[ROBYN_CHANNELS];
    fc_alloc_request req = {.budget = 265000, .days = 28, .current = plan};
    fc_alloc_result ra = {.split = sa, .marginal = ma, .expected.channels = ca};
    fc_alloc_result rb = {.split = sb, .marginal = mb, .expected.channels = cb};
    ck_assert_int_eq(fc_allocate(a, &req, &ra), FC_OK);
    ck_assert_int_eq(fc_allocate(b, &req, &rb), FC_OK);
    ck_assert_mem_eq(sa, sb, sizeof sa);
    ck_assert_double_eq(ra.uplift, rb.uplift);
    ck_assert_double_ge(ra.uplift, 0);
    fc_model_free(a);
    fc_model_free(b);
    fc_backtest x, y;
    ck_assert_int_eq(fc_backtest_run(&d.history, FC_BACKTEST_LEAVE_ONE_OUT, 0, &x), FC_OK);
    ck_assert_int_eq(fc_backtest_run(&d.history, FC_BACKTEST_LEAVE_ONE_OUT, 0, &y), FC_OK);
    ck_assert_mem_eq(&x.total[FC_REVENUE], &y.total[FC_REVENUE], sizeof x.total[FC_REVENUE]);
    printf("robyn leave-one-campaign-out: model wMAPE %.3f coverage %.1f%%, baseline wMAPE %.3f coverage %.1f%%\n",
           x.total[FC_REVENUE].model.wmape, 100 * x.total[FC_REVENUE].model.coverage,
           x.total[FC_REVENUE].baseline.wmape, 100 * x.total[FC_REVENUE].baseline.coverage);
    fc_backtest_free(&x);
    fc_backtest_free(&y);
}
END_TEST

/* Two models answer alike: the same forecast of a plan, bit for bit, and the same allocation. */
static void assert_same_answers(const fc_model *a, const fc_model *b, const double *plan, size_t nc, double budget)
{
    fc_channel_forecast ca[8], cb[8];
    fc_forecast fa = {.channels = ca}, fb = {.channels = cb};
    ck_assert_int_eq(fc_forecast_plan(a, plan, 28, &fa), FC_OK);
    ck_assert_int_eq(fc_forecast_plan(b, plan, 28, &fb), FC_OK);
    ck_assert_mem_eq(&fa.total, &fb.total, sizeof fa.total);
    ck_assert_uint_eq(fa.warnings, fb.warnings);
    for (size_t c = 0; c < nc; c++)
        ck_assert_mem_eq(&ca[c].outcome, &cb[c].outcome, sizeof ca[c].outcome);
    double sa[8], sb[8], ma[8], mb[8];
    fc_alloc_request req = {.budget = budget, .days = 28, .current = plan};
    fc_alloc_result ra = {.split = sa, .marginal = ma, .expected.channels = ca};
    fc_alloc_result rb = {.split = sb, .marginal = mb, .expected.channels = cb};
    ck_assert_int_eq(fc_allocate(a, &req, &ra), FC_OK);
    ck_assert_int_eq(fc_allocate(b, &req, &rb), FC_OK);
    ck_assert_mem_eq(sa, sb, nc * sizeof *sa);
    ck_assert_mem_eq(&ra.expected.total, &rb.expected.total, sizeof ra.expected.total);
}

/* A model encoded and decoded answers as the fitted one; bytes that are not a whole model are refused. */
START_TEST(a_decoded_model_answers_as_the_fitted_one)
{
    static robyn_data d;
    robyn_load(&d);
    static sim_org o;
    sim_make(&o, 51, 120, SIM_CHANNELS, true);
    double robyn_plan[ROBYN_CHANNELS] = {60000, 150000, 15000, 10000, 30000};
    double sim_plan[SIM_CHANNELS];
    for (size_t c = 0; c < SIM_CHANNELS; c++)
        sim_plan[c] = 1500 + 500 * (double)c;
    struct {
        const fc_history *h;
        fc_kpi kpi;
        fc_method method;
        const double *plan;
        size_t nc;
        double budget;
    } cases[] = {
        {&d.history, FC_REVENUE, FC_METHOD_HILL, robyn_plan, ROBYN_CHANNELS, 265000}, /* totals, a base */
        {&o.history, FC_LEADS, FC_METHOD_HILL, sim_plan, SIM_CHANNELS, 12000},        /* per channel */
        {&o.history, FC_LEADS, FC_METHOD_RATIO, sim_plan, SIM_CHANNELS, 12000},       /* the baseline */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fc_model *m = NULL, *back = NULL;
        unsigned char *bytes = NULL;
        size_t len = 0;
        ck_assert_int_eq(fc_fit(cases[i].h, cases[i].kpi, cases[i].method, &m), FC_OK);
        ck_assert_int_eq(fc_model_encode(m, &bytes, &len), 0);
        ck_assert_int_eq(fc_model_decode(bytes, len, &back), FC_OK);
        ck_assert_int_eq(fc_model_kpi(back), cases[i].kpi);
        ck_assert_int_eq(fc_model_method(back), fc_model_method(m));
        assert_same_answers(m, back, cases[i].plan, cases[i].nc, cases[i].budget);
        for (size_t c = 0; c < cases[i].nc; c++)
            ck_assert_mem_eq(fc_model_curve(m, c), fc_model_curve(back, c), sizeof(fc_curve));
        fc_model_free(back);
        /* cut short anywhere, one byte too many, another format: refused, nothing returned */
        size_t cuts[] = {0, 3, 4, 20, len / 2, len - 8, len - 1};
        for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
            back = NULL;
            ck_assert_int_eq(fc_model_decode(bytes, cuts[k], &back), FC_ERR_INVALID);
            ck_assert_ptr_null(back);
        }
        unsigned char *longer = malloc(len + 1);
        ck_assert_ptr_nonnull(longer);
        memcpy(longer, bytes, len);
        longer[len] = 0;
        ck_assert_int_eq(fc_model_decode(longer, len + 1, &back), FC_ERR_INVALID);
        longer[0] ^= 1;
        ck_assert_int_eq(fc_model_decode(longer, len, &back), FC_ERR_INVALID);
        ck_assert_ptr_null(back);
        free(longer);
        free(bytes);
        fc_model_free(m);
    }
}
END_TEST

START_TEST(backtest_scores_per_channel_where_measured)
{
    static sim_org o;
    sim_make(&o, 21, 60, SIM_CHANNELS, true);
    fc_backtest b;
    ck_assert_int_eq(fc_backtest_run(&o.history, FC_BACKTEST_ROLLING_ORIGIN, 20, &b), FC_OK);
    ck_assert_uint_eq(b.folds, 40);
    ck_assert(b.has_total[FC_LEADS]);
    ck_assert(!b.has_total[FC_REVENUE]);
    ck_assert_ptr_nonnull(b.by_channel[FC_LEADS]);
    ck_assert_ptr_null(b.by_channel[FC_REVENUE]);
    for (int c = 0; c < SIM_CHANNELS; c++) {
        const fc_score *s = &b.by_channel[FC_LEADS][c];
        printf("simulated rolling origin, channel %d: model wMAPE %.3f coverage %.1f%%, baseline wMAPE %.3f\n", c,
               s->model.wmape, 100 * s->model.coverage, s->baseline.wmape);
        ck_assert_uint_gt(s->model.n, 30);
        ck_assert_double_lt(s->model.wmape, s->baseline.wmape);
        ck_assert_double_ge(s->model.coverage, 0.6);
    }
    fc_backtest_free(&b);
}
END_TEST

START_TEST(campaigns_of_other_lengths_answer_their_spend_per_day)
{
    /* The simulated organisation with campaigns of 14 to 56 days, each channel answering the spend per 28 days:
     * leads = (days/28)·f(spend·28/days) (noise kept). A plan's forecast at a length unlike the median's follows
     * the spend per day, and the rolling-origin backtest beats cost per lead, which ignores the length. */
    static sim_org o;
    sim_make(&o, 31, 120, SIM_CHANNELS, true);
    for (size_t i = 0; i < o.n; i++) {
        fc_campaign *cp = &o.campaigns[i];
        cp->days = 14.0 * (double)(1 + i % 4);
        cp->total[FC_LEADS] = 0;
        for (size_t c = 0; c < o.n_ch; c++) {
            double x = o.spend[i][c];
            if (x > 0)
                o.leads[i][c] *= cp->days / 28 * true_value(&sim_truth[c], x * 28 / cp->days) /
                                 true_value(&sim_truth[c], x);
            cp->total[FC_LEADS] += o.leads[i][c];
        }
    }
    fc_model *m;
    ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
    double plan[SIM_CHANNELS], truth = 0;
    for (int c = 0; c < SIM_CHANNELS; c++) {
        plan[c] = sim_truth[c].gamma; /* over 56 days: half the half-saturation spend per 28 days */
        truth += 2 * true_value(&sim_truth[c], plan[c] / 2);
    }
    fc_channel_forecast cf[SIM_CHANNELS];
    fc_forecast f = {.channels = cf};
    ck_assert_int_eq(fc_forecast_plan(m, plan, 56, &f), FC_OK);
    printf("simulated lengths 14-56 days: a 56-day plan forecast %.0f leads (p10 %.0f, p90 %.0f), true %.0f\n",
           f.total.p50, f.total.p10, f.total.p90, truth);
    ck_assert_double_lt(fabs(f.total.p50 / truth - 1), 0.1);
    ck_assert(f.total.p10 <= truth && truth <= f.total.p90);
    fc_model_free(m);
    fc_backtest b;
    ck_assert_int_eq(fc_backtest_run(&o.history, FC_BACKTEST_ROLLING_ORIGIN, 30, &b), FC_OK);
    const fc_score *sc = &b.total[FC_LEADS];
    printf("simulated lengths 14-56 days, rolling origin: model wMAPE %.3f coverage %.1f%%, baseline wMAPE %.3f\n",
           sc->model.wmape, 100 * sc->model.coverage, sc->baseline.wmape);
    ck_assert_double_lt(sc->model.wmape, 0.6 * sc->baseline.wmape);
    ck_assert_double_ge(sc->model.coverage, 0.6);
    fc_backtest_free(&b);
}
END_TEST

START_TEST(audience_sizes_are_used_where_the_history_says_so)
{
    /* The simulated organisation with an audience per campaign, log-uniform in [20,000, 200,000]. First each
     * channel answers the spend per 60,000 people reached: leads = (n/60,000)·f(spend·60,000/n). Then the same
     * audiences, but leads that ignore them (as simulated). The audience is used in the first and not the second. */
    static sim_org o;
    static double audience[SIM_CAMPAIGNS];
    for (int pass = 0; pass < 2; pass++) {
        sim_make(&o, 41, SIM_CAMPAIGNS, SIM_CHANNELS, true);
        for (size_t i = 0; i < o.n; i++) {
            fc_campaign *cp = &o.campaigns[i];
            audience[i] = 20000 * pow(10, sim_uniform());
            cp->audience = audience[i];
            if (pass == 1)
                continue;
            double s = audience[i] / 60000;
            cp->total[FC_LEADS] = 0;
            for (size_t c = 0; c < o.n_ch; c++) {
                double x = o.spend[i][c];
                if (x > 0)
                    o.leads[i][c] *= s * true_value(&sim_truth[c], x / s) / true_value(&sim_truth[c], x);
                cp->total[FC_LEADS] += o.leads[i][c];
            }
        }
        fc_model *m;
        ck_assert_int_eq(fc_fit(&o.history, FC_LEADS, FC_METHOD_HILL, &m), FC_OK);
        double a_ref = fc_model_reference_audience(m);
        fc_backtest b;
        ck_assert_int_eq(fc_backtest_run(&o.history, FC_BACKTEST_ROLLING_ORIGIN, 40, &b), FC_OK);
        const fc_score *sc = &b.total[FC_LEADS];
        printf("simulated audiences 20,000-200,000, %s: reference audience %.0f; rolling origin: model wMAPE %.3f "
               "coverage %.1f%%, baseline wMAPE %.3f\n",
               pass == 0 ? "leads answering spend per person" : "leads ignoring them", a_ref, sc->model.wmape,
               100 * sc->model.coverage, sc->baseline.wmape);
        ck_assert_double_lt(sc->model.wmape, 0.6 * sc->baseline.wmape);
        double sc_model = sc->model.wmape;
        fc_backtest_free(&b);
        if (pass == 1) {
            ck_assert_double_eq(a_ref, 0);
            fc_model_free(m);
            continue;
        }
        ck_assert_double_gt(a_ref, 0);
        /* the same history without its audiences: the curves of spend per day alone err more */
        for (size_t i = 0; i < o.n; i++)
            o.campaigns[i].audience = 0;
        ck_assert_int_eq(fc_backtest_run(&o.history, FC_BACKTEST_ROLLING_ORIGIN, 40, &b), FC_OK);
        printf("  the same without audiences: model wMAPE %.3f coverage %.1f%%\n", b.total[FC_LEADS].model.wmape,
               100 * b.total[FC_LEADS].model.coverage);
        ck_assert_double_lt(1.5 * sc_model, b.total[FC_LEADS].model.wmape);
        fc_backtest_free(&b);
        /* a plan reaching 150,000 people: the spend per person is lower, the outcome follows */
        double plan[SIM_CHANNELS], truth = 0, s = 150000.0 / 60000;
        for (int c = 0; c < SIM_CHANNELS; c++) {
            plan[c] = sim_truth[c].gamma;
            truth += s * true_value(&sim_truth[c], plan[c] / s);
        }
        fc_channel_forecast cf[SIM_CHANNELS];
        fc_forecast f = {.channels = cf};
        ck_assert_int_eq(fc_forecast_plan_reaching(m, plan, 28, 150000, &f), FC_OK);
        ck_assert_double_lt(fabs(f.total.p50 / truth - 1), 0.1);
        ck_assert(!(f.warnings & FC_WARN_AUDIENCE_UNKNOWN));
        /* no audience given: the median campaign's stands in, and the forecast says so */
        ck_assert_int_eq(fc_forecast_plan(m, plan, 28, &f), FC_OK);
        ck_assert(f.warnings & FC_WARN_AUDIENCE_UNKNOWN);
        ck_assert_int_ne(f.confidence, FC_CONFIDENCE_HIGH);
        fc_model_free(m);
    }
}
END_TEST

START_TEST(cost_per_result_and_roi_are_monotone_maps)
{
    static const struct {
        double spend;
        fc_interval outcome;
        bool has_cost;
        fc_interval cost;
        bool has_roi;
        fc_interval roi;
    } cases[] = {
        /* more results, a lower cost per result: p10 of the cost comes from p90 of the outcome */
        {1000, {40, 50, 80}, true, {12.5, 20, 25}, true, {-0.96, -0.95, -0.92}},
        {100, {150, 200, 300}, true, {100.0 / 300, 0.5, 100.0 / 150}, true, {0.5, 1, 2}},
        /* an outcome whose p10 is zero has no upper bound on its cost: null, not infinity */
        {100, {0, 10, 20}, false, {0, 0, 0}, true, {-1, -0.9, -0.8}},
        /* no spend: no ROI, and a cost per result of zero */
        {0, {5, 10, 20}, true, {0, 0, 0}, false, {0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fc_interval got;
        ck_assert_int_eq(fc_cost_per_result(cases[i].spend, &cases[i].outcome, &got), cases[i].has_cost);
        if (cases[i].has_cost) {
            ck_assert_double_eq_tol(got.p10, cases[i].cost.p10, 1e-12);
            ck_assert_double_eq_tol(got.p50, cases[i].cost.p50, 1e-12);
            ck_assert_double_eq_tol(got.p90, cases[i].cost.p90, 1e-12);
        }
        ck_assert_int_eq(fc_roi(cases[i].spend, &cases[i].outcome, &got), cases[i].has_roi);
        if (cases[i].has_roi) {
            ck_assert_double_eq_tol(got.p10, cases[i].roi.p10, 1e-12);
            ck_assert_double_eq_tol(got.p50, cases[i].roi.p50, 1e-12);
            ck_assert_double_eq_tol(got.p90, cases[i].roi.p90, 1e-12);
        }
    }
}
END_TEST

static Suite *forecast_suite(void)
{
    Suite *s = suite_create("forecast");
    TCase *tc = tcase_create("forecast");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, robyn_rolling_origin_beats_the_baseline);
    tcase_add_test(tc, simulated_half_saturation_points_are_recovered);
    tcase_add_test(tc, allocator_reaches_the_true_optimum);
    tcase_add_test(tc, degenerate_histories_give_warnings_or_refusals);
    tcase_add_test(tc, allocator_refuses_infeasible_bounds_by_name);
    tcase_add_test(tc, allocator_meets_a_cpa);
    tcase_add_test(tc, the_same_input_gives_the_same_answer);
    tcase_add_test(tc, a_decoded_model_answers_as_the_fitted_one);
    tcase_add_test(tc, backtest_scores_per_channel_where_measured);
    tcase_add_test(tc, campaigns_of_other_lengths_answer_their_spend_per_day);
    tcase_add_test(tc, audience_sizes_are_used_where_the_history_says_so);
    tcase_add_test(tc, cost_per_result_and_roi_are_monotone_maps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(forecast_suite());
}
