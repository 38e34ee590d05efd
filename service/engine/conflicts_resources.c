/* conflicts_resources.c — the rules about bookings and their resources: double bookings, capacity,
 * unavailability and blackouts, frequency caps; the free periods suggested to a blocked booking. See conflicts.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conflicts_internal.h"

/* ---- bookings against their resource: double booking and capacity ---- */

static void add_bookings(cx *c, cf_finding *f, const int *idx, size_t n)
{
    int focus = c->q->focus_booking;
    for (size_t i = 0; i < n; i++)
        if (idx[i] == focus) cfx_ref(f, CF_REF_BOOKING, focus);
    for (size_t i = 0; i < n; i++) cfx_ref(f, CF_REF_BOOKING, idx[i]);
    for (size_t i = 0; i < n; i++) cfx_ref(f, CF_REF_CAMPAIGN, c->p->bookings[idx[i]].campaign);
}

void cfx_rule_double_booked(cx *c, int res, const int *g, size_t n)
{
    const cf_portfolio *p = c->p;
    for (size_t i = 0; i < n; i++) {
        const cf_booking *a = &p->bookings[g[i]];
        for (size_t j = i + 1; j < n && p->bookings[g[j]].start < a->end; j++) {
            const cf_booking *b = &p->bookings[g[j]];
            cf_finding f;
            cfx_init(&f, CF_RESOURCE_DOUBLE_BOOKED, CF_BLOCK);
            cfx_ref(&f, CF_REF_RESOURCE, res);
            int pair[2] = {g[i], g[j]};
            add_bookings(c, &f, pair, 2);
            cfx_window_time(&f, b->start, a->end < b->end ? a->end : b->end);
            cf_finding *o = cfx_push(c, &f, NULL);
            if (!o) continue;
            o->message = cfx_fmt("%s is exclusive and two bookings hold it at once", p->resources[res].name);
            o->suggestion = cfx_fmt("move or cancel one of the two bookings; the free periods nearest to it are listed");
        }
    }
}

static int cmp_bucket_ctx(const void *x, const void *y, void *arg)
{
    const cf_booking *b = arg;
    const cf_booking *u = &b[*(const int *)x], *v = &b[*(const int *)y];
    if (u->bucket != v->bucket) return u->bucket < v->bucket ? -1 : 1;
    return u->start < v->start ? -1 : u->start > v->start;
}

/* A load of the resource res in a window against its capacity: block above it, warn from capacity_warn_pct. */
static void capacity_finding(cx *c, int res, const int *idx, size_t n, long long load, int days, cf_day d0,
                             cf_time t0, cf_time t1)
{
    const cf_resource *r = &c->p->resources[res];
    cf_severity sev;
    if (load > r->capacity) sev = CF_BLOCK;
    else if (load * 100 >= (long long)r->capacity * c->s->capacity_warn_pct) sev = CF_WARN;
    else return;
    cf_finding f;
    cfx_init(&f, CF_CAPACITY_EXCEEDED, sev);
    cfx_ref(&f, CF_REF_RESOURCE, res);
    add_bookings(c, &f, idx, n);
    if (days) cfx_window_days(&f, d0, d0 + days - 1);
    else cfx_window_time(&f, t0, t1);
    cf_finding *o = cfx_push(c, &f, NULL);
    if (!o) return;
    const char *unit = r->unit == CF_HOURS_PER_WEEK ? "hours that week" : r->unit == CF_SENDS_PER_DAY ? "sends that day"
                                                                                                   : "units at once";
    if (sev == CF_BLOCK) {
        o->message = cfx_fmt("%s holds %d %s; %lld are booked", r->name, r->capacity, unit, load);
        o->suggestion = cfx_fmt("reduce the quantities by %lld, or book another period or resource", load - r->capacity);
    } else {
        o->message = cfx_fmt("%s is at %lld of its %d %s", r->name, load, r->capacity, unit);
        o->suggestion = cfx_fmt("little room is left on %s in this window; plan a fallback", r->name);
    }
}

int cfx_rule_capacity(cx *c, int res, const int *g, size_t n)
{
    const cf_portfolio *p = c->p;
    const cf_resource *r = &p->resources[res];
    if (r->unit == CF_CONCURRENT) {
        /* The load rises only where a booking starts: the bookings still running there, and it. */
        int *active = malloc((n ? n : 1) * sizeof *active);
        if (!active) return -1;
        size_t na = 0;
        for (size_t i = 0; i < n; i++) {
            const cf_booking *b = &p->bookings[g[i]];
            size_t k = 0;
            long long load = b->quantity;
            cf_time until = b->end;
            for (size_t a = 0; a < na; a++)
                if (p->bookings[active[a]].end > b->start) {
                    active[k++] = active[a];
                    load += p->bookings[active[a]].quantity;
                    if (p->bookings[active[a]].end < until) until = p->bookings[active[a]].end;
                }
            na = k;
            active[na++] = g[i];
            if (na > 1) capacity_finding(c, res, active, na, load, 0, 0, b->start, until);
        }
        free(active);
        return 0;
    }
    int *byb = malloc((n ? n : 1) * sizeof *byb);
    if (!byb) return -1;
    memcpy(byb, g, n * sizeof *byb);
    qsort_r(byb, n, sizeof *byb, cmp_bucket_ctx, (void *)p->bookings);
    int days = r->unit == CF_HOURS_PER_WEEK ? 7 : 1;
    for (size_t i = 0, j; i < n; i = j) {
        long long load = 0;
        for (j = i; j < n && p->bookings[byb[j]].bucket == p->bookings[byb[i]].bucket; j++)
            load += p->bookings[byb[j]].quantity;
        capacity_finding(c, res, byb + i, j - i, load, days, p->bookings[byb[i]].bucket, 0, 0);
    }
    free(byb);
    return 0;
}

/* ---- availability and blackouts ---- */

void cfx_rule_unavailable(cx *c)
{
    const cf_portfolio *p = c->p;
    for (size_t u = 0; u < p->n_unavailability; u++) {
        const cf_unavailability *a = &p->unavailability[u];
        if (a->resource < 0 || (size_t)a->resource >= p->n_resources) continue;
        const cf_resource *r = &p->resources[a->resource];
        int blackout = strcmp(a->kind, "blackout") == 0 || r->kind != CF_PERSON;
        size_t first = c->res_first[a->resource], n = c->res_count[a->resource];
        for (size_t i = first; i < first + n && p->bookings[c->live[i]].start < a->end; i++) {
            const cf_booking *b = &p->bookings[c->live[i]];
            if (b->end <= a->start) continue;
            cf_finding f;
            cfx_init(&f, blackout ? CF_BLACKOUT : CF_PERSON_UNAVAILABLE, CF_BLOCK);
            cfx_ref(&f, CF_REF_BOOKING, c->live[i]);
            cfx_ref(&f, CF_REF_RESOURCE, a->resource);
            cfx_ref(&f, CF_REF_UNAVAILABILITY, (int)u);
            cfx_ref(&f, CF_REF_CAMPAIGN, b->campaign);
            cfx_window_time(&f, a->start > b->start ? a->start : b->start, a->end < b->end ? a->end : b->end);
            cf_finding *o = cfx_push(c, &f, NULL);
            if (!o) continue;
            if (blackout) o->message = cfx_fmt("%s is blacked out (%s) during the booking", r->name, a->kind);
            else o->message = cfx_fmt("%s is on %s during the booking", r->name, a->kind);
            o->suggestion = cfx_fmt("book %s outside this period, or another resource of the same kind", r->name);
        }
    }
}

void cfx_rule_blackout_events(cx *c)
{
    const cf_portfolio *p = c->p;
    for (size_t k = 0; k < p->n_blackouts; k++) {
        const cf_blackout *e = &p->blackouts[k];
        for (size_t i = 0; i < c->nlive; i++) {
            const cf_booking *b = &p->bookings[c->live[i]];
            if (b->start >= e->end || b->end <= e->start) continue;
            cf_finding f;
            cfx_init(&f, CF_BLACKOUT, CF_BLOCK);
            cfx_ref(&f, CF_REF_BOOKING, c->live[i]);
            cfx_ref(&f, CF_REF_BLACKOUT, (int)k);
            cfx_ref(&f, CF_REF_RESOURCE, b->resource);
            cfx_ref(&f, CF_REF_CAMPAIGN, b->campaign);
            cfx_window_time(&f, e->start > b->start ? e->start : b->start, e->end < b->end ? e->end : b->end);
            cf_finding *o = cfx_push(c, &f, NULL);
            if (!o) continue;
            char day[16];
            cf_day_format(e->end_day + 1, day);
            o->message = cfx_fmt("the booking falls in the blackout %s", e->name);
            o->suggestion = cfx_fmt("book from %s on, or before the blackout", day);
        }
        for (size_t i = 0; i < p->n_campaigns && !c->booking_only; i++) {
            const cf_campaign *m = &p->campaigns[i];
            if (!cfx_campaign_live(m) || m->start > e->end_day || m->end < e->start_day) continue;
            cf_finding f;
            cfx_init(&f, CF_BLACKOUT, CF_BLOCK);
            cfx_ref(&f, CF_REF_CAMPAIGN, (int)i);
            cfx_ref(&f, CF_REF_BLACKOUT, (int)k);
            cfx_window_days(&f, m->start > e->start_day ? m->start : e->start_day, m->end < e->end_day ? m->end : e->end_day);
            cf_finding *o = cfx_push(c, &f, NULL);
            if (!o) continue;
            char day[16];
            cf_day_format(e->end_day + 1, day);
            o->message = cfx_fmt("%s runs during the blackout %s", m->name, e->name);
            o->suggestion = cfx_fmt("start %s on %s or later, or end it before the blackout", m->name, day);
        }
    }
}

/* ---- frequency caps ---- */

static int cmp_start_ctx(const void *x, const void *y, void *arg)
{
    const cf_booking *b = arg;
    const cf_booking *u = &b[*(const int *)x], *v = &b[*(const int *)y];
    if (u->start != v->start) return u->start < v->start ? -1 : 1;
    return strcmp(u->id, v->id);
}

/* The sends (bookings, sorted by start) of one channel that reach segment t: those to t or an ancestor of it. */
static void saturation_segment(cx *c, int res, int t, const int *g, size_t n, int *list)
{
    const cf_portfolio *p = c->p;
    const cf_resource *r = &p->resources[res];
    int cap = r->cap_sends > 0 ? r->cap_sends : c->s->cap_sends;
    cf_time span = (cf_time)(r->cap_days > 0 ? r->cap_days : c->s->cap_days) * CF_DAY_SECONDS;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int s = p->bookings[g[i]].segment;
        if (s == t || cfx_seg_ancestor(p, s, t)) list[m++] = g[i];
    }
    int focus = c->q->focus_booking;
    for (size_t i = 0, j = 0; i < m;) {
        if (j < i) j = i;
        while (j < m && p->bookings[list[j]].start < p->bookings[list[i]].start + span) j++;
        int has_focus = 0;
        for (size_t k = i; k < j; k++) has_focus |= list[k] == focus;
        if ((long long)(j - i) <= cap || (focus >= 0 && !has_focus)) { i++; continue; }
        cf_finding f;
        cfx_init(&f, CF_CHANNEL_SATURATION, CF_WARN);
        cfx_ref(&f, CF_REF_RESOURCE, res);
        cfx_ref(&f, CF_REF_SEGMENT, t);
        add_bookings(c, &f, list + i, j - i);
        cfx_window_time(&f, p->bookings[list[i]].start, p->bookings[list[j - 1]].end);
        cf_finding *o = cfx_push(c, &f, NULL);
        if (o) {
            o->message = cfx_fmt("%zu sends reach %s on %s within %lld days; the cap is %d", j - i, p->segments[t].name,
                             r->name, span / CF_DAY_SECONDS, cap);
            /* move the lowest-priority campaign's send */
            size_t worst = i;
            for (size_t k = i; k < j; k++)
                if (p->campaigns[p->bookings[list[k]].campaign].priority <
                    p->campaigns[p->bookings[list[worst]].campaign].priority)
                    worst = k;
            const cf_booking *b = &p->bookings[list[worst]];
            int other = -1;
            for (size_t k = i; k < j; k++)
                if (p->bookings[list[k]].campaign != b->campaign) other = p->bookings[list[k]].campaign;
            if (other >= 0) cfx_name_move(c, o, b->campaign, other);
            if (o->move < 0) o->move = b->campaign;
            b = NULL;
            for (size_t k = i; k < j && !b; k++)
                if (p->bookings[list[k]].campaign == o->move) b = &p->bookings[list[k]];
            int shift = 0;
            for (int k = 1; k <= SUGGEST_WEEKS && !shift && b; k++)
                for (int sign = 1; sign >= -1 && !shift; sign -= 2) {
                    cf_time t0 = b->start + sign * 7 * k * CF_DAY_SECONDS;
                    long long near = 0;
                    for (size_t z = 0; z < m; z++) {
                        const cf_booking *o2 = &p->bookings[list[z]];
                        if (o2 != b && o2->start > t0 - span && o2->start < t0 + span) near++;
                    }
                    if (near < cap) shift = sign * k;
                }
            if (shift && b) {
                char when[32];
                cf_time_format(b->start + shift * 7 * CF_DAY_SECONDS, when);
                o->suggestion = cfx_fmt("move %s's send to %s (%d week%s %s): %s is under its cap then",
                                    p->campaigns[o->move].name, when, shift < 0 ? -shift : shift,
                                    shift == 1 || shift == -1 ? "" : "s", shift < 0 ? "earlier" : "later",
                                    p->segments[t].name);
            } else {
                o->suggestion = cfx_fmt("drop one send to %s on %s in this window", p->segments[t].name, r->name);
            }
        }
        if (focus >= 0) return;
        i = j;
    }
}

int cfx_rule_saturation(cx *c, int res, const int *g, size_t n)
{
    const cf_portfolio *p = c->p;
    int *sends = malloc((n ? n : 1) * sizeof *sends), *list = malloc((n ? n : 1) * sizeof *list);
    if (!sends || !list) { free(sends); free(list); return -1; }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (p->bookings[g[i]].segment >= 0) sends[m++] = g[i];
    qsort_r(sends, m, sizeof *sends, cmp_start_ctx, (void *)p->bookings);
    /* each segment a send reaches directly, once */
    for (size_t i = 0; i < m; i++) {
        int t = p->bookings[sends[i]].segment, seen = 0;
        for (size_t k = 0; k < i && !seen; k++) seen = p->bookings[sends[k]].segment == t;
        if (!seen) saturation_segment(c, res, t, sends, m, list);
    }
    free(sends);
    free(list);
    return 0;
}

/* ---- free periods for blocked bookings ---- */

/* The nearest free periods of the booking's length on resource res before and after b (bookings of res in
 * live[first, first + n), sorted by start; unavailability of res counts as taken). */
static void free_periods(cx *c, cf_finding *o, const cf_booking *b, int res)
{
    const cf_portfolio *p = c->p;
    const cf_resource *r = &p->resources[res];
    if (!(r->unit == CF_CONCURRENT && r->capacity == 1)) return; /* capacity by bucket: quantities, not periods */
    cf_time len = b->end - b->start;
    size_t first = c->res_first[res], n = c->res_count[res];
    /* taken: the other bookings and the unavailability, tested one candidate at a time */
    for (int dir = 1; dir >= -1 && o->nfree < CF_MAX_FREE; dir -= 2) {
        cf_time t = b->start;
        for (int step = 0; step < 500; step++) {
            cf_time moved_to = -1;
            for (size_t i = first; i < first + n; i++) {
                const cf_booking *x = &p->bookings[c->live[i]];
                if (x == b || x->start >= t + len || x->end <= t) continue;
                cf_time cand = dir > 0 ? x->end : x->start - len;
                if (moved_to < 0 || (dir > 0 ? cand > moved_to : cand < moved_to)) moved_to = cand;
            }
            for (size_t u = 0; u < p->n_unavailability; u++) {
                const cf_unavailability *a = &p->unavailability[u];
                if (a->resource != res || a->start >= t + len || a->end <= t) continue;
                cf_time cand = dir > 0 ? a->end : a->start - len;
                if (moved_to < 0 || (dir > 0 ? cand > moved_to : cand < moved_to)) moved_to = cand;
            }
            for (size_t k = 0; k < p->n_blackouts; k++) {
                const cf_blackout *e = &p->blackouts[k];
                if (e->start >= t + len || e->end <= t) continue;
                cf_time cand = dir > 0 ? e->end : e->start - len;
                if (moved_to < 0 || (dir > 0 ? cand > moved_to : cand < moved_to)) moved_to = cand;
            }
            if (moved_to < 0) {
                const cf_scope *q = c->q;
                int known = q->horizon_from == q->horizon_to || (t >= q->horizon_from && t + len <= q->horizon_to);
                if (t != b->start && known) o->free[o->nfree++] = (cf_free){res, t, t + len};
                break;
            }
            t = moved_to;
        }
    }
}

static int refers_unavailability(const cf_finding *f)
{
    for (int i = 0; i < f->nrefs; i++)
        if (f->refs[i].kind == CF_REF_UNAVAILABILITY) return 1;
    return 0;
}

void cfx_suggest_free(cx *c)
{
    int fb = c->q->focus_booking;
    if (fb < 0) return;
    const cf_booking *b = &c->p->bookings[fb];
    for (size_t i = 0; i < c->r->n; i++) {
        cf_finding *o = &c->r->items[i];
        if (o->severity != CF_BLOCK || (o->type != CF_RESOURCE_DOUBLE_BOOKED && o->type != CF_PERSON_UNAVAILABLE &&
                                        o->type != CF_BLACKOUT))
            continue;
        free_periods(c, o, b, b->resource);
        if (o->type == CF_BLACKOUT && !refers_unavailability(o)) continue; /* every resource is blacked out */
        for (size_t k = 0; k < c->q->n_alternatives && o->nfree < CF_MAX_FREE; k++)
            o->free[o->nfree++] = (cf_free){c->q->alternatives[k], b->start, b->end};
    }
}
