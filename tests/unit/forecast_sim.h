/* forecast_sim.h — a simulated organisation with known response curves, drawn from a seeded generator so every run
 * draws the same one: the forecasting engine's tests (tests/unit/test_forecast.c) and benchmark
 * (tests/bench/bench_forecast.c) both use it. */
#ifndef CAMPAIGND_FORECAST_SIM_H
#define CAMPAIGND_FORECAST_SIM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/forecast.h"

/* splitmix64: seeded and portable */
static uint64_t sim_rng_state;

static inline double sim_uniform(void)
{
    uint64_t z = (sim_rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static inline double sim_normal(void)
{
    return sqrt(-2 * log(sim_uniform())) * cos(2 * M_PI * sim_uniform());
}

typedef struct {
    double beta, gamma, alpha;
} true_curve;

static inline double true_value(const true_curve *t, double x)
{
    if (!(x > 0))
        return 0;
    double xa = pow(x, t->alpha);
    return t->beta * xa / (xa + pow(t->gamma, t->alpha));
}

enum { SIM_CHANNELS = 3, SIM_MAX_CHANNELS = 6, SIM_CAMPAIGNS = 200, SIM_MAX = 1000 };
/* email: cheap and saturating early; search: S-shaped, large; social: in between; then display, print, events */
static const true_curve sim_truth[SIM_MAX_CHANNELS] = {{800, 2000, 1.2}, {1500, 8000, 2.0}, {600, 4000, 1.5},
                                                       {400, 3000, 1.0}, {300, 6000, 2.5}, {900, 12000, 1.8}};

typedef struct {
    size_t n, n_ch;
    double spend[SIM_MAX][SIM_MAX_CHANNELS];
    double leads[SIM_MAX][SIM_MAX_CHANNELS];
    double conversions[SIM_MAX][SIM_MAX_CHANNELS];
    fc_campaign campaigns[SIM_MAX];
    fc_history history;
} sim_org;

/* n campaigns (at most SIM_MAX) of 28 days, a week apart, on n_ch channels (at most SIM_MAX_CHANNELS); each
 * channel used with probability 0.9 at a spend log-uniform in [0.2γ, 4γ]; leads per channel the true curve times
 * log-normal noise (sd 0.1), measured per channel when per_channel, in total always.
 * (How much history recovery needs: at 60 campaigns, γ of a near-hyperbolic curve such as email's is known to
 * about ±45 % whatever the method, since β, γ and α trade off along a ridge; at 200, to about ±10 %.) */
static inline void sim_make(sim_org *o, uint64_t seed, size_t n, size_t n_ch, bool per_channel)
{
    memset(o, 0, sizeof *o);
    sim_rng_state = seed;
    o->n = n;
    o->n_ch = n_ch;
    for (size_t i = 0; i < n; i++) {
        fc_campaign *cp = &o->campaigns[i];
        cp->start = 20000 + 7.0 * (double)i;
        cp->days = 28;
        cp->spend = o->spend[i];
        double total = 0;
        for (size_t c = 0; c < n_ch; c++) {
            double u = sim_uniform(), v = sim_uniform(), e = sim_normal();
            if (u < 0.1)
                continue;
            o->spend[i][c] = sim_truth[c].gamma * 0.2 * pow(20, v);
            o->leads[i][c] = true_value(&sim_truth[c], o->spend[i][c]) * exp(0.1 * e);
            total += o->leads[i][c];
        }
        cp->has_total[FC_LEADS] = true;
        cp->total[FC_LEADS] = total;
        if (per_channel)
            cp->by_channel[FC_LEADS] = o->leads[i];
    }
    o->history = (fc_history){n_ch, n, o->campaigns};
}

/* Adds conversions per channel (a tenth of the leads, with noise) and revenue in total only (120 a conversion
 * plus 50 a day that no channel explains). */
static inline void sim_add_sales(sim_org *o)
{
    for (size_t i = 0; i < o->n; i++) {
        fc_campaign *cp = &o->campaigns[i];
        double revenue = 50 * cp->days;
        for (size_t c = 0; c < o->n_ch; c++) {
            o->conversions[i][c] = o->leads[i][c] * 0.1 * exp(0.1 * sim_normal());
            revenue += 120 * o->conversions[i][c];
        }
        cp->by_channel[FC_CONVERSIONS] = o->conversions[i];
        cp->has_total[FC_REVENUE] = true;
        cp->total[FC_REVENUE] = revenue;
    }
}

#endif
