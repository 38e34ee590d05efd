/* forecast_alloc.c — splitting a budget across channels over the fitted response curves.
 *
 * Maximise mode: maximise Σ_c f_c(x_c) subject to Σ x_c = budget and min_c ≤ x_c ≤ max_c.
 * CPA mode: maximise base·days + Σ_c f_c(x_c) subject to Σ x_c ≤ budget, the bounds, and
 * Σ x_c ≤ target·(base·days + Σ_c f_c(x_c)) (the plan's cost per result at most the target).
 *
 * Hill curves with α > 1 are S-shaped, so the problem is not concave and a local method can stop on a shoulder.
 * NLopt's SLSQP (sequential quadratic programming, the method Robyn's allocator uses) is therefore run from
 * several deterministic starting splits, the best result kept: a greedy split (the budget handed out in 1/200ths,
 * each to the channel whose outcome grows most by it: it climbs past S-curve shoulders), the bounds-proportional
 * split, and the current split when given and feasible. Variables are scaled by the budget. */
#include <math.h>
#include <nlopt.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_internal.h"

#define ALLOC_STEPS 200

typedef struct {
    const fc_model *m;
    size_t n;
    double budget, scale, base, cpa;
    double s; /* the plan's scale (fc_model_scale) */
} alloc_ctx;

/* The objective in budget units: z = x / budget. */
static double alloc_objective(unsigned n, const double *z, double *grad, void *data)
{
    const alloc_ctx *a = data;
    double s = a->base;
    for (unsigned c = 0; c < n; c++) {
        double x = z[c] * a->budget;
        s += fc_model_channel_value(a->m, c, x, a->s);
        if (grad)
            grad[c] = a->budget * fc_model_channel_marginal(a->m, c, x, a->s) / a->scale;
    }
    return s / a->scale;
}

/* Σ z − 1 (= 0 in maximise mode, ≤ 0 in CPA mode) */
static double alloc_sum(unsigned n, const double *z, double *grad, void *data)
{
    (void)data;
    double s = -1;
    for (unsigned c = 0; c < n; c++) {
        s += z[c];
        if (grad)
            grad[c] = 1;
    }
    return s;
}

/* spend − target·outcome ≤ 0, in budget units */
static double alloc_cpa(unsigned n, const double *z, double *grad, void *data)
{
    const alloc_ctx *a = data;
    double s = -a->cpa * a->base / a->budget;
    for (unsigned c = 0; c < n; c++) {
        double x = z[c] * a->budget;
        s += z[c] - a->cpa * fc_model_channel_value(a->m, c, x, a->s) / a->budget;
        if (grad)
            grad[c] = 1 - a->cpa * fc_model_channel_marginal(a->m, c, x, a->s);
    }
    return s;
}

/* The CPA constraint's slack as an objective to maximise (to find a feasible start). */
static double alloc_slack(unsigned n, const double *z, double *grad, void *data)
{
    double v = alloc_cpa(n, z, grad, data);
    if (grad)
        for (unsigned c = 0; c < n; c++)
            grad[c] = -grad[c];
    return -v;
}

/* Runs SLSQP from z (budget units) and returns the objective reached; z holds the point. */
static double alloc_solve(alloc_ctx *a, nlopt_func objective, bool cpa, const double *lo, const double *hi,
                          double *z)
{
    nlopt_opt opt = nlopt_create(NLOPT_LD_SLSQP, (unsigned)a->n);
    if (!opt)
        return -INFINITY;
    nlopt_set_lower_bounds(opt, lo);
    nlopt_set_upper_bounds(opt, hi);
    nlopt_set_max_objective(opt, objective, a);
    if (cpa) {
        nlopt_add_inequality_constraint(opt, alloc_sum, a, 1e-12);
        if (objective == alloc_objective)
            nlopt_add_inequality_constraint(opt, alloc_cpa, a, 1e-12);
    } else {
        nlopt_add_equality_constraint(opt, alloc_sum, a, 1e-12);
    }
    nlopt_set_ftol_rel(opt, 1e-12);
    nlopt_set_xtol_rel(opt, 1e-10);
    nlopt_set_maxeval(opt, 500);
    double f = -INFINITY;
    nlopt_result rc = nlopt_optimize(opt, z, &f);
    nlopt_destroy(opt);
    if (rc < 0 && rc != NLOPT_ROUNDOFF_LIMITED)
        return -INFINITY;
    return f;
}

/* Clamps z into [lo, hi] and, in maximise mode, makes Σ z exactly 1 by moving the difference onto the channels
 * with room, in proportion to their room. */
static void alloc_repair(size_t n, const double *lo, const double *hi, bool exact, double *z)
{
    for (size_t c = 0; c < n; c++)
        z[c] = fmin(fmax(z[c], lo[c]), hi[c]);
    for (int round = 0; exact && round < 4; round++) {
        double s = 0, room = 0;
        for (size_t c = 0; c < n; c++)
            s += z[c];
        double diff = 1 - s;
        if (diff == 0)
            break;
        for (size_t c = 0; c < n; c++)
            room += diff > 0 ? hi[c] - z[c] : z[c] - lo[c];
        if (!(room > 0))
            break;
        for (size_t c = 0; c < n; c++)
            z[c] = fmin(fmax(z[c] + diff * (diff > 0 ? hi[c] - z[c] : z[c] - lo[c]) / room, lo[c]), hi[c]);
    }
}

/* Within the budget and the target CPA (CPA mode). */
static bool alloc_inside(alloc_ctx *a, const double *z)
{
    return alloc_cpa((unsigned)a->n, z, NULL, a) <= 0 && alloc_sum((unsigned)a->n, z, NULL, a) <= 0;
}

/* The greedy split: from z, 1/ALLOC_STEPS of the budget at a time to the channel whose outcome it raises most
 * (it climbs past S-curve shoulders), until the budget is spent or, with cpa, until the next step would break
 * the target CPA (z must then be within it). */
static void alloc_greedy(alloc_ctx *a, const double *hi, bool cpa, double *z)
{
    double left = 1;
    for (size_t c = 0; c < a->n; c++)
        left -= z[c];
    double step = 1.0 / ALLOC_STEPS;
    while (left > 1e-12) {
        double d = fmin(step, left), best = 0;
        size_t pick = a->n;
        for (size_t c = 0; c < a->n; c++) {
            double dc = fmin(d, hi[c] - z[c]);
            if (!(dc > 0))
                continue;
            double gain = (fc_model_channel_value(a->m, c, (z[c] + dc) * a->budget, a->s) -
                           fc_model_channel_value(a->m, c, z[c] * a->budget, a->s)) / dc;
            if (pick == a->n || gain > best) {
                best = gain;
                pick = c;
            }
        }
        if (pick == a->n)
            break;
        double dc = fmin(d, hi[pick] - z[pick]);
        z[pick] += dc;
        if (cpa && !alloc_inside(a, z)) {
            z[pick] -= dc;
            break;
        }
        left -= dc;
    }
}

static bool finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

fc_status fc_allocate(const fc_model *m, const fc_alloc_request *req, fc_alloc_result *out)
{
    if (!m || !req || !out || !out->split || !out->marginal || !out->expected.channels || !isfinite(req->days) ||
        !(req->days > 0) || !finite_nonneg(req->target_cpa) || !finite_nonneg(req->audience))
        return FC_ERR_INVALID;
    size_t n = m->n_channels;
    if (!finite_nonneg(req->budget)) {
        out->bound = FC_BOUND_BUDGET;
        return FC_ERR_INFEASIBLE;
    }
    double smin = 0, smax = 0, B = req->budget;
    for (size_t c = 0; c < n; c++) {
        double lo = req->min ? req->min[c] : 0, hi = req->max ? req->max[c] : B;
        if (!finite_nonneg(lo) || !finite_nonneg(hi) || lo > hi) {
            out->bound = FC_BOUND_CHANNEL;
            out->channel = c;
            return FC_ERR_INFEASIBLE;
        }
        smin += lo;
        smax += fmin(hi, B);
    }
    bool cpa = req->target_cpa > 0;
    if (smin > B) {
        out->bound = FC_BOUND_MIN_SUM;
        return FC_ERR_INFEASIBLE;
    }
    if (!cpa && smax < B) {
        out->bound = FC_BOUND_MAX_SUM;
        return FC_ERR_INFEASIBLE;
    }
    if (req->current)
        for (size_t c = 0; c < n; c++)
            if (!finite_nonneg(req->current[c]))
                return FC_ERR_INVALID;
    fc_forecast base_f = {.channels = out->expected.channels};
    double *zero = calloc(n ? n : 1, sizeof *zero);
    double *lo = calloc(n ? n : 1, sizeof *lo), *hi = calloc(n ? n : 1, sizeof *hi);
    double *z = calloc(n ? n : 1, sizeof *z), *best = calloc(n ? n : 1, sizeof *best);
    double *step = calloc(n ? n : 1, sizeof *step);
    fc_status st = FC_ERR_NOMEM;
    if (!zero || !lo || !hi || !z || !best || !step)
        goto out;
    if ((st = fc_forecast_plan_reaching(m, zero, req->days, req->audience, &base_f)) != FC_OK)
        goto out;
    double scale = fc_model_scale(m, req->days, req->audience);
    alloc_ctx a = {m, n, B > 0 ? B : 1, 1, base_f.total.p50, req->target_cpa, scale};
    for (size_t c = 0; c < n; c++) {
        lo[c] = (req->min ? req->min[c] : 0) / a.budget;
        hi[c] = fmin(req->max ? req->max[c] : B, B) / a.budget;
    }
    /* the objective's unit: the outcome of the bounds-proportional split (or 1 if that is nothing) */
    for (size_t c = 0; c < n; c++)
        z[c] = lo[c] + (hi[c] - lo[c]) * (smax > smin ? (B - smin) / (smax - smin) : 0);
    a.scale = alloc_objective((unsigned)n, z, NULL, &a);
    if (!(a.scale > 0) || !isfinite(a.scale))
        a.scale = 1;

    double best_f = -INFINITY;
    if (B == 0) {
        memset(best, 0, n * sizeof *best);
    } else if (!cpa) {
        for (int start = 0; start < 3; start++) {
            if (start == 0) {
                memcpy(z, lo, n * sizeof *z);
                alloc_greedy(&a, hi, false, z);
            } else if (start == 1)
                for (size_t c = 0; c < n; c++)
                    z[c] = lo[c] + (hi[c] - lo[c]) * (smax > smin ? (B - smin) / (smax - smin) : 0);
            else if (req->current) {
                double s = 0;
                bool inside = true;
                for (size_t c = 0; c < n; c++) {
                    z[c] = req->current[c] / a.budget;
                    s += z[c];
                    inside = inside && z[c] >= lo[c] && z[c] <= hi[c];
                }
                if (!inside || fabs(s - 1) > 1e-9)
                    continue;
            } else
                continue;
            alloc_solve(&a, alloc_objective, false, lo, hi, z);
            alloc_repair(n, lo, hi, true, z);
            double f = alloc_objective((unsigned)n, z, NULL, &a);
            if (f > best_f) {
                best_f = f;
                memcpy(best, z, n * sizeof *z);
            }
        }
    } else {
        /* A feasible start that spends something: the split with the most room under the target (the slack
         * maximised from each channel's own best on a grid of 1/ALLOC_STEPS of its range, from the minimums,
         * from the greedy split of the whole budget and from the proportional one). Spending nothing meets any
         * target vacuously, so it does not count; none other: infeasible. */
        double best_slack = INFINITY;
        for (int start = 0; start < 4; start++) {
            if (start == 3)
                for (size_t c = 0; c < n; c++) { /* cpa·f_c(x) − x is separable: each channel's best alone */
                    double best_v = -INFINITY;
                    for (int k = 0; k <= ALLOC_STEPS; k++) {
                        double x = lo[c] + (hi[c] - lo[c]) * k / ALLOC_STEPS;
                        double v = a.cpa * fc_model_channel_value(m, c, x * a.budget, a.s) / a.budget - x;
                        if (v > best_v) {
                            best_v = v;
                            z[c] = x;
                        }
                    }
                }
            else if (start == 0)
                memcpy(z, lo, n * sizeof *z);
            else if (start == 1) {
                memcpy(z, lo, n * sizeof *z);
                alloc_greedy(&a, hi, false, z);
            } else
                for (size_t c = 0; c < n; c++)
                    z[c] = lo[c] + (hi[c] - lo[c]) * (smax > smin ? fmin((B - smin) / (smax - smin), 1) : 0);
            alloc_solve(&a, alloc_slack, true, lo, hi, z);
            alloc_repair(n, lo, hi, false, z);
            double spend = 0, v = alloc_cpa((unsigned)n, z, NULL, &a);
            for (size_t c = 0; c < n; c++)
                spend += z[c];
            if (spend > 0 && alloc_inside(&a, z) && v < best_slack) {
                best_slack = v;
                memcpy(step, z, n * sizeof *z);
            }
        }
        if (!isfinite(best_slack)) {
            out->bound = FC_BOUND_CPA;
            st = FC_ERR_INFEASIBLE;
            goto out;
        }
        memcpy(z, step, n * sizeof *z);
        double *feasible = zero; /* reused: the known-feasible point */
        memcpy(feasible, z, n * sizeof *z);
        for (int start = 0; start < 2; start++) {
            memcpy(z, feasible, n * sizeof *z);
            if (start == 0) /* from the feasible start, more budget while the target holds */
                alloc_greedy(&a, hi, true, z);
            alloc_solve(&a, alloc_objective, true, lo, hi, z);
            alloc_repair(n, lo, hi, false, z);
            /* SLSQP may end a hair outside: the furthest point inside on the way from the feasible start */
            if (!alloc_inside(&a, z)) {
                double in = 0, outside = 1;
                for (int k = 0; k < 60; k++) {
                    double t = (in + outside) / 2;
                    for (size_t c = 0; c < n; c++)
                        step[c] = feasible[c] + t * (z[c] - feasible[c]);
                    *(alloc_inside(&a, step) ? &in : &outside) = t;
                }
                for (size_t c = 0; c < n; c++)
                    z[c] = feasible[c] + in * (z[c] - feasible[c]);
            }
            double f = alloc_objective((unsigned)n, z, NULL, &a);
            if (f > best_f) {
                best_f = f;
                memcpy(best, z, n * sizeof *z);
            }
        }
    }
    double spent = 0;
    for (size_t c = 0; c < n; c++) {
        out->split[c] = best[c] * a.budget;
        spent += out->split[c];
    }
    if (!cpa && B > 0) { /* the split adds up to the budget to the last bit: the remainder on the largest share */
        size_t big = 0;
        for (size_t c = 1; c < n; c++)
            big = out->split[c] > out->split[big] ? c : big;
        double others = 0;
        for (size_t c = 0; c < n; c++)
            others += c == big ? 0 : out->split[c];
        if (n)
            out->split[big] = B - others;
        spent = B;
    }
    for (size_t c = 0; c < n; c++)
        out->marginal[c] = fc_model_channel_marginal(m, c, out->split[c], scale);
    out->spent = spent;
    out->bound = FC_BOUND_NONE;
    fc_forecast f = {.channels = out->expected.channels};
    if ((st = fc_forecast_plan_reaching(m, out->split, req->days, req->audience, &f)) != FC_OK)
        goto out;
    out->expected = f;
    out->has_current = req->current != NULL;
    out->uplift = 0;
    if (req->current) {
        fc_channel_forecast *tmp = calloc(n ? n : 1, sizeof *tmp);
        fc_forecast cf = {.channels = tmp};
        st = tmp ? fc_forecast_plan_reaching(m, req->current, req->days, req->audience, &cf) : FC_ERR_NOMEM;
        free(tmp);
        if (st != FC_OK)
            goto out;
        out->current = cf.total;
        out->uplift = out->expected.total.p50 - cf.total.p50;
    }
    st = FC_OK;
out:
    free(zero);
    free(lo);
    free(hi);
    free(z);
    free(best);
    free(step);
    return st;
}
