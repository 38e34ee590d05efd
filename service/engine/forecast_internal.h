/* forecast_internal.h — what forecast.c, forecast_alloc.c and forecast_backtest.c share: the fitted model's
 * layout and the curve arithmetic. Not for callers outside service/engine/. */
#ifndef CAMPAIGND_FORECAST_INTERNAL_H
#define CAMPAIGND_FORECAST_INTERNAL_H

#include "forecast.h"

/* The 80 % interval's quantile of a standard normal (the delta-method intervals): Φ⁻¹(0.9). */
#define FC_Z90 1.2815515655446004

/* The parameters of one channel's curve in the optimiser's units: the outcome per median spend (ρ, so that
 * f(median) = ρ), the half-saturation point in medians (κ) and the shape (α), all as logarithms. */
enum { FC_P_RHO, FC_P_KAPPA, FC_P_ALPHA, FC_P_PER_CHANNEL };

struct fc_model {
    fc_kpi kpi;
    fc_method method;
    size_t n_channels;
    fc_curve *curves;         /* [n_channels], the public view */
    double *median;           /* [n_channels] spend unit m_c (the channel's median positive spend, or the
                                 organisation's median of them for a channel without history) */
    double *theta;            /* [n_channels × FC_P_PER_CHANNEL] log-parameters (Hill) */
    int *index;               /* [n_channels] the channel's first parameter in the fit, or -1 (prior stands in) */
    double prior[FC_P_PER_CHANNEL]; /* the organisation's (pooled) log-parameters */
    double prior_sd;          /* τ: the prior's standard deviation on each log-parameter */
    double *ratio;            /* [n_channels] outcome per unit spend (FC_METHOD_RATIO) */
    double ratio_total;       /* outcome per unit of total spend (FC_METHOD_RATIO, totals) */
    bool has_base;            /* outcomes known in total: base·days is fitted */
    double base;              /* per normalised day */
    double y_scale, d_scale;  /* outcome and days units of the fit */
    double d_ref;             /* the reference duration (the median campaign's days) */
    double a_ref;             /* the reference audience (the median campaign's), or 0: the curves do not answer
                                 the audience. A campaign's scale s is days/d_ref (times audience/a_ref): it gets
                                 s times the curve at spend/s (fc_model_scale) */
    double audience_min, audience_max; /* the smallest and largest audience fitted (with a_ref) */
    size_t p;                 /* parameters fitted */
    double *hinv;             /* [p × p] inverse of the Gauss–Newton Hessian JᵀJ + λ·I (normalised units) */
    double sigma2;            /* residual variance (normalised, weighted units) */
    double w_norm;            /* a row of fitted value ŷ weighs w_norm/ŷ² (forecast.c: weights_update) */
    bool total_rows, channel_rows; /* outcomes known in total / per channel in the history */
    double *resid_total;      /* sorted standardised relative residuals of the totals */
    size_t n_resid_total;
    double *resid_channel;    /* … of the per-channel outcomes */
    size_t n_resid_channel;
    unsigned warnings;
    size_t n_campaigns;
    double first_start, last_end;
    double days_min, days_max; /* the shortest and longest campaign used */
};

/* f(u) and ∂ln f/∂(ln ρ, ln κ, ln α) of a curve with log-parameters th at u = spend/median (u ≥ 0). dlog may be
 * NULL. Finite for every finite u ≥ 0 (0 at u = 0). */
double fc_hill(const double *th, double u, double *dlog);

/* d f / d u of the same curve (∂ outcome per median spend). */
double fc_hill_slope(const double *th, double u);

/* A channel's contribution (in the model's outcome units) at spend x in a campaign of scale s (fc_model_scale),
 * and its derivative in outcome per spend. */
double fc_model_channel_value(const fc_model *m, size_t c, double x, double s);
double fc_model_channel_marginal(const fc_model *m, size_t c, double x, double s);

#endif
