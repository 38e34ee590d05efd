/* forecast.c — fitting the response curves of one KPI and forecasting a plan from them.
 *
 * Rows. Each completed campaign gives, for the KPI, one row per channel where the outcome is measured per channel
 * (outcome_c = s·f_c(spend_c/s)), or one row for its total (total = base·days + Σ_c s·f_c(spend_c/s)) where it is
 * not. s = days/d_ref is the campaign's duration in reference durations (d_ref: the median campaign's), so a curve
 * answers spend per d_ref days: a channel saturates with the spend of a day, not of a campaign (a campaign twice as
 * long at the same spend per day reaches twice the outcome; a history of equal durations has s = 1). The demo's
 * channels answer each day's spend: fitted on spend per campaign, its leads were forecast no better than by cost
 * per lead (tests/api/test_demo_forecasts.py).
 * Spend per reference duration is measured in units of each channel's median of it (u = x/(s·m_c)), outcomes in
 * units of their mean, days in units of their mean, so every parameter is of order one.
 *
 * The curve, in those units: f(u) = ρ·(1+κ^α)·u^α/(u^α+κ^α), a Hill curve written so that f(1) = ρ: ρ is the
 * outcome of a median spend, κ the half-saturation spend in medians, α the shape. The optimiser moves ln ρ, ln κ
 * and ln α, within bounds: κ within a factor 2 of the spends seen (the data cannot place a half-saturation point
 * further out), α within [0.5, 3] (Robyn's default range for the Hill shape).
 *
 * Stage 1, the organisation prior: one (ρ, κ, α) shared by every channel, and the base, by least squares. It has
 * three or four parameters, so a short history fits it.
 * Stage 2, per channel: each channel's own (ρ, κ, α) and the base, by least squares plus λ·Σ(θ_c − θ_prior)²
 * with λ = σ̂²/τ², σ̂² the stage-1 residual variance and τ = FC_PRIOR_SD: the maximum a posteriori estimate under
 * a Gaussian prior of standard deviation τ on each log-parameter around the organisation's. A channel with few
 * campaigns has few residual terms against the same penalty, so it stays near the prior; with many it follows
 * its data. Both stages minimise with NLopt's L-BFGS under bounds, with the analytic gradient.
 *
 * Intervals. At the optimum J is the Jacobian of the fitted values, H = JᵀJ + λ·I (the Gauss–Newton Hessian of
 * the objective, halved) and h_i = J_i H⁻¹ J_iᵀ each row's leverage. A row's standardised relative residual is
 * (y_i − ŷ_i) / (ŷ_i·√(1 − h_i)); the 10th and 90th percentiles of a plan's outcome ŷ_0 are
 * ŷ_0·(1 + √(1 + h_0)·e), e the order statistics ⌊0.1(n+1)⌋ and ⌈0.9(n+1)⌉ of the n residuals (the split-conformal
 * quantiles), h_0 the plan's leverage. A channel's share of an outcome known only in total has no residual of its
 * own: its interval is ±Φ⁻¹(0.9)·√(σ̂²·g H⁻¹ gᵀ), the delta method over the fitted parameters. */
#include <math.h>
#include <nlopt.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_internal.h"

/* τ: a channel's log-parameters are a priori within ±0.5 (a factor 1.65) of the organisation's, one sd. */
#define FC_PRIOR_SD 0.5
#define FC_ALPHA_MIN 0.5
#define FC_ALPHA_MAX 3.0
/* The widest a half-saturation point may lie beyond the spends seen, as a factor. */
#define FC_KAPPA_REACH 2.0

const char *const fc_kpi_names[FC_KPIS] = {"leads", "conversions", "revenue"};
const char *const fc_warning_names[] = {"extrapolation", "no_history", "little_history", "constant_spend",
                                        "thin_channel", "zero_outcomes", "audience_unknown", NULL};
const char *const fc_confidence_names[] = {"low", "medium", "high"};

/* What a curve's evaluations share, computed once per parameter vector rather than once per campaign. */
typedef struct {
    double rho, a, lk, k, kk; /* ρ, α, ln κ, κ^α, κ^α/(1+κ^α) */
} hill_prep;

static void hill_prepare(const double *th, hill_prep *h)
{
    h->rho = exp(th[FC_P_RHO]);
    h->a = exp(th[FC_P_ALPHA]);
    h->lk = th[FC_P_KAPPA];
    h->k = exp(h->a * h->lk);
    h->kk = h->k / (1 + h->k);
}

/* f at ln u = lu (u > 0), and ∂ln f/∂θ into dlog (or not, when NULL). */
static double hill_eval(const hill_prep *h, double lu, double *dlog)
{
    double t = exp(h->a * (h->lk - lu)); /* (κ/u)^α: may overflow for a tiny u, where f is 0 */
    double tt = isinf(t) ? 1 : t / (1 + t);
    if (dlog) {
        dlog[FC_P_RHO] = 1;
        dlog[FC_P_KAPPA] = h->a * (h->kk - tt);
        dlog[FC_P_ALPHA] = h->a * (h->lk * (h->kk - tt) + lu * tt);
    }
    return h->rho * (1 + h->k) / (1 + t);
}

double fc_hill(const double *th, double u, double *dlog)
{
    if (!(u > 0) || !isfinite(u)) {
        if (dlog)
            dlog[0] = dlog[1] = dlog[2] = 0;
        return 0;
    }
    hill_prep h;
    hill_prepare(th, &h);
    return hill_eval(&h, log(u), dlog);
}

double fc_hill_slope(const double *th, double u)
{
    /* d ln f / d ln u = α·t/(1+t); at u = 0 (where it is infinite for α < 1) the first millionth of a median */
    if (!(u > 1e-6))
        return fc_hill(th, 1e-6, NULL) / 1e-6;
    double a = exp(th[FC_P_ALPHA]);
    double t = exp(a * (th[FC_P_KAPPA] - log(u)));
    double tt = isinf(t) ? 1 : t / (1 + t);
    return fc_hill(th, u, NULL) * a * tt / u;
}

double fc_model_scale(const fc_model *m, double days, double audience)
{
    double s = days / m->d_ref;
    if (m->a_ref > 0)
        s *= (audience > 0 ? audience : m->a_ref) / m->a_ref;
    return s;
}

/* ---- rows ---- */

enum { ROW_TOTAL, ROW_CHANNEL };

typedef struct {
    int type;
    double y, d;         /* normalised outcome and days */
    size_t first, count; /* its terms */
} fit_row;

typedef struct {
    size_t ch;
    double x;     /* the spend, as measured */
    double s;     /* the campaign's scale (fc_model_scale; its days until fit_form knows d_ref) */
    double a;     /* the campaign's audience (0: unknown) */
    double u, lu; /* the spend per unit of scale (x / s) in medians, and its logarithm */
} fit_term;

typedef struct {
    size_t n_rows, n_terms, n_ch, n_used;
    size_t *used;        /* the campaigns that gave rows */
    fit_row *rows;
    fit_term *terms;
    double *fdl;         /* per term: f·∂ln f/∂θ (3), the last evaluation's */
    double *yhat;        /* per row */
    hill_prep *prep;     /* per channel (pooled: [0]) at the point being evaluated */
    double *w;           /* per row: its weight, ∝ 1/ŷ² (relative errors), mean 1; NULL: all 1 */
    double w_norm;       /* w_i = w_norm/ŷ_i² */
    const int *index;    /* per channel: its first parameter, or -1 */
    bool pooled;         /* stage 1: one shared (ρ, κ, α) at x[0..2] */
    bool has_base;
    size_t base_at;      /* the base's parameter */
    double lambda;
    const double *prior;
} fit_ctx;

/* Fitted values of every row at x (into c->yhat, and the terms' derivatives into c->fdl). */
static void fit_predict(fit_ctx *c, const double *x)
{
    if (c->pooled)
        hill_prepare(x, &c->prep[0]);
    else
        for (size_t ch = 0; ch < c->n_ch; ch++)
            if (c->index[ch] >= 0)
                hill_prepare(x + c->index[ch], &c->prep[ch]);
    for (size_t i = 0; i < c->n_rows; i++) {
        const fit_row *r = &c->rows[i];
        double yh = (c->has_base && r->type == ROW_TOTAL) ? x[c->base_at] * r->d : 0;
        for (size_t k = r->first; k < r->first + r->count; k++) {
            double dl[3];
            double f = c->terms[k].s * hill_eval(&c->prep[c->pooled ? 0 : c->terms[k].ch], c->terms[k].lu, dl);
            for (int j = 0; j < 3; j++)
                c->fdl[3 * k + j] = f * dl[j];
            yh += f;
        }
        c->yhat[i] = yh;
    }
}

static double fit_objective(unsigned n, const double *x, double *grad, void *data)
{
    fit_ctx *c = data;
    fit_predict(c, x);
    if (grad)
        memset(grad, 0, n * sizeof *grad);
    double obj = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        const fit_row *r = &c->rows[i];
        double wi = c->w ? c->w[i] : 1;
        double res = r->y - c->yhat[i];
        obj += wi * res * res;
        res *= wi;
        if (!grad)
            continue;
        for (size_t k = r->first; k < r->first + r->count; k++) {
            size_t off = c->pooled ? 0 : (size_t)c->index[c->terms[k].ch];
            for (int j = 0; j < 3; j++)
                grad[off + j] -= 2 * res * c->fdl[3 * k + j];
        }
        if (c->has_base && r->type == ROW_TOTAL)
            grad[c->base_at] -= 2 * res * r->d;
    }
    if (!c->pooled && c->lambda > 0) {
        for (size_t ch = 0; ch < c->n_ch; ch++) {
            if (c->index[ch] < 0)
                continue;
            for (int j = 0; j < 3; j++) {
                double dv = x[c->index[ch] + j] - c->prior[j];
                obj += c->lambda * dv * dv;
                if (grad)
                    grad[c->index[ch] + j] += 2 * c->lambda * dv;
            }
        }
    }
    return obj;
}

/* Minimises the objective from x within [lo, hi]; x holds the best point found (it is only replaced by a better
 * one). Returns the objective there. */
static double fit_minimise(fit_ctx *c, size_t p, const double *lo, const double *hi, double *x)
{
    for (size_t i = 0; i < p; i++)
        x[i] = fmin(fmax(x[i], lo[i]), hi[i]);
    double best = fit_objective((unsigned)p, x, NULL, c);
    nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)p);
    if (!opt)
        return best;
    double *y = malloc(p * sizeof *y);
    if (y) {
        memcpy(y, x, p * sizeof *y);
        double f = best;
        nlopt_set_lower_bounds(opt, lo);
        nlopt_set_upper_bounds(opt, hi);
        nlopt_set_min_objective(opt, fit_objective, c);
        nlopt_set_ftol_rel(opt, 1e-9);
        nlopt_set_xtol_rel(opt, 1e-8);
        nlopt_set_maxeval(opt, 3000);
        nlopt_result rc = nlopt_optimize(opt, y, &f);
        if (rc > 0 || rc == NLOPT_ROUNDOFF_LIMITED || rc == NLOPT_MAXEVAL_REACHED) {
            if (isfinite(f) && f < best) {
                best = f;
                memcpy(x, y, p * sizeof *y);
            }
        }
        free(y);
    }
    nlopt_destroy(opt);
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (sorted in place). */
static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Cholesky factorisation of the symmetric positive definite p × p matrix a (lower triangle, in place), then its
 * inverse into inv. False when a is not positive definite. */
static bool spd_inverse(double *a, size_t p, double *inv)
{
    for (size_t j = 0; j < p; j++) {
        double s = a[j * p + j];
        for (size_t k = 0; k < j; k++)
            s -= a[j * p + k] * a[j * p + k];
        if (!(s > 0))
            return false;
        a[j * p + j] = sqrt(s);
        for (size_t i = j + 1; i < p; i++) {
            double t = a[i * p + j];
            for (size_t k = 0; k < j; k++)
                t -= a[i * p + k] * a[j * p + k];
            a[i * p + j] = t / a[j * p + j];
        }
    }
    for (size_t col = 0; col < p; col++) {
        double *z = inv + col * p; /* solve L Lᵀ z = e_col (the inverse is symmetric: columns are rows) */
        for (size_t i = 0; i < p; i++) {
            double t = i == col ? 1 : 0;
            for (size_t k = 0; k < i; k++)
                t -= a[i * p + k] * z[k];
            z[i] = t / a[i * p + i];
        }
        for (size_t i = p; i-- > 0;) {
            double t = z[i];
            for (size_t k = i + 1; k < p; k++)
                t -= a[k * p + i] * z[k];
            z[i] = t / a[i * p + i];
        }
    }
    return true;
}

/* g H⁻¹ gᵀ */
static double quad_form(const double *hinv, size_t p, const double *g)
{
    double s = 0;
    for (size_t i = 0; i < p; i++) {
        if (g[i] == 0)
            continue;
        double t = 0;
        for (size_t j = 0; j < p; j++)
            t += hinv[i * p + j] * g[j];
        s += g[i] * t;
    }
    return s > 0 ? s : 0;
}

void fc_model_free(fc_model *m)
{
    if (!m)
        return;
    free(m->curves);
    free(m->median);
    free(m->theta);
    free(m->index);
    free(m->ratio);
    free(m->hinv);
    free(m->resid_total);
    free(m->resid_channel);
    free(m);
}

static fc_model *model_new(size_t n_ch)
{
    fc_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->n_channels = n_ch;
    m->curves = calloc(n_ch ? n_ch : 1, sizeof *m->curves);
    m->median = calloc(n_ch ? n_ch : 1, sizeof *m->median);
    m->theta = calloc(n_ch ? 3 * n_ch : 1, sizeof *m->theta);
    m->index = calloc(n_ch ? n_ch : 1, sizeof *m->index);
    m->ratio = calloc(n_ch ? n_ch : 1, sizeof *m->ratio);
    if (!m->curves || !m->median || !m->theta || !m->index || !m->ratio) {
        fc_model_free(m);
        return NULL;
    }
    return m;
}

static bool finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

static bool history_valid(const fc_history *h)
{
    if (!h || (h->n_campaigns && !h->campaigns))
        return false;
    for (size_t i = 0; i < h->n_campaigns; i++) {
        const fc_campaign *cp = &h->campaigns[i];
        if (!isfinite(cp->start) || !isfinite(cp->days) || !(cp->days > 0) || !finite_nonneg(cp->audience) ||
            (h->n_channels && !cp->spend))
            return false;
        for (size_t c = 0; c < h->n_channels; c++)
            if (!finite_nonneg(cp->spend[c]))
                return false;
        for (int k = 0; k < FC_KPIS; k++) {
            if (cp->has_total[k] && !finite_nonneg(cp->total[k]))
                return false;
            if (cp->by_channel[k])
                for (size_t c = 0; c < h->n_channels; c++)
                    if (!isfinite(cp->by_channel[k][c]))
                        return false;
        }
    }
    return true;
}

/* Does campaign cp measure KPI k for every channel it spent on? */
static bool measured_per_channel(const fc_campaign *cp, size_t n_ch, fc_kpi k)
{
    if (!cp->by_channel[k])
        return false;
    bool any = false;
    for (size_t c = 0; c < n_ch; c++) {
        if (cp->spend[c] > 0 && cp->by_channel[k][c] < 0)
            return false;
        any = any || cp->spend[c] > 0;
    }
    return any;
}

/* Builds the rows of KPI k (raw units: u is the spend, y the outcome, d the days) and the model's history
 * summary. */
static fc_status rows_build(const fc_history *h, fc_kpi k, fc_model *m, fit_ctx *c)
{
    size_t n_ch = h->n_channels, max_rows = 0, max_terms = 0;
    for (size_t i = 0; i < h->n_campaigns; i++) {
        max_rows += n_ch + 1;
        max_terms += 2 * n_ch;
    }
    c->rows = malloc((max_rows ? max_rows : 1) * sizeof *c->rows);
    c->terms = malloc((max_terms ? max_terms : 1) * sizeof *c->terms);
    c->used = malloc((h->n_campaigns ? h->n_campaigns : 1) * sizeof *c->used);
    if (!c->rows || !c->terms || !c->used)
        return FC_ERR_NOMEM;
    c->n_ch = n_ch;
    m->first_start = INFINITY;
    m->last_end = -INFINITY;
    for (size_t i = 0; i < h->n_campaigns; i++) {
        const fc_campaign *cp = &h->campaigns[i];
        size_t before = c->n_rows;
        bool per_channel = measured_per_channel(cp, n_ch, k);
        if (cp->by_channel[k]) {
            for (size_t ch = 0; ch < n_ch; ch++) {
                if (!(cp->spend[ch] > 0) || cp->by_channel[k][ch] < 0)
                    continue;
                c->rows[c->n_rows++] = (fit_row){ROW_CHANNEL, cp->by_channel[k][ch], cp->days, c->n_terms, 1};
                c->terms[c->n_terms++] = (fit_term){ch, cp->spend[ch], cp->days, cp->audience, 0, 0};
            }
        }
        if (cp->has_total[k] && !per_channel) {
            fit_row r = {ROW_TOTAL, cp->total[k], cp->days, c->n_terms, 0};
            for (size_t ch = 0; ch < n_ch; ch++)
                if (cp->spend[ch] > 0) {
                    c->terms[c->n_terms++] = (fit_term){ch, cp->spend[ch], cp->days, cp->audience, 0, 0};
                    r.count++;
                }
            c->rows[c->n_rows++] = r;
        }
        if (c->n_rows == before)
            continue;
        m->n_campaigns++;
        c->used[c->n_used++] = i;
        m->days_min = m->n_campaigns > 1 ? fmin(m->days_min, cp->days) : cp->days;
        m->days_max = m->n_campaigns > 1 ? fmax(m->days_max, cp->days) : cp->days;
        m->first_start = fmin(m->first_start, cp->start);
        m->last_end = fmax(m->last_end, cp->start + cp->days);
        for (size_t ch = 0; ch < n_ch; ch++)
            m->curves[ch].n_campaigns += cp->spend[ch] > 0;
    }
    if (!m->n_campaigns)
        m->first_start = m->last_end = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        m->total_rows = m->total_rows || c->rows[i].type == ROW_TOTAL;
        m->channel_rows = m->channel_rows || c->rows[i].type == ROW_CHANNEL;
    }
    return FC_OK;
}

/* Stores the sorted standardised relative residuals of rows of one type. */
static fc_status resid_keep(const fit_ctx *c, const double *lev, int type, double **out, size_t *n)
{
    double *e = malloc((c->n_rows ? c->n_rows : 1) * sizeof *e);
    if (!e)
        return FC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        if (c->rows[i].type != type || !(c->yhat[i] > 0))
            continue;
        /* a row fitted almost exactly by its own parameters says little: at most n-fold inflation */
        double room = fmax(1 - lev[i], 1.0 / (double)c->n_rows);
        e[k++] = (c->rows[i].y - c->yhat[i]) / (c->yhat[i] * sqrt(room));
    }
    qsort(e, k, sizeof *e, cmp_double);
    *out = e;
    *n = k;
    return FC_OK;
}

/* The naive model: outcome per unit spend, per channel where measured per channel, of the total spend otherwise. */
static fc_status fit_ratio(fit_ctx *c, fc_model *m)
{
    double *ys = calloc(c->n_ch + 1, sizeof *ys), *xs = calloc(c->n_ch + 1, sizeof *xs);
    fc_status st = FC_ERR_NOMEM;
    if (!ys || !xs)
        goto out;
    /* in the history's units: spend, and outcome */
    double yt = 0, xt = 0, ya = 0, xa = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        const fit_row *r = &c->rows[i];
        double x = 0, y = r->y * m->y_scale;
        for (size_t k = r->first; k < r->first + r->count; k++) {
            double xk = c->terms[k].x;
            x += xk;
            if (r->type == ROW_CHANNEL) {
                ys[c->terms[k].ch] += y;
                xs[c->terms[k].ch] += xk;
            }
        }
        if (r->type == ROW_TOTAL) {
            yt += y;
            xt += x;
        }
        ya += y;
        xa += x;
    }
    double org = xa > 0 ? ya / xa : 0;
    m->ratio_total = xt > 0 ? yt / xt : org;
    for (size_t ch = 0; ch < c->n_ch; ch++)
        m->ratio[ch] = xs[ch] > 0 ? ys[ch] / xs[ch] : org;
    for (size_t i = 0; i < c->n_rows; i++) {
        const fit_row *r = &c->rows[i];
        double yh = 0;
        for (size_t k = r->first; k < r->first + r->count; k++)
            yh += c->terms[k].x * (r->type == ROW_TOTAL ? m->ratio_total : m->ratio[c->terms[k].ch]);
        c->yhat[i] = yh / m->y_scale;
    }
    double *lev = calloc(c->n_rows ? c->n_rows : 1, sizeof *lev);
    if (!lev)
        goto out;
    st = resid_keep(c, lev, ROW_TOTAL, &m->resid_total, &m->n_resid_total);
    if (st == FC_OK)
        st = resid_keep(c, lev, ROW_CHANNEL, &m->resid_channel, &m->n_resid_channel);
    free(lev);
out:
    free(ys);
    free(xs);
    return st;
}

/* Iteratively reweighted least squares: errors are taken as relative (a campaign twice as large errs twice as
 * much), so each row weighs 1/ŷ² at the current fit, scaled to a mean of 1. */
static void weights_update(fit_ctx *c)
{
    double sum = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        double yh = fmax(c->yhat[i], 1e-3); /* a floor in units of the mean outcome: no row weighs a million */
        c->w[i] = 1 / (yh * yh);
        sum += c->w[i];
    }
    c->w_norm = sum > 0 ? (double)c->n_rows / sum : 1;
    for (size_t i = 0; i < c->n_rows; i++)
        c->w[i] *= c->w_norm;
}

/* Weighted RSS at the current fit (c->yhat). */
static double weighted_rss(const fit_ctx *c)
{
    double s = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        double r = c->rows[i].y - c->yhat[i];
        s += (c->w ? c->w[i] : 1) * r * r;
    }
    return s;
}

/* Stage 1 and 2 (see the top of the file) on rows already normalised. */
static fc_status fit_hill(fit_ctx *c, fc_model *m)
{
    size_t n_ch = c->n_ch, p1 = 3 + (c->has_base ? 1 : 0);
    fc_status st = FC_ERR_NOMEM;
    size_t p = 0;
    for (size_t ch = 0; ch < n_ch; ch++) {
        m->index[ch] = m->curves[ch].n_campaigns ? (int)p : -1;
        p += m->curves[ch].n_campaigns ? 3 : 0;
    }
    size_t base_at = p;
    p += c->has_base ? 1 : 0;
    double *x = calloc(p + p1, sizeof *x), *lo = calloc(p + p1, sizeof *lo), *hi = calloc(p + p1, sizeof *hi);
    double *jac = NULL, *hess = NULL, *lev = NULL;
    if (!x || !lo || !hi)
        goto out;

    /* where the spends lie, in medians: pooled, and per channel */
    double ulo = INFINITY, uhi = 0;
    for (size_t k = 0; k < c->n_terms; k++) {
        ulo = fmin(ulo, c->terms[k].u);
        uhi = fmax(uhi, c->terms[k].u);
    }
    double ysum = 0, usum = 0, dsum = 0, rate = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        ysum += c->rows[i].y;
        for (size_t k = c->rows[i].first; k < c->rows[i].first + c->rows[i].count; k++)
            usum += c->terms[k].s * c->terms[k].u;
        if (c->rows[i].type == ROW_TOTAL) {
            dsum += c->rows[i].d;
            rate = fmax(rate, c->rows[i].y / c->rows[i].d);
        }
    }
    double rho0 = usum > 0 ? fmax(ysum / usum, 1e-9) : 1;

    /* stage 1: the organisation's shared curve, from a few starting shapes */
    c->pooled = true;
    c->base_at = 3;
    lo[FC_P_RHO] = log(rho0) - 20;
    hi[FC_P_RHO] = log(rho0) + 20;
    lo[FC_P_KAPPA] = log(ulo / FC_KAPPA_REACH);
    hi[FC_P_KAPPA] = log(uhi * FC_KAPPA_REACH);
    lo[FC_P_ALPHA] = log(FC_ALPHA_MIN);
    hi[FC_P_ALPHA] = log(FC_ALPHA_MAX);
    if (c->has_base) {
        lo[3] = 0;
        hi[3] = 2 * rate;
    }
    double best = INFINITY, start[4], bestx[4] = {0};
    /* eight starting shapes, scored as they stand; the optimiser runs from the best two */
    static const double kappas[] = {0.5, 1, 2, 4}, alphas[] = {1, 2};
    enum { N_STARTS = 8, N_RUNS = 2 };
    double starts[N_STARTS][4], score[N_STARTS];
    for (size_t i = 0; i < N_STARTS; i++) {
        starts[i][FC_P_RHO] = log(rho0 * (c->has_base ? 0.5 : 1));
        starts[i][FC_P_KAPPA] = log(kappas[i % 4]);
        starts[i][FC_P_ALPHA] = log(alphas[i / 4]);
        starts[i][3] = c->has_base && dsum > 0 ? 0.5 * ysum / dsum : 0;
        for (size_t j = 0; j < p1; j++)
            starts[i][j] = fmin(fmax(starts[i][j], lo[j]), hi[j]);
        score[i] = fit_objective((unsigned)p1, starts[i], NULL, c);
    }
    for (int run = 0; run < N_RUNS; run++) {
        size_t pick = 0;
        for (size_t i = 1; i < N_STARTS; i++)
            pick = score[i] < score[pick] ? i : pick; /* ties: the first, so the choice is deterministic */
        score[pick] = INFINITY;
        memcpy(start, starts[pick], sizeof start);
        double f = fit_minimise(c, p1, lo, hi, start);
        if (f < best) {
            best = f;
            memcpy(bestx, start, sizeof start);
        }
    }
    /* once more with the weights of that fit */
    fit_predict(c, bestx);
    weights_update(c);
    best = fit_minimise(c, p1, lo, hi, bestx);
    memcpy(m->prior, bestx, sizeof m->prior);
    double sigma1 = best / (double)(c->n_rows > p1 ? c->n_rows - p1 : 1);
    /* a numerical floor, so that a history the prior fits exactly still has a positive-definite Hessian */
    sigma1 = fmax(sigma1, 1e-12);
    m->prior_sd = FC_PRIOR_SD;

    /* stage 2: every channel's own curve, held toward the prior */
    c->pooled = false;
    c->index = m->index;
    c->base_at = base_at;
    c->lambda = sigma1 / (FC_PRIOR_SD * FC_PRIOR_SD);
    c->prior = m->prior;
    for (size_t ch = 0; ch < n_ch; ch++) {
        if (m->index[ch] < 0)
            continue;
        size_t o = (size_t)m->index[ch];
        double cl = INFINITY, chh = 0;
        for (size_t k = 0; k < c->n_terms; k++)
            if (c->terms[k].ch == ch) {
                cl = fmin(cl, c->terms[k].u);
                chh = fmax(chh, c->terms[k].u);
            }
        lo[o + FC_P_RHO] = lo[FC_P_RHO];
        hi[o + FC_P_RHO] = hi[FC_P_RHO];
        lo[o + FC_P_KAPPA] = log(cl / FC_KAPPA_REACH);
        hi[o + FC_P_KAPPA] = log(chh * FC_KAPPA_REACH);
        lo[o + FC_P_ALPHA] = log(FC_ALPHA_MIN);
        hi[o + FC_P_ALPHA] = log(FC_ALPHA_MAX);
        for (int j = 0; j < 3; j++)
            x[o + j] = bestx[j];
    }
    if (c->has_base) {
        lo[base_at] = 0;
        hi[base_at] = 2 * rate;
        x[base_at] = bestx[3];
    }
    double obj = fit_minimise(c, p, lo, hi, x);
    /* The stage-1 variance also holds how far the channels differ from the shared curve, so it overstates the
     * noise: λ is re-estimated from stage 2's own residuals (RSS over n − p) and the fit repeated, twice. */
    for (int again = 0; again < 3; again++) {
        fit_predict(c, x);
        weights_update(c);
        if (c->n_rows > p)
            c->lambda = fmax(weighted_rss(c) / (double)(c->n_rows - p), 1e-12) / (FC_PRIOR_SD * FC_PRIOR_SD);
        obj = fit_minimise(c, p, lo, hi, x);
    }
    fit_predict(c, x);

    /* the Gauss–Newton Hessian, its inverse, the leverages */
    jac = calloc((c->n_rows ? c->n_rows : 1) * p, sizeof *jac);
    hess = calloc(p * p, sizeof *hess);
    lev = calloc(c->n_rows ? c->n_rows : 1, sizeof *lev);
    m->hinv = calloc(p * p, sizeof *m->hinv);
    if (!jac || !hess || !lev || !m->hinv)
        goto out;
    for (size_t i = 0; i < c->n_rows; i++) {
        const fit_row *r = &c->rows[i];
        double sw = sqrt(c->w[i]); /* the weighted problem's Jacobian */
        for (size_t k = r->first; k < r->first + r->count; k++)
            for (int j = 0; j < 3; j++)
                jac[i * p + (size_t)m->index[c->terms[k].ch] + j] += sw * c->fdl[3 * k + j];
        if (c->has_base && r->type == ROW_TOTAL)
            jac[i * p + base_at] = sw * r->d;
    }
    for (double ridge = c->lambda;; ridge *= 10) {
        for (size_t a = 0; a < p; a++)
            for (size_t b = 0; b < p; b++) {
                double s = 0;
                for (size_t i = 0; i < c->n_rows; i++)
                    s += jac[i * p + a] * jac[i * p + b];
                hess[a * p + b] = s + (a == b && a != base_at ? ridge : 0);
            }
        if (c->has_base) /* the base has no prior: a whisker keeps H invertible where no total varies in days */
            hess[base_at * p + base_at] += 1e-12;
        if (spd_inverse(hess, p, m->hinv))
            break;
        if (ridge > 1e6) {
            memset(m->hinv, 0, p * p * sizeof *m->hinv);
            break;
        }
    }
    double trace = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        lev[i] = quad_form(m->hinv, p, jac + i * p);
        trace += lev[i];
    }
    (void)obj;
    m->sigma2 = weighted_rss(c) / fmax((double)c->n_rows - trace, 1);
    m->w_norm = c->w_norm;
    m->p = p;
    for (size_t ch = 0; ch < n_ch; ch++)
        for (int j = 0; j < 3; j++)
            m->theta[3 * ch + j] = m->index[ch] >= 0 ? x[m->index[ch] + j] : m->prior[j];
    m->base = c->has_base ? x[base_at] : 0;
    st = resid_keep(c, lev, ROW_TOTAL, &m->resid_total, &m->n_resid_total);
    if (st == FC_OK)
        st = resid_keep(c, lev, ROW_CHANNEL, &m->resid_channel, &m->n_resid_channel);
out:
    free(x);
    free(lo);
    free(hi);
    free(jac);
    free(hess);
    free(lev);
    return st;
}

/* Fits one form of the model: curves of spend per day (audience false) or of spend per day and person reached
 * (audience true: FC_ERR_INVALID when a campaign fitted has no audience or all have the same, where the form says
 * nothing the other does not). On FC_OK *score is the fit's sum of squared relative residuals. */
static fc_status fit_form(const fc_history *h, fc_kpi kpi, fc_method method, bool audience, fc_model **out,
                          double *score)
{
    size_t n_ch = h->n_channels;
    fit_ctx c = {0};
    fc_model *m = model_new(n_ch);
    fc_status st = FC_ERR_NOMEM;
    if (!m)
        goto out;
    m->kpi = kpi;
    m->method = method;
    if ((st = rows_build(h, kpi, m, &c)) != FC_OK)
        goto out;
    st = FC_ERR_NO_HISTORY;
    bool any_spend = false;
    for (size_t ch = 0; ch < n_ch; ch++)
        any_spend = any_spend || m->curves[ch].n_campaigns > 0;
    if (!any_spend)
        goto out;
    st = FC_ERR_TOO_LITTLE_HISTORY;
    if (m->n_campaigns < FC_MIN_CAMPAIGNS)
        goto out;
    st = FC_ERR_NOMEM;
    c.fdl = malloc((c.n_terms ? 3 * c.n_terms : 1) * sizeof *c.fdl);
    c.yhat = malloc((c.n_rows ? c.n_rows : 1) * sizeof *c.yhat);
    c.w = malloc((c.n_rows ? c.n_rows : 1) * sizeof *c.w);
    c.prep = malloc((n_ch ? n_ch : 1) * sizeof *c.prep);
    double *tmp = malloc((h->n_campaigns ? h->n_campaigns : 1) * sizeof *tmp);
    if (!c.fdl || !c.yhat || !c.w || !c.prep || !tmp) {
        free(tmp);
        goto out;
    }
    for (size_t i = 0; i < c.n_rows; i++)
        c.w[i] = 1;

    /* the reference duration: the median campaign's; a campaign's spend on a channel is taken per unit of its
     * scale, spend/s (the spend itself where every campaign lasts as long and no audience counts) */
    for (size_t i = 0; i < c.n_used; i++)
        tmp[i] = h->campaigns[c.used[i]].days;
    m->d_ref = median_of(tmp, c.n_used);
    if (audience) {
        /* and the reference audience, the median campaign's: a spend per person reached */
        st = FC_ERR_INVALID;
        bool varies = false;
        for (size_t i = 0; i < c.n_used; i++) {
            tmp[i] = h->campaigns[c.used[i]].audience;
            varies = varies || tmp[i] != tmp[0];
            if (!(tmp[i] > 0)) {
                free(tmp);
                goto out;
            }
        }
        if (!varies) {
            free(tmp);
            goto out;
        }
        st = FC_ERR_NOMEM;
        m->a_ref = median_of(tmp, c.n_used);
        m->audience_min = tmp[0];
        m->audience_max = tmp[c.n_used - 1];
    }
    for (size_t k = 0; k < c.n_terms; k++)
        c.terms[k].s = fc_model_scale(m, c.terms[k].s, c.terms[k].a);

    /* units: each channel's median positive spend per unit of scale; the organisation's median of them for a
     * channel without */
    double *meds = malloc((n_ch ? n_ch : 1) * sizeof *meds);
    size_t n_meds = 0;
    if (!meds) {
        free(tmp);
        goto out;
    }
    for (size_t ch = 0; ch < n_ch; ch++) {
        size_t n = 0;
        fc_curve *cv = &m->curves[ch];
        for (size_t i = 0; i < c.n_used; i++) {
            const fc_campaign *cp = &h->campaigns[c.used[i]];
            if (!(cp->spend[ch] > 0))
                continue;
            double r = cp->spend[ch] / fc_model_scale(m, cp->days, cp->audience);
            cv->spend_min = n ? fmin(cv->spend_min, r) : r;
            cv->spend_max = n ? fmax(cv->spend_max, r) : r;
            tmp[n++] = r;
        }
        if (n) {
            m->median[ch] = median_of(tmp, n);
            meds[n_meds++] = m->median[ch];
        }
    }
    double org_median = n_meds ? median_of(meds, n_meds) : 1;
    free(meds);
    free(tmp);
    double ysum = 0, dsum = 0;
    for (size_t i = 0; i < c.n_rows; i++) {
        ysum += c.rows[i].y;
        dsum += c.rows[i].d;
    }
    m->y_scale = c.n_rows && ysum > 0 ? ysum / (double)c.n_rows : 1;
    m->d_scale = c.n_rows ? dsum / (double)c.n_rows : 1;
    for (size_t ch = 0; ch < n_ch; ch++) {
        fc_curve *cv = &m->curves[ch];
        if (!cv->n_campaigns) {
            m->median[ch] = org_median;
            cv->warnings |= FC_WARN_NO_HISTORY;
            continue;
        }
        if (cv->spend_min == cv->spend_max && cv->n_campaigns > 1)
            cv->warnings |= FC_WARN_CONSTANT_SPEND;
        if (cv->n_campaigns < FC_P_PER_CHANNEL)
            cv->warnings |= FC_WARN_THIN_CHANNEL;
    }
    for (size_t i = 0; i < c.n_rows; i++) {
        c.rows[i].y /= m->y_scale;
        c.rows[i].d /= m->d_scale;
        for (size_t k = c.rows[i].first; k < c.rows[i].first + c.rows[i].count; k++) {
            c.terms[k].u = c.terms[k].x / c.terms[k].s / m->median[c.terms[k].ch];
            c.terms[k].lu = log(c.terms[k].u);
        }
    }
    c.has_base = m->total_rows;
    m->has_base = c.has_base;

    size_t p1 = 3 + (c.has_base ? 1 : 0);
    if (!(ysum > 0)) {
        m->warnings |= FC_WARN_ZERO_OUTCOMES;
        m->method = FC_METHOD_RATIO;
    } else if (method == FC_METHOD_HILL && c.n_rows < p1 + 2) {
        m->warnings |= FC_WARN_LITTLE_HISTORY;
        m->method = FC_METHOD_RATIO;
    }
    st = m->method == FC_METHOD_RATIO ? fit_ratio(&c, m) : fit_hill(&c, m);
    if (st != FC_OK)
        goto out;
    for (size_t ch = 0; ch < n_ch; ch++) {
        fc_curve *cv = &m->curves[ch];
        if (m->method == FC_METHOD_RATIO) {
            cv->alpha = cv->gamma = cv->beta = 0; /* a straight line: no curve */
            continue;
        }
        const double *th = m->theta + 3 * ch;
        double a = exp(th[FC_P_ALPHA]), kap = exp(th[FC_P_KAPPA]);
        cv->alpha = a;
        cv->gamma = kap * m->median[ch];
        cv->beta = m->y_scale * exp(th[FC_P_RHO]) * (1 + pow(kap, a));
        m->warnings |= cv->warnings & (FC_WARN_CONSTANT_SPEND | FC_WARN_THIN_CHANNEL);
    }
    *score = 0;
    for (size_t i = 0; i < c.n_rows; i++)
        if (c.yhat[i] > 0)
            *score += (c.rows[i].y - c.yhat[i]) * (c.rows[i].y - c.yhat[i]) / (c.yhat[i] * c.yhat[i]);
    *out = m;
    m = NULL;
    st = FC_OK;
out:
    free(c.rows);
    free(c.terms);
    free(c.used);
    free(c.fdl);
    free(c.yhat);
    free(c.w);
    free(c.prep);
    fc_model_free(m);
    return st;
}

fc_status fc_fit(const fc_history *h, fc_kpi kpi, fc_method method, fc_model **out)
{
    if (!out || (unsigned)kpi >= FC_KPIS || (method != FC_METHOD_HILL && method != FC_METHOD_RATIO) ||
        !history_valid(h))
        return FC_ERR_INVALID;
    fc_model *m = NULL, *ma = NULL;
    double score, score_a;
    fc_status st = fit_form(h, kpi, method, false, &m, &score);
    if (st != FC_OK || m->method != FC_METHOD_HILL)
        goto out;
    /* The audience form is kept only where the history says so: it fits the campaigns more closely (the same
     * parameters, so the closer fit is the better model, not the larger one). */
    fc_status st_a = fit_form(h, kpi, method, true, &ma, &score_a);
    if (st_a == FC_ERR_NOMEM) {
        st = st_a;
        goto out;
    }
    if (st_a == FC_OK && ma->method == FC_METHOD_HILL && score_a < score) {
        fc_model *t = m;
        m = ma;
        ma = t;
    }
out:
    fc_model_free(ma);
    if (st == FC_OK)
        *out = m;
    else
        fc_model_free(m);
    return st;
}

double fc_model_reference_days(const fc_model *m)
{
    return m->d_ref;
}

double fc_model_reference_audience(const fc_model *m)
{
    return m->a_ref;
}

fc_kpi fc_model_kpi(const fc_model *m)
{
    return m->kpi;
}

fc_method fc_model_method(const fc_model *m)
{
    return m->method;
}

size_t fc_model_channels(const fc_model *m)
{
    return m->n_channels;
}

const fc_curve *fc_model_curve(const fc_model *m, size_t channel)
{
    return channel < m->n_channels ? &m->curves[channel] : NULL;
}

double fc_model_base_per_day(const fc_model *m)
{
    return m->has_base && m->method == FC_METHOD_HILL ? m->base * m->y_scale / m->d_scale : 0;
}

unsigned fc_model_warnings(const fc_model *m)
{
    return m->warnings;
}

void fc_model_history(const fc_model *m, size_t *campaigns, double *first_start, double *last_end)
{
    *campaigns = m->n_campaigns;
    *first_start = m->first_start;
    *last_end = m->last_end;
}

double fc_model_channel_value(const fc_model *m, size_t c, double x, double s)
{
    if (!(x > 0))
        return 0;
    if (m->method == FC_METHOD_RATIO)
        return (m->channel_rows ? m->ratio[c] : m->ratio_total) * x;
    return m->y_scale * s * fc_hill(m->theta + 3 * c, x / s / m->median[c], NULL);
}

double fc_model_channel_marginal(const fc_model *m, size_t c, double x, double s)
{
    if (m->method == FC_METHOD_RATIO)
        return m->channel_rows ? m->ratio[c] : m->ratio_total;
    /* d/dx of s·f(x/s): the curve's slope at x/s */
    return m->y_scale * fc_hill_slope(m->theta + 3 * c, fmax(x, 0) / s / m->median[c]) / m->median[c];
}

/* The split-conformal order statistics of n sorted residuals: the lower and upper ends of an 80 % interval. */
static void resid_bounds(const double *e, size_t n, double *lo, double *hi)
{
    if (!n) {
        *lo = *hi = 0;
        return;
    }
    size_t l = (size_t)floor(0.1 * (double)(n + 1)), u = (size_t)ceil(0.9 * (double)(n + 1));
    l = l < 1 ? 1 : l;
    u = u > n ? n : u;
    *lo = fmin(e[l - 1], 0);
    *hi = fmax(e[u - 1], 0);
}

/* A plan's leverage in the weighted fit: w_0·g H⁻¹ gᵀ with w_0 the weight a row of fitted value y would have. */
static double leverage(const fc_model *m, const double *g, double y)
{
    double yh = fmax(y, 1e-3);
    return m->w_norm / (yh * yh) * quad_form(m->hinv, m->p, g);
}

static fc_interval interval_scaled(double y, double lo, double hi, double scale)
{
    fc_interval iv = {y * (1 + scale * lo), y, y * (1 + scale * hi)};
    iv.p10 = fmax(iv.p10, 0);
    return iv;
}

fc_status fc_forecast_plan(const fc_model *m, const double *spend, double days, fc_forecast *out)
{
    return fc_forecast_plan_reaching(m, spend, days, 0, out);
}

fc_status fc_forecast_plan_reaching(const fc_model *m, const double *spend, double days, double audience,
                                    fc_forecast *out)
{
    if (!m || !out || !out->channels || (m->n_channels && !spend) || !isfinite(days) || !(days > 0) ||
        !finite_nonneg(audience))
        return FC_ERR_INVALID;
    for (size_t c = 0; c < m->n_channels; c++)
        if (!finite_nonneg(spend[c]))
            return FC_ERR_INVALID;
    size_t p = m->p;
    double *g = calloc(p ? p : 1, sizeof *g), *gc = calloc(p ? p : 1, sizeof *gc);
    if (!g || !gc) {
        free(g);
        free(gc);
        return FC_ERR_NOMEM;
    }
    bool hill = m->method == FC_METHOD_HILL;
    double tlo, thi, clo, chi;
    resid_bounds(m->resid_total, m->n_resid_total, &tlo, &thi);
    resid_bounds(m->resid_channel, m->n_resid_channel, &clo, &chi);
    unsigned warnings = m->warnings;
    /* the base and the curves' share grow with the days: a duration outside those seen extrapolates them */
    if (hill && (days < m->days_min || days > m->days_max))
        warnings |= FC_WARN_EXTRAPOLATION;
    /* where the curves answer spend per person reached: an audience outside those seen extrapolates them, and
     * none given is taken as the median campaign's, said so */
    if (hill && m->a_ref > 0 && audience > 0 && (audience < m->audience_min || audience > m->audience_max))
        warnings |= FC_WARN_EXTRAPOLATION;
    if (hill && m->a_ref > 0 && !(audience > 0))
        warnings |= FC_WARN_AUDIENCE_UNKNOWN;
    double scale = fc_model_scale(m, days, audience);
    double sum = hill && m->has_base ? m->base * days / m->d_scale : 0; /* normalised */
    double sum_ratio = 0, spend_total = 0;
    double prior_var = 0;        /* no-history channels' variance from the prior (normalised) */
    double q_lo = 0, q_hi = 0;   /* per-channel half-widths in quadrature (normalised) */
    if (hill && m->has_base && p)
        g[p - 1] = days / m->d_scale;
    for (size_t c = 0; c < m->n_channels; c++) {
        fc_channel_forecast *cf = &out->channels[c];
        const fc_curve *cv = &m->curves[c];
        double x = spend[c];
        cf->warnings = 0;
        if (x > 0 && !cv->n_campaigns)
            cf->warnings |= FC_WARN_NO_HISTORY;
        double r = x / scale;
        if (x > 0 && cv->n_campaigns && (r > cv->spend_max || r < cv->spend_min))
            cf->warnings |= FC_WARN_EXTRAPOLATION;
        if (x > 0)
            cf->warnings |= cv->warnings & (FC_WARN_CONSTANT_SPEND | FC_WARN_THIN_CHANNEL);
        warnings |= cf->warnings;
        spend_total += x;
        double y = fc_model_channel_value(m, c, x, scale) / m->y_scale;
        if (!hill) {
            sum_ratio += y;
            double lo = m->channel_rows ? clo : tlo, hi = m->channel_rows ? chi : thi;
            cf->outcome = interval_scaled(y * m->y_scale, lo, hi, 1);
            continue;
        }
        sum += y;
        double dl[3];
        fc_hill(m->theta + 3 * c, r / m->median[c], dl);
        memset(gc, 0, p * sizeof *gc);
        double var_prior = 0;
        if (m->index[c] >= 0)
            for (int j = 0; j < 3; j++) {
                gc[m->index[c] + j] = y * dl[j];
                g[m->index[c] + j] += y * dl[j];
            }
        else
            for (int j = 0; j < 3; j++)
                var_prior += m->prior_sd * m->prior_sd * y * y * dl[j] * dl[j];
        prior_var += var_prior;
        fc_interval iv;
        if (m->channel_rows && m->index[c] >= 0) {
            double h0 = leverage(m, gc, y);
            iv = interval_scaled(y, clo, chi, sqrt(1 + h0));
        } else {
            double sd = sqrt(m->sigma2 * quad_form(m->hinv, p, gc) + var_prior);
            iv = (fc_interval){fmax(y - FC_Z90 * sd, 0), y, y + FC_Z90 * sd};
        }
        q_lo += (iv.p50 - iv.p10) * (iv.p50 - iv.p10);
        q_hi += (iv.p90 - iv.p50) * (iv.p90 - iv.p50);
        cf->outcome = (fc_interval){iv.p10 * m->y_scale, iv.p50 * m->y_scale, iv.p90 * m->y_scale};
    }
    if (!hill) {
        double y = m->total_rows ? m->ratio_total * spend_total : sum_ratio * m->y_scale;
        out->total = m->total_rows ? interval_scaled(y, tlo, thi, 1) : interval_scaled(y, clo, chi, 1);
        if (!m->total_rows) { /* per-channel rows: the channels' spreads in quadrature */
            double a = 0, b = 0;
            for (size_t c = 0; c < m->n_channels; c++) {
                const fc_interval *iv = &out->channels[c].outcome;
                a += (iv->p50 - iv->p10) * (iv->p50 - iv->p10);
                b += (iv->p90 - iv->p50) * (iv->p90 - iv->p50);
            }
            out->total = (fc_interval){fmax(y - sqrt(a), 0), y, y + sqrt(b)};
        }
    } else if (m->total_rows && m->n_resid_total) {
        double h0 = leverage(m, g, sum);
        fc_interval iv = interval_scaled(sum, tlo, thi, sqrt(1 + h0));
        double pad = FC_Z90 * sqrt(prior_var);
        out->total = (fc_interval){fmax(sum - hypot(sum - iv.p10, pad), 0) * m->y_scale, sum * m->y_scale,
                                   (sum + hypot(iv.p90 - sum, pad)) * m->y_scale};
    } else { /* per-channel rows (or totals that left no residual: a campaign with no spend, say): the channels'
              * spreads in quadrature */
        out->total = (fc_interval){fmax(sum - sqrt(q_lo), 0) * m->y_scale, sum * m->y_scale,
                                   (sum + sqrt(q_hi)) * m->y_scale};
    }
    /* confidence: what the warnings say, and how wide the interval is against its median */
    double width = out->total.p50 > 0 ? (out->total.p90 - out->total.p10) / out->total.p50 : 0;
    if (warnings & (FC_WARN_NO_HISTORY | FC_WARN_LITTLE_HISTORY | FC_WARN_ZERO_OUTCOMES) || width > 1)
        out->confidence = FC_CONFIDENCE_LOW;
    else if (warnings & (FC_WARN_EXTRAPOLATION | FC_WARN_CONSTANT_SPEND | FC_WARN_THIN_CHANNEL |
                         FC_WARN_AUDIENCE_UNKNOWN) ||
             width > 0.5)
        out->confidence = FC_CONFIDENCE_MEDIUM;
    else
        out->confidence = FC_CONFIDENCE_HIGH;
    out->warnings = warnings;
    free(g);
    free(gc);
    return FC_OK;
}

bool fc_cost_per_result(double spend, const fc_interval *o, fc_interval *out)
{
    if (!(o->p10 > 0) || !isfinite(spend))
        return false;
    *out = (fc_interval){spend / o->p90, spend / o->p50, spend / o->p10};
    return true;
}

bool fc_roi(double spend, const fc_interval *r, fc_interval *out)
{
    if (!(spend > 0) || !isfinite(spend))
        return false;
    *out = (fc_interval){(r->p10 - spend) / spend, (r->p50 - spend) / spend, (r->p90 - spend) / spend};
    return true;
}
