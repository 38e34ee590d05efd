/* forecast.h — KPI forecasts from an organisation's completed campaigns: saturating response curves per channel,
 * 80 % intervals, the budget allocator and the backtest. Pure: plain structs in, plain structs out, no I/O, no
 * globals; the same input gives the same output (every optimiser used is deterministic, nothing is drawn at random).
 *
 * The model, per KPI (leads, conversions, revenue):
 *   outcome of a campaign = base·days + Σ_c s·f_c(spend_c/s),   f_c(x) = β_c·x^α_c / (x^α_c + γ_c^α_c)   (Hill)
 * where a campaign's outcome is known in total, and outcome_c = s·f_c(spend_c/s) where it is measured per channel;
 * s = days/d_ref, d_ref the history's median duration: the curves answer spend per d_ref days, so a campaign twice
 * as long at the same spend per day gets twice the outcome (s = 1, the spend as it is, where all last as long).
 * Fitted in two stages by least squares (NLopt, L-BFGS under bounds): first one curve shape shared by every
 * channel (the organisation prior, in units of each channel's median spend), then each channel's own curve with a
 * Gaussian penalty on its log-parameters toward that prior (maximum a posteriori), so a channel with little
 * history stays near the organisation's curve and one with much history follows its own data.
 * Intervals: the fit's standardised relative residuals (each divided by √(1−h_ii), its Gauss–Newton leverage)
 * give the 10th and 90th percentiles as order statistics; a prediction's spread is scaled by √(1+h_0), its own
 * leverage, so a plan far from the history gets a wider interval. See forecast.c for the details. */
#ifndef CAMPAIGND_FORECAST_H
#define CAMPAIGND_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { FC_LEADS, FC_CONVERSIONS, FC_REVENUE, FC_KPIS } fc_kpi;

extern const char *const fc_kpi_names[FC_KPIS]; /* "leads", "conversions", "revenue" */

typedef enum {
    FC_OK = 0,
    FC_ERR_INVALID,           /* an input out of its domain (negative or non-finite spend, days ≤ 0, …) */
    FC_ERR_NO_HISTORY,        /* no completed campaign has both spend and this outcome */
    FC_ERR_TOO_LITTLE_HISTORY,/* fewer than FC_MIN_CAMPAIGNS campaigns with this outcome: no honest interval */
    FC_ERR_INFEASIBLE,        /* allocator: the bounds (or the CPA) admit no split; fc_alloc_result.bound says which */
    FC_ERR_NOMEM,
} fc_status;

/* Fewer campaigns than this with an outcome give no forecast: two residuals are the fewest an interval comes from. */
#define FC_MIN_CAMPAIGNS 2

/* One completed campaign. Arrays have the history's n_channels entries and are borrowed. */
typedef struct {
    double start;                     /* days since 1970-01-01: orders the rolling-origin backtest */
    double days;                      /* duration in days, > 0 */
    double audience;                  /* people its segments reach, > 0; 0: unknown */
    const double *spend;              /* per channel, ≥ 0 (0: the channel was not used) */
    bool has_total[FC_KPIS];          /* the outcome's total is known */
    double total[FC_KPIS];            /* ≥ 0 where has_total */
    const double *by_channel[FC_KPIS];/* per-channel outcome, or NULL where not measured per channel; an entry < 0
                                         is unknown for that channel */
} fc_campaign;

typedef struct {
    size_t n_channels;
    size_t n_campaigns;
    const fc_campaign *campaigns; /* borrowed */
} fc_history;

/* Warnings, as bits: a forecast's (and per channel, a channel's). Never a silent extrapolation. */
enum {
    FC_WARN_EXTRAPOLATION = 1u << 0,   /* a planned spend above the largest or below the smallest seen on its
                                          channel, or (where a base is fitted) a duration outside those seen */
    FC_WARN_NO_HISTORY = 1u << 1,      /* a planned channel never had spend: the organisation prior stands in */
    FC_WARN_LITTLE_HISTORY = 1u << 2,  /* too little history for curves: a cost-per-result ratio stands in */
    FC_WARN_CONSTANT_SPEND = 1u << 3,  /* a channel's spend never varied: its curve's shape is the prior's */
    FC_WARN_THIN_CHANNEL = 1u << 4,    /* a channel seen in fewer campaigns than its curve has parameters: shrunk */
    FC_WARN_ZERO_OUTCOMES = 1u << 5,   /* every outcome in the history is zero */
    FC_WARN_AUDIENCE_UNKNOWN = 1u << 6,/* the curves answer the audience and the plan gives none: the median
                                          campaign's stands in */
};
extern const char *const fc_warning_names[]; /* by bit position: "extrapolation", "no_history", … NULL-ended */

typedef enum { FC_CONFIDENCE_LOW, FC_CONFIDENCE_MEDIUM, FC_CONFIDENCE_HIGH } fc_confidence;
extern const char *const fc_confidence_names[]; /* "low", "medium", "high" */

typedef enum { FC_METHOD_HILL, FC_METHOD_RATIO } fc_method;

typedef struct {
    double beta, gamma, alpha;   /* f(x) = β·x^α/(x^α+γ^α); γ is the half-saturation spend (all 0: ratio model);
                                    x is spend per reference duration (fc_model_reference_days) */
    double spend_min, spend_max; /* smallest and largest positive spend per reference duration seen (0, 0: none) */
    size_t n_campaigns;          /* campaigns with spend in the channel */
    unsigned warnings;           /* FC_WARN_NO_HISTORY, FC_WARN_CONSTANT_SPEND, FC_WARN_THIN_CHANNEL */
} fc_curve;

typedef struct fc_model fc_model;

/* Fits KPI `kpi` on history h. On FC_OK *out is a new model (fc_model_free); otherwise *out is untouched. The
 * history is only read during the call. FC_METHOD_RATIO forces the naive model (cost per result: outcome =
 * r·spend per channel where measured per channel, r·total spend otherwise), the backtest's baseline. */
fc_status fc_fit(const fc_history *h, fc_kpi kpi, fc_method method, fc_model **out);
void fc_model_free(fc_model *m);

/* The fit's version: raise it with any change to the engine that changes what fc_fit returns for a history (the
 * service keys the fits it keeps by it, so a fit made by other code is never read as this code's). */
#define FC_FIT_VERSION 1

/* A fitted model as bytes (forecast_codec.c): *out (malloc'd, *len bytes) can be kept anywhere and read back by
 * fc_model_decode into a model that answers exactly as m does (every double kept bit for bit). Returns 0, or -1
 * when out of memory. The bytes are this machine's layout: a reader on another refuses them. */
int fc_model_encode(const fc_model *m, unsigned char **out, size_t *len);
/* The model encoded in bytes[0..len), or FC_ERR_INVALID when they are not one this build wrote (another format,
 * another layout, truncated or altered sizes), FC_ERR_NOMEM. On FC_OK *out is a new model (fc_model_free). */
fc_status fc_model_decode(const unsigned char *bytes, size_t len, fc_model **out);

/* Read-only views of a fitted model (borrowed, live as long as the model). */
fc_kpi fc_model_kpi(const fc_model *m);
fc_method fc_model_method(const fc_model *m);
size_t fc_model_channels(const fc_model *m);
const fc_curve *fc_model_curve(const fc_model *m, size_t channel);
double fc_model_base_per_day(const fc_model *m);
/* The duration the curves' spends are per: the median duration of the campaigns fitted, in days. */
double fc_model_reference_days(const fc_model *m);
/* The audience the curves' spends are per (the median campaign's), or 0 where they do not answer the audience. */
double fc_model_reference_audience(const fc_model *m);
/* A campaign's scale: days/d_ref, times audience/a_ref where the curves answer the audience (an unknown audience,
 * 0, counts as a_ref). A channel's outcome is s·f(spend/s). */
double fc_model_scale(const fc_model *m, double days, double audience);
unsigned fc_model_warnings(const fc_model *m);
/* Campaigns the fit used, and the first start and last end (days since 1970-01-01) among them. */
void fc_model_history(const fc_model *m, size_t *campaigns, double *first_start, double *last_end);

typedef struct {
    double p10, p50, p90;
} fc_interval;

typedef struct {
    fc_interval outcome;
    unsigned warnings;
} fc_channel_forecast;

typedef struct {
    fc_interval total;
    fc_channel_forecast *channels; /* the caller's array of fc_model_channels() entries */
    unsigned warnings;             /* the model's, and every channel's */
    fc_confidence confidence;
} fc_forecast;

/* Forecasts a plan: spend per channel (n_channels entries, ≥ 0) over `days` days. Writes out->total, the
 * entries of out->channels (which the caller allocates), warnings and confidence. p10 ≤ p50 ≤ p90, all ≥ 0 and
 * finite. Where outcomes were known only in total, a channel's interval carries the curve's parameter uncertainty
 * (delta method) and the total the residual spread as well. */
fc_status fc_forecast_plan(const fc_model *m, const double *spend, double days, fc_forecast *out);
/* The same for a plan reaching `audience` people (0: unknown). */
fc_status fc_forecast_plan_reaching(const fc_model *m, const double *spend, double days, double audience,
                                    fc_forecast *out);

/* Cost per result (CPL, CPA) and ROI of an outcome interval at a given spend, monotone maps of it (cost per
 * result falls as the outcome grows, so p10 comes from the outcome's p90). False (the API's null) when a
 * denominator is zero. */
bool fc_cost_per_result(double spend, const fc_interval *outcome, fc_interval *out);
bool fc_roi(double spend, const fc_interval *revenue, fc_interval *out);

/* ---- The allocator ---- */

typedef enum {
    FC_BOUND_NONE = 0,
    FC_BOUND_CHANNEL,   /* channel `channel`'s min is above its max (or either is negative or not finite) */
    FC_BOUND_MIN_SUM,   /* the minimums add up to more than the budget */
    FC_BOUND_MAX_SUM,   /* the maximums add up to less than the budget (maximise mode: the budget is spent) */
    FC_BOUND_CPA,       /* even the minimums' split costs more per result than the target CPA */
    FC_BOUND_BUDGET,    /* the budget is negative or not finite */
} fc_bound;

typedef struct {
    double budget;          /* total to split, ≥ 0 */
    double days;            /* the plan's duration (the base outcome scales with it) */
    double audience;        /* people the plan reaches (0: unknown) */
    const double *min;      /* per channel, or NULL: 0 */
    const double *max;      /* per channel, or NULL: the budget */
    double target_cpa;      /* > 0: maximise the outcome while spend/outcome ≤ target (spending at most the
                               budget); 0: maximise the outcome spending exactly the budget */
    const double *current;  /* per channel, or NULL: the split to compare against */
} fc_alloc_request;

typedef struct {
    double *split;          /* the caller's array of n_channels: the spend per channel */
    double *marginal;       /* the caller's array of n_channels: d outcome / d spend at the split */
    double spent;           /* Σ split (the budget in maximise mode) */
    fc_forecast expected;   /* the forecast of the split; expected.channels is the caller's array */
    bool has_current;
    fc_interval current;    /* the forecast total of the current split */
    double uplift;          /* expected.total.p50 − current.p50 */
    fc_bound bound;         /* on FC_ERR_INFEASIBLE: which bound */
    size_t channel;         /* with FC_BOUND_CHANNEL: which channel */
} fc_alloc_result;

/* Splits a budget across the model's channels (multi-start SLSQP from NLopt over the fitted curves). Constraints
 * always hold and the split adds up to `spent` exactly. On FC_ERR_INFEASIBLE out->bound (and out->channel) say
 * which bound is in the way; nothing else is written. */
fc_status fc_allocate(const fc_model *m, const fc_alloc_request *req, fc_alloc_result *out);

/* ---- The backtest ---- */

typedef enum { FC_BACKTEST_ROLLING_ORIGIN, FC_BACKTEST_LEAVE_ONE_OUT } fc_backtest_mode;

typedef struct {
    size_t n;          /* forecasts scored */
    size_t n_mape;     /* of those, with an actual > 0 (MAPE's terms) */
    double mape;       /* mean |error|/actual over n_mape (0 when n_mape is 0) */
    double wmape;      /* Σ|error| / Σ actual (0 when Σ actual is 0) */
    double coverage;   /* share of actuals inside [p10, p90] */
} fc_accuracy;

typedef struct {
    fc_accuracy model, baseline;
} fc_score;

typedef struct {
    size_t folds;                  /* forecasts made (campaigns held out) */
    bool has_total[FC_KPIS];
    fc_score total[FC_KPIS];
    fc_score *by_channel[FC_KPIS]; /* n_channels scores each, or NULL when never measured per channel */
} fc_backtest;

/* Scores the model and the baseline on campaigns they did not see. Rolling origin: campaigns in order of start;
 * each from the (min_train+1)-th is forecast from those that ended by its start. Leave one out: each campaign from
 * all the others (min_train is then ignored). A fold whose training history is too small for this KPI is skipped.
 * On FC_OK out holds the scores (fc_backtest_free); otherwise nothing is kept. */
fc_status fc_backtest_run(const fc_history *h, fc_backtest_mode mode, size_t min_train, fc_backtest *out);
void fc_backtest_free(fc_backtest *b);

#endif
