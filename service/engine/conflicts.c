/* conflicts.c — see conflicts.h. Each rule is one function over the portfolio;
 * push() keeps what the scope asks for (the findings of a focus, or those whose
 * window meets the scan's) before any message is written. */
#define _GNU_SOURCE
#include "conflicts.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cf_type_names[] = {
    "resource_double_booked", "capacity_exceeded", "person_unavailable", "audience_overlap", "channel_saturation",
    "contradictory_offer",    "budget_overrun",    "blackout",           "unapproved_launch", "unmitigated_critical_risk",
    NULL};
const char *const cf_severity_names[] = {"warn", "block", NULL};
const char *const cf_forceable_names[] = {"budget_overrun", "blackout", NULL};

#define SUGGEST_WEEKS 12 /* how far a suggested move looks, each way */

void cf_settings_default(cf_settings *s)
{
    memset(s, 0, sizeof *s);
    s->overlap_window_days = 7;
    s->overlap_ratio = 3000;
    s->cap_sends = 2;
    s->cap_days = 7;
    s->budget_warn_pct = 80;
    s->budget_block_pct = 100;
    s->capacity_warn_pct = 90;
    s->unapproved_horizon_days = 5;
    s->weights[0] = 30;
    s->weights[1] = 25;
    s->weights[2] = 20;
    s->weights[3] = 25;
    s->forceable = 1u << CF_BUDGET_OVERRUN | 1u << CF_BLACKOUT;
}

int cf_priority_score(const int scores_tenths[4], const int weights[4])
{
    long long num = 0, den = 0;
    for (int i = 0; i < 4; i++) {
        num += (long long)scores_tenths[i] * weights[i];
        den += weights[i];
    }
    if (den <= 0) return -1;
    /* Σ w·s / Σ w is 0–10 in tenths; ×10 gives 0–100 in tenths, rounded half up. */
    return (int)((num * 10 + den / 2) / den);
}

/* ---- dates ---- */

cf_day cf_day_parse(const char *s, int *ok)
{
    int y, m, d;
    char tail;
    *ok = s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12 &&
          d >= 1 && d <= 31;
    if (!*ok) return 0;
    /* days from civil (proleptic Gregorian) */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

void cf_day_format(cf_day z, char out[16])
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, 16, "%04d-%02u-%02u", y + (m <= 2), m, d);
}

void cf_time_format(cf_time t, char out[32])
{
    cf_day d = (cf_day)(t >= 0 ? t / CF_DAY_SECONDS : -((-t + CF_DAY_SECONDS - 1) / CF_DAY_SECONDS));
    long long s = t - (long long)d * CF_DAY_SECONDS;
    char day[16];
    cf_day_format(d, day);
    snprintf(out, 32, "%sT%02lld:%02lld:%02lldZ", day, s / 3600, s / 60 % 60, s % 60);
}

/* ---- the run's context ---- */

typedef struct ovl {
    int a, b, ratio; /* a < b */
} ovl;

typedef struct cx {
    const cf_portfolio *p;
    const cf_settings *s;
    const cf_scope *q;
    cf_result *r;
    ovl *ovls; /* declared overlaps, sorted by (a, b) */
    size_t novls;
    int *live;  /* indexes of the live bookings, sorted by (resource, start, end, id) */
    size_t nlive;
    size_t *res_first, *res_count; /* per resource: its run in live */
    int **rivals;     /* per campaign, computed on first use: the live campaigns whose audience overlaps its own */
    size_t *nrivals;
} cx;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

static int booking_live(const cf_booking *b) { return !b->status || strcmp(b->status, "cancelled") != 0; }

static int campaign_live(const cf_campaign *c)
{
    return strcmp(c->status, "cancelled") != 0 && strcmp(c->status, "completed") != 0;
}

static void money_format(cf_money m, const char *currency, char out[48])
{
    const char *sign = m < 0 ? "-" : "";
    unsigned long long u = m < 0 ? (unsigned long long)(-(m + 1)) + 1 : (unsigned long long)m;
    snprintf(out, 48, "%s%llu.%02llu %s", sign, u / 100, u % 100, currency ? currency : "");
}

/* ---- segments ---- */

static int ovl_cmp(const void *x, const void *y)
{
    const ovl *a = x, *b = y;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

/* Whether segment anc is a strict ancestor of seg (a bounded walk: the schema forbids cycles). */
static int seg_ancestor(const cf_portfolio *p, int anc, int seg)
{
    for (int depth = 0; seg >= 0 && (size_t)seg < p->n_segments && depth < 64; depth++) {
        seg = p->segments[seg].parent;
        if (seg == anc) return 1;
    }
    return 0;
}

/* The overlap of two segments in basis points: whole for the same segment or an ancestor, else declared. */
static int seg_ratio(const cx *c, int a, int b)
{
    if (a == b || seg_ancestor(c->p, a, b) || seg_ancestor(c->p, b, a)) return CF_RATIO_ONE;
    ovl key = {a < b ? a : b, a < b ? b : a, 0};
    ovl *hit = bsearch(&key, c->ovls, c->novls, sizeof *c->ovls, ovl_cmp);
    return hit ? hit->ratio : 0;
}

/* The best overlap between the audiences of two campaigns (*sa, *sb: the segments that give it). */
static int audience_ratio(const cx *c, const cf_campaign *x, const cf_campaign *y, int *sa, int *sb)
{
    int best = 0;
    *sa = *sb = -1;
    for (size_t i = 0; i < x->n_segments; i++)
        for (size_t j = 0; j < y->n_segments; j++) {
            int r = seg_ratio(c, x->segments[i], y->segments[j]);
            if (r > best) { best = r; *sa = x->segments[i]; *sb = y->segments[j]; }
        }
    return best;
}

/* ---- findings ---- */

static void ref(cf_finding *f, cf_ref_kind kind, int index)
{
    if (index < 0 || f->nrefs >= CF_MAX_REFS) return;
    for (int i = 0; i < f->nrefs; i++)
        if (f->refs[i].kind == kind && f->refs[i].index == index) return;
    f->refs[f->nrefs++] = (cf_ref){kind, index};
}

static void init(cf_finding *f, cf_type type, cf_severity sev)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    f->severity = sev;
    f->move = -1;
}

static void window_days(cf_finding *f, cf_day a, cf_day b)
{
    f->in_days = 1;
    f->start_day = a;
    f->end_day = b;
}

static void window_time(cf_finding *f, cf_time a, cf_time b)
{
    f->in_days = 0;
    f->start = a;
    f->end = b;
}

static const char *ref_id(const cf_portfolio *p, cf_ref r)
{
    switch (r.kind) {
    case CF_REF_CAMPAIGN: return p->campaigns[r.index].id;
    case CF_REF_BOOKING: return p->bookings[r.index].id;
    case CF_REF_RESOURCE: return p->resources[r.index].id;
    case CF_REF_SEGMENT: return p->segments[r.index].id;
    case CF_REF_UNAVAILABILITY: return p->unavailability[r.index].id;
    case CF_REF_BLACKOUT: return p->blackouts[r.index].id;
    case CF_REF_RISK: return p->risks[r.index].id;
    }
    return "";
}

/* Whether the scope asks for f: it involves the focus, or (a scan) its window meets [from, to). */
static int wanted(const cx *c, const cf_finding *f)
{
    const cf_scope *q = c->q;
    if (q->focus_campaign >= 0 || q->focus_booking >= 0) {
        for (int i = 0; i < f->nrefs; i++) {
            cf_ref r = f->refs[i];
            if (r.kind == CF_REF_BOOKING && r.index == q->focus_booking) return 1;
            if (r.kind == CF_REF_CAMPAIGN && r.index == q->focus_campaign) return 1;
        }
        return 0;
    }
    if (f->in_days) return f->start_day < q->to_day && f->end_day >= q->from_day;
    return f->start < q->to && f->end > q->from;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Appends a copy of f when the scope wants it, with its key (the type, extra and the ids of its refs hashed)
 * and order; returns it for its messages, or NULL (not wanted, or out of memory: r->oom). */
static cf_finding *push(cx *c, const cf_finding *f, const char *extra)
{
    if (!wanted(c, f)) return NULL;
    cf_result *r = c->r;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        cf_finding *items = realloc(r->items, cap * sizeof *items);
        if (!items) { r->oom = 1; return NULL; }
        r->items = items;
        r->cap = cap;
    }
    cf_finding *out = &r->items[r->n++];
    *out = *f;
    /* two FNV-1a hashes of the type, the ids (in id order: a focus listed first changes nothing) and extra,
     * written as a UUID: the finding's stable id */
    const char *ids[CF_MAX_REFS];
    for (int i = 0; i < out->nrefs; i++) ids[i] = ref_id(c->p, out->refs[i]);
    qsort(ids, (size_t)out->nrefs, sizeof ids[0], cmp_str);
    uint64_t h[2] = {1469598103934665603ULL, 1469598103934665603ULL ^ 0x9E3779B97F4A7C15ULL};
    for (int k = 0; k < 2; k++) {
        const char *t = cf_type_names[out->type];
        for (; *t; t++) h[k] = (h[k] ^ (unsigned char)*t) * 1099511628211ULL;
        for (int i = 0; i <= out->nrefs; i++) {
            const char *s = i < out->nrefs ? ids[i] : (extra ? extra : "");
            for (; s && *s; s++) h[k] = (h[k] ^ (unsigned char)*s) * 1099511628211ULL;
            h[k] = (h[k] ^ (unsigned char)('|' + k)) * 1099511628211ULL;
        }
    }
    snprintf(out->key, sizeof out->key, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(h[0] >> 32),
             (unsigned long long)(h[0] >> 16 & 0xffff), (unsigned long long)(h[0] & 0xffff),
             (unsigned long long)(h[1] >> 48), (unsigned long long)(h[1] & 0xffffffffffffULL));
    out->order = out->in_days ? (long long)out->start_day * CF_DAY_SECONDS : out->start;
    return out;
}

/* The campaign to move of two (the lower priority score; a campaign not scored counts lowest; on a tie the
 * one that starts later), and why, into f. */
static void name_move(cx *c, cf_finding *f, int a, int b)
{
    const cf_campaign *x = &c->p->campaigns[a], *y = &c->p->campaigns[b];
    int move = x->priority < y->priority ? a : y->priority < x->priority ? b : x->start > y->start ? a : b;
    int keep = move == a ? b : a;
    const cf_campaign *m = &c->p->campaigns[move], *k = &c->p->campaigns[keep];
    f->move = move;
    if (m->priority == k->priority)
        f->why_move = fmt("both have the same priority%s; %s starts later", m->priority < 0 ? " (not scored)" : "",
                          m->name);
    else if (m->priority < 0)
        f->why_move = fmt("%s has no priority score; %s scores %d.%d", m->name, k->name, k->priority / 10,
                          k->priority % 10);
    else
        f->why_move = fmt("%s scores %d.%d, below %s's %d.%d", m->name, m->priority / 10, m->priority % 10, k->name,
                          k->priority / 10, k->priority % 10);
}

/* ---- bookings against their resource: double booking and capacity ---- */

static void add_bookings(cx *c, cf_finding *f, const int *idx, size_t n)
{
    int focus = c->q->focus_booking;
    for (size_t i = 0; i < n; i++)
        if (idx[i] == focus) ref(f, CF_REF_BOOKING, focus);
    for (size_t i = 0; i < n; i++) ref(f, CF_REF_BOOKING, idx[i]);
    for (size_t i = 0; i < n; i++) ref(f, CF_REF_CAMPAIGN, c->p->bookings[idx[i]].campaign);
}

static void rule_double_booked(cx *c, int res, const int *g, size_t n)
{
    const cf_portfolio *p = c->p;
    for (size_t i = 0; i < n; i++) {
        const cf_booking *a = &p->bookings[g[i]];
        for (size_t j = i + 1; j < n && p->bookings[g[j]].start < a->end; j++) {
            const cf_booking *b = &p->bookings[g[j]];
            cf_finding f;
            init(&f, CF_RESOURCE_DOUBLE_BOOKED, CF_BLOCK);
            ref(&f, CF_REF_RESOURCE, res);
            int pair[2] = {g[i], g[j]};
            add_bookings(c, &f, pair, 2);
            window_time(&f, b->start, a->end < b->end ? a->end : b->end);
            cf_finding *o = push(c, &f, NULL);
            if (!o) continue;
            o->message = fmt("%s is exclusive and two bookings hold it at once", p->resources[res].name);
            o->suggestion = fmt("move or cancel one of the two bookings; the free periods nearest to it are listed");
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
    init(&f, CF_CAPACITY_EXCEEDED, sev);
    ref(&f, CF_REF_RESOURCE, res);
    add_bookings(c, &f, idx, n);
    if (days) window_days(&f, d0, d0 + days - 1);
    else window_time(&f, t0, t1);
    cf_finding *o = push(c, &f, NULL);
    if (!o) return;
    const char *unit = r->unit == CF_HOURS_PER_WEEK ? "hours that week" : r->unit == CF_SENDS_PER_DAY ? "sends that day"
                                                                                                   : "units at once";
    if (sev == CF_BLOCK) {
        o->message = fmt("%s holds %d %s; %lld are booked", r->name, r->capacity, unit, load);
        o->suggestion = fmt("reduce the quantities by %lld, or book another period or resource", load - r->capacity);
    } else {
        o->message = fmt("%s is at %lld of its %d %s", r->name, load, r->capacity, unit);
        o->suggestion = fmt("little room is left on %s in this window; plan a fallback", r->name);
    }
}

static int rule_capacity(cx *c, int res, const int *g, size_t n)
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

static void rule_unavailable(cx *c)
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
            init(&f, blackout ? CF_BLACKOUT : CF_PERSON_UNAVAILABLE, CF_BLOCK);
            ref(&f, CF_REF_BOOKING, c->live[i]);
            ref(&f, CF_REF_RESOURCE, a->resource);
            ref(&f, CF_REF_UNAVAILABILITY, (int)u);
            ref(&f, CF_REF_CAMPAIGN, b->campaign);
            window_time(&f, a->start > b->start ? a->start : b->start, a->end < b->end ? a->end : b->end);
            cf_finding *o = push(c, &f, NULL);
            if (!o) continue;
            if (blackout) o->message = fmt("%s is blacked out (%s) during the booking", r->name, a->kind);
            else o->message = fmt("%s is on %s during the booking", r->name, a->kind);
            o->suggestion = fmt("book %s outside this period, or another resource of the same kind", r->name);
        }
    }
}

static void rule_blackout_events(cx *c)
{
    const cf_portfolio *p = c->p;
    for (size_t k = 0; k < p->n_blackouts; k++) {
        const cf_blackout *e = &p->blackouts[k];
        for (size_t i = 0; i < c->nlive; i++) {
            const cf_booking *b = &p->bookings[c->live[i]];
            if (b->start >= e->end || b->end <= e->start) continue;
            cf_finding f;
            init(&f, CF_BLACKOUT, CF_BLOCK);
            ref(&f, CF_REF_BOOKING, c->live[i]);
            ref(&f, CF_REF_BLACKOUT, (int)k);
            ref(&f, CF_REF_RESOURCE, b->resource);
            ref(&f, CF_REF_CAMPAIGN, b->campaign);
            window_time(&f, e->start > b->start ? e->start : b->start, e->end < b->end ? e->end : b->end);
            cf_finding *o = push(c, &f, NULL);
            if (!o) continue;
            char day[16];
            cf_day_format(e->end_day + 1, day);
            o->message = fmt("the booking falls in the blackout %s", e->name);
            o->suggestion = fmt("book from %s on, or before the blackout", day);
        }
        for (size_t i = 0; i < p->n_campaigns; i++) {
            const cf_campaign *m = &p->campaigns[i];
            if (!campaign_live(m) || m->start > e->end_day || m->end < e->start_day) continue;
            cf_finding f;
            init(&f, CF_BLACKOUT, CF_BLOCK);
            ref(&f, CF_REF_CAMPAIGN, (int)i);
            ref(&f, CF_REF_BLACKOUT, (int)k);
            window_days(&f, m->start > e->start_day ? m->start : e->start_day, m->end < e->end_day ? m->end : e->end_day);
            cf_finding *o = push(c, &f, NULL);
            if (!o) continue;
            char day[16];
            cf_day_format(e->end_day + 1, day);
            o->message = fmt("%s runs during the blackout %s", m->name, e->name);
            o->suggestion = fmt("start %s on %s or later, or end it before the blackout", m->name, day);
        }
    }
}

/* ---- audiences ---- */

static int cmp_campaign_start_ctx(const void *x, const void *y, void *arg)
{
    const cf_campaign *cs = arg;
    const cf_campaign *u = &cs[*(const int *)x], *v = &cs[*(const int *)y];
    if (u->start != v->start) return u->start < v->start ? -1 : 1;
    return strcmp(u->id, v->id);
}

/* Whether two day ranges come within w days of each other. */
static int within(cf_day s1, cf_day e1, cf_day s2, cf_day e2, int w)
{
    return s2 - e1 < w && s1 - e2 < w;
}

/* The live campaigns whose audience overlaps campaign m's (at least the settings' ratio), computed once per
 * campaign and run; NULL out of memory. */
static const int *rivals_of(cx *c, int m, size_t *n)
{
    const cf_portfolio *p = c->p;
    if (!c->rivals && (!(c->rivals = calloc(p->n_campaigns, sizeof *c->rivals)) ||
                       !(c->nrivals = calloc(p->n_campaigns, sizeof *c->nrivals)))) {
        free(c->rivals);
        c->rivals = NULL;
        return NULL;
    }
    if (!c->rivals[m]) {
        int *list = malloc((p->n_campaigns ? p->n_campaigns : 1) * sizeof *list), sa, sb;
        if (!list) return NULL;
        size_t k = 0;
        for (size_t i = 0; i < p->n_campaigns; i++)
            if ((int)i != m && campaign_live(&p->campaigns[i]) &&
                audience_ratio(c, &p->campaigns[m], &p->campaigns[i], &sa, &sb) >= c->s->overlap_ratio)
                list[k++] = (int)i;
        c->rivals[m] = list;
        c->nrivals[m] = k;
    }
    *n = c->nrivals[m];
    return c->rivals[m];
}

/* The nearest shift in weeks (+1, -1, +2, …) that clears campaign m of every live campaign whose audience
 * overlaps its own; 0 when none within SUGGEST_WEEKS. */
static int clear_shift(cx *c, int m)
{
    const cf_portfolio *p = c->p;
    const cf_campaign *x = &p->campaigns[m];
    int w = c->s->overlap_window_days;
    size_t nr;
    const int *rivals = rivals_of(c, m, &nr);
    if (!rivals) return 0;
    for (int k = 1; k <= SUGGEST_WEEKS; k++)
        for (int sign = 1; sign >= -1; sign -= 2) {
            int d = sign * 7 * k, clear = 1;
            for (size_t i = 0; i < nr && clear; i++) {
                const cf_campaign *y = &p->campaigns[rivals[i]];
                if (within(x->start + d, x->end + d, y->start, y->end, w)) clear = 0;
            }
            if (clear) return sign * k;
        }
    return 0;
}

static void suggest_shift(cx *c, cf_finding *o, const char *what)
{
    const cf_campaign *m = &c->p->campaigns[o->move];
    int k = clear_shift(c, o->move);
    if (!k) {
        o->suggestion = fmt("no week within %d weeks clears %s's audience; narrow its segments or merge the %s",
                            SUGGEST_WEEKS, m->name, what);
        return;
    }
    char day[16];
    cf_day_format(m->start + 7 * k, day);
    o->suggestion = fmt("move %s %d week%s %s, to start on %s: its audience is clear then", m->name, k < 0 ? -k : k,
                        k == 1 || k == -1 ? "" : "s", k < 0 ? "earlier" : "later", day);
}

static void audience_pair(cx *c, int a, int b)
{
    const cf_portfolio *p = c->p;
    const cf_campaign *x = &p->campaigns[a], *y = &p->campaigns[b];
    int sa, sb;
    int ratio = audience_ratio(c, x, y, &sa, &sb);
    if (ratio < c->s->overlap_ratio || ratio == 0) return;
    cf_finding f;
    init(&f, CF_AUDIENCE_OVERLAP, CF_WARN);
    int lo = strcmp(x->id, y->id) < 0 ? a : b, hi = lo == a ? b : a;
    ref(&f, CF_REF_CAMPAIGN, lo);
    ref(&f, CF_REF_CAMPAIGN, hi);
    ref(&f, CF_REF_SEGMENT, lo == a ? sa : sb);
    ref(&f, CF_REF_SEGMENT, lo == a ? sb : sa);
    const cf_campaign *e = x->start <= y->start ? x : y, *l = e == x ? y : x;
    if (l->start <= e->end) window_days(&f, l->start, e->end < l->end ? e->end : l->end);
    else window_days(&f, e->end, l->start);
    cf_finding *o = push(c, &f, NULL);
    if (!o) return;
    const char *na = p->segments[sa].name, *nb = p->segments[sb].name;
    if (sa == sb)
        o->message = fmt("%s and %s both reach %s within %d days", x->name, y->name, na, c->s->overlap_window_days);
    else
        o->message = fmt("%s reaches %s and %s reaches %s (overlap %d %%) within %d days", x->name, na, y->name, nb,
                         ratio / 100, c->s->overlap_window_days);
    name_move(c, o, a, b);
    suggest_shift(c, o, "campaigns");
}

static void rule_audience(cx *c)
{
    const cf_portfolio *p = c->p;
    int w = c->s->overlap_window_days, focus = c->q->focus_campaign;
    if (focus >= 0) {
        if (!campaign_live(&p->campaigns[focus])) return;
        for (size_t i = 0; i < p->n_campaigns; i++) {
            const cf_campaign *y = &p->campaigns[i];
            if ((int)i != focus && campaign_live(y) &&
                within(p->campaigns[focus].start, p->campaigns[focus].end, y->start, y->end, w))
                audience_pair(c, focus, (int)i);
        }
        return;
    }
    int *order = malloc((p->n_campaigns ? p->n_campaigns : 1) * sizeof *order);
    int *active = malloc((p->n_campaigns ? p->n_campaigns : 1) * sizeof *active);
    if (!order || !active) { c->r->oom = 1; goto out; }
    size_t n = 0, na = 0;
    for (size_t i = 0; i < p->n_campaigns; i++)
        if (campaign_live(&p->campaigns[i]) && p->campaigns[i].n_segments) order[n++] = (int)i;
    qsort_r(order, n, sizeof *order, cmp_campaign_start_ctx, (void *)p->campaigns);
    for (size_t j = 0; j < n; j++) {
        const cf_campaign *y = &p->campaigns[order[j]];
        size_t k = 0;
        for (size_t a = 0; a < na; a++)
            if (y->start - p->campaigns[active[a]].end < w) active[k++] = active[a];
        na = k;
        for (size_t a = 0; a < na; a++) audience_pair(c, active[a], order[j]);
        active[na++] = order[j];
    }
out:
    free(order);
    free(active);
}

/* ---- offers ---- */

static int text_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static void rule_offers(cx *c)
{
    const cf_portfolio *p = c->p;
    int focus = c->q->focus_campaign;
    for (size_t i = 0; i < p->n_campaigns; i++) {
        const cf_campaign *x = &p->campaigns[i];
        if (!x->offer_code || !campaign_live(x)) continue;
        for (size_t j = i + 1; j < p->n_campaigns; j++) {
            const cf_campaign *y = &p->campaigns[j];
            if (focus >= 0 && (int)i != focus && (int)j != focus) continue;
            if (!y->offer_code || !campaign_live(y) || strcasecmp(x->offer_code, y->offer_code) != 0) continue;
            if (x->start > y->end || y->start > x->end) continue;
            if (!text_differs(x->offer_terms, y->offer_terms) &&
                !text_differs(x->offer_description, y->offer_description))
                continue;
            int sa = -1, sb = -1;
            if (x->n_segments && y->n_segments && audience_ratio(c, x, y, &sa, &sb) < c->s->overlap_ratio) continue;
            cf_finding f;
            init(&f, CF_CONTRADICTORY_OFFER, CF_WARN);
            int lo = strcmp(x->id, y->id) < 0 ? (int)i : (int)j;
            ref(&f, CF_REF_CAMPAIGN, lo);
            ref(&f, CF_REF_CAMPAIGN, lo == (int)i ? (int)j : (int)i);
            ref(&f, CF_REF_SEGMENT, sa);
            ref(&f, CF_REF_SEGMENT, sb);
            window_days(&f, x->start > y->start ? x->start : y->start, x->end < y->end ? x->end : y->end);
            cf_finding *o = push(c, &f, NULL);
            if (!o) continue;
            const char *tx = x->offer_terms ? x->offer_terms : x->offer_description;
            const char *ty = y->offer_terms ? y->offer_terms : y->offer_description;
            o->message = fmt("%s says \"%s\" and %s says \"%s\" for offer %s at the same time", x->name,
                             tx ? tx : "(no terms)", y->name, ty ? ty : "(no terms)", x->offer_code);
            name_move(c, o, (int)i, (int)j);
            o->suggestion = fmt("align the terms of offer %s in both campaigns, or give %s its own offer code",
                                x->offer_code, p->campaigns[o->move].name);
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
        if (s == t || seg_ancestor(p, s, t)) list[m++] = g[i];
    }
    int focus = c->q->focus_booking;
    for (size_t i = 0, j = 0; i < m;) {
        if (j < i) j = i;
        while (j < m && p->bookings[list[j]].start < p->bookings[list[i]].start + span) j++;
        int has_focus = 0;
        for (size_t k = i; k < j; k++) has_focus |= list[k] == focus;
        if ((long long)(j - i) <= cap || (focus >= 0 && !has_focus)) { i++; continue; }
        cf_finding f;
        init(&f, CF_CHANNEL_SATURATION, CF_WARN);
        ref(&f, CF_REF_RESOURCE, res);
        ref(&f, CF_REF_SEGMENT, t);
        add_bookings(c, &f, list + i, j - i);
        window_time(&f, p->bookings[list[i]].start, p->bookings[list[j - 1]].end);
        cf_finding *o = push(c, &f, NULL);
        if (o) {
            o->message = fmt("%zu sends reach %s on %s within %lld days; the cap is %d", j - i, p->segments[t].name,
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
            if (other >= 0) name_move(c, o, b->campaign, other);
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
                o->suggestion = fmt("move %s's send to %s (%d week%s %s): %s is under its cap then",
                                    p->campaigns[o->move].name, when, shift < 0 ? -shift : shift,
                                    shift == 1 || shift == -1 ? "" : "s", shift < 0 ? "earlier" : "later",
                                    p->segments[t].name);
            } else {
                o->suggestion = fmt("drop one send to %s on %s in this window", p->segments[t].name, r->name);
            }
        }
        if (focus >= 0) return;
        i = j;
    }
}

static int rule_saturation(cx *c, int res, const int *g, size_t n)
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

/* ---- budgets ---- */

/* The severity of spending total against budget: 1 warn, 2 block, 0 neither (nothing spent or committed). */
static int budget_level(const cx *c, cf_money total, cf_money budget)
{
    if (total <= 0) return 0;
    __int128 t = (__int128)total * 100;
    if (t > (__int128)budget * c->s->budget_block_pct) return 2;
    if (t >= (__int128)budget * c->s->budget_warn_pct) return 1;
    return 0;
}

static void budget_finding(cx *c, int camp, int level, const char *channel, cf_money spent, cf_money budget,
                           cf_money committed)
{
    const cf_campaign *m = &c->p->campaigns[camp];
    cf_finding f;
    init(&f, CF_BUDGET_OVERRUN, level == 2 ? CF_BLOCK : CF_WARN);
    ref(&f, CF_REF_CAMPAIGN, camp);
    int fb = c->q->focus_booking;
    if (fb >= 0 && c->p->bookings[fb].campaign == camp) ref(&f, CF_REF_BOOKING, fb);
    window_days(&f, m->start, m->end);
    cf_finding *o = push(c, &f, channel);
    if (!o) return;
    char s[48], b[48], d[48], k[48];
    money_format(spent, m->currency, s);
    money_format(budget, m->currency, b);
    money_format(spent > budget ? spent - budget : budget - spent, m->currency, d);
    money_format(committed, m->currency, k);
    int pct = budget > 0 ? (int)((__int128)spent * 100 / budget) : 100;
    if (channel)
        o->message = fmt("%s has spent %s on %s, %d %% of its channel budget of %s", m->name, s, channel, pct, b);
    else
        o->message = fmt("%s has %s committed and spent (%s in bookings), %d %% of its budget of %s", m->name, s, k,
                         pct, b);
    if (level == 2)
        o->suggestion = fmt("raise the %sbudget by at least %s, or cancel bookings worth as much", channel ? "channel " : "",
                            d);
    else
        o->suggestion = fmt("%s of the %sbudget is left; check the remaining plan fits", d, channel ? "channel " : "");
}

static int rule_budgets(cx *c)
{
    const cf_portfolio *p = c->p;
    cf_money *committed = calloc(p->n_campaigns ? p->n_campaigns : 1, sizeof *committed);
    if (!committed) return -1;
    for (size_t i = 0; i < c->nlive; i++) {
        const cf_booking *b = &p->bookings[c->live[i]];
        const cf_campaign *m = &p->campaigns[b->campaign];
        if (p->resources[b->resource].kind == CF_BUDGET_POOL) continue; /* drawn on the pool, not spent */
        if (!b->counted && b->cost_currency && m->currency && strcmp(b->cost_currency, m->currency) == 0)
            committed[b->campaign] += b->cost;
    }
    for (size_t i = 0; i < p->n_campaigns; i++) {
        const cf_campaign *m = &p->campaigns[i];
        if (!m->currency || !campaign_live(m)) continue;
        cf_money booked = m->committed + committed[i], total = booked + m->actual_spend;
        int level = budget_level(c, total, m->budget);
        if (level) budget_finding(c, (int)i, level, NULL, total, m->budget, booked);
        for (size_t k = 0; k < m->n_channel_budgets; k++) {
            const cf_amount *cb = &m->channel_budgets[k];
            cf_money spent = 0;
            for (size_t s = 0; s < m->n_channel_spend; s++)
                if (strcmp(m->channel_spend[s].channel, cb->channel) == 0) spent += m->channel_spend[s].amount;
            level = budget_level(c, spent, cb->amount);
            if (level) budget_finding(c, (int)i, level, cb->channel, spent, cb->amount, 0);
        }
    }
    free(committed);
    /* budget pools: the budgets of the live campaigns holding a live booking on the pool, against
     * capacity × cost per unit */
    int *members = malloc((p->n_campaigns ? p->n_campaigns : 1) * sizeof *members);
    if (!members) return -1;
    for (size_t r = 0; r < p->n_resources; r++) {
        const cf_resource *pool = &p->resources[r];
        if (pool->kind != CF_BUDGET_POOL || !pool->cost_currency) continue;
        size_t first = c->res_first[r], n = c->res_count[r], nm = 0;
        cf_money sum = 0;
        cf_time t0 = 0, t1 = 0;
        for (size_t i = first; i < first + n; i++) {
            const cf_booking *b = &p->bookings[c->live[i]];
            const cf_campaign *m = &p->campaigns[b->campaign];
            if (i == first || b->start < t0) t0 = b->start;
            if (i == first || b->end > t1) t1 = b->end;
            int seen = 0;
            for (size_t k = 0; k < nm && !seen; k++) seen = members[k] == b->campaign;
            if (seen || !campaign_live(m) || !m->currency || strcmp(m->currency, pool->cost_currency) != 0) continue;
            members[nm++] = b->campaign;
            sum += m->budget;
        }
        cf_money amount = pool->cost_per_unit * pool->capacity;
        int level = budget_level(c, sum, amount);
        if (!level) continue;
        cf_finding f;
        init(&f, CF_BUDGET_OVERRUN, level == 2 ? CF_BLOCK : CF_WARN);
        ref(&f, CF_REF_RESOURCE, (int)r);
        int fb = c->q->focus_booking, fc = c->q->focus_campaign;
        if (fb >= 0 && p->bookings[fb].resource == (int)r) ref(&f, CF_REF_BOOKING, fb);
        for (size_t k = 0; k < nm; k++)
            if (members[k] == fc) ref(&f, CF_REF_CAMPAIGN, fc);
        for (size_t k = 0; k < nm; k++) ref(&f, CF_REF_CAMPAIGN, members[k]);
        window_time(&f, t0, t1);
        cf_finding *o = push(c, &f, "pool");
        if (!o) continue;
        char s[48], a[48], d[48];
        money_format(sum, pool->cost_currency, s);
        money_format(amount, pool->cost_currency, a);
        money_format(sum > amount ? sum - amount : amount - sum, pool->cost_currency, d);
        o->message = fmt("the %zu campaigns drawing on %s budget %s, %d %% of its %s", nm, pool->name, s,
                         amount > 0 ? (int)((__int128)sum * 100 / amount) : 100, a);
        o->suggestion = level == 2 ? fmt("lower those budgets by %s, or raise the pool", d)
                                   : fmt("%s of the pool is left", d);
    }
    free(members);
    return 0;
}

/* ---- approvals and risks ---- */

static void rule_unapproved(cx *c)
{
    const cf_portfolio *p = c->p;
    cf_day today = c->q->today;
    for (size_t i = 0; i < p->n_campaigns; i++) {
        const cf_campaign *m = &p->campaigns[i];
        if (strcmp(m->status, "draft") != 0 && strcmp(m->status, "in_review") != 0) continue;
        if (m->start - today > c->s->unapproved_horizon_days || m->end < today) continue;
        cf_finding f;
        init(&f, CF_UNAPPROVED_LAUNCH, CF_WARN);
        ref(&f, CF_REF_CAMPAIGN, (int)i);
        window_days(&f, m->start < today ? m->start : today, m->start);
        cf_finding *o = push(c, &f, NULL);
        if (!o) continue;
        int days = m->start - today;
        if (days >= 0)
            o->message = fmt("%s starts in %d day%s and is %s, without a completed approval", m->name, days,
                             days == 1 ? "" : "s", m->status);
        else
            o->message = fmt("%s started %d day%s ago and is still %s", m->name, -days, days == -1 ? "" : "s",
                             m->status);
        o->suggestion = strcmp(m->status, "draft") == 0 ? fmt("submit %s for approval now, or move its start", m->name)
                                                       : fmt("ask its deciders to decide now, or move its start");
    }
}

static void rule_risks(cx *c)
{
    const cf_portfolio *p = c->p;
    for (size_t i = 0; i < p->n_risks; i++) {
        const cf_risk *k = &p->risks[i];
        if (k->campaign < 0 || (size_t)k->campaign >= p->n_campaigns) continue;
        const cf_campaign *m = &p->campaigns[k->campaign];
        if (!campaign_live(m)) continue;
        cf_finding f;
        init(&f, CF_UNMITIGATED_RISK, CF_WARN);
        ref(&f, CF_REF_CAMPAIGN, k->campaign);
        ref(&f, CF_REF_RISK, (int)i);
        window_days(&f, m->start, m->end);
        cf_finding *o = push(c, &f, NULL);
        if (!o) continue;
        o->message = fmt("%s has an open critical risk without a mitigation: %s", m->name, k->title);
        o->suggestion = fmt("write a mitigation for it, or accept or close it; until then %s cannot be scheduled",
                            m->name);
    }
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

static void suggest_free(cx *c)
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

/* ---- the run ---- */

static int cmp_live_ctx(const void *x, const void *y, void *arg)
{
    const cf_booking *bs = arg;
    const cf_booking *u = &bs[*(const int *)x], *v = &bs[*(const int *)y];
    if (u->resource != v->resource) return u->resource < v->resource ? -1 : 1;
    if (u->start != v->start) return u->start < v->start ? -1 : 1;
    if (u->end != v->end) return u->end < v->end ? -1 : 1;
    return strcmp(u->id, v->id);
}

static int cmp_finding(const void *x, const void *y)
{
    const cf_finding *a = x, *b = y;
    if (a->order != b->order) return a->order < b->order ? -1 : 1;
    return strcmp(a->key, b->key);
}

int cf_run(const cf_portfolio *p, const cf_settings *s, const cf_scope *q, cf_result *out)
{
    memset(out, 0, sizeof *out);
    cx c = {.p = p, .s = s, .q = q, .r = out};
    int rc = -1;
    size_t nr = p->n_resources ? p->n_resources : 1;
    c.ovls = malloc((p->n_overlaps ? p->n_overlaps : 1) * sizeof *c.ovls);
    c.live = malloc((p->n_bookings ? p->n_bookings : 1) * sizeof *c.live);
    c.res_first = calloc(nr, sizeof *c.res_first);
    c.res_count = calloc(nr, sizeof *c.res_count);
    if (!c.ovls || !c.live || !c.res_first || !c.res_count) goto out;
    for (size_t i = 0; i < p->n_overlaps; i++) {
        const cf_overlap *o = &p->overlaps[i];
        c.ovls[c.novls++] = (ovl){o->a < o->b ? o->a : o->b, o->a < o->b ? o->b : o->a, o->ratio};
    }
    qsort(c.ovls, c.novls, sizeof *c.ovls, ovl_cmp);
    for (size_t i = 0; i < p->n_bookings; i++)
        if (booking_live(&p->bookings[i])) c.live[c.nlive++] = (int)i;
    qsort_r(c.live, c.nlive, sizeof *c.live, cmp_live_ctx, (void *)p->bookings);
    for (size_t i = 0; i < c.nlive; i++) {
        int r = p->bookings[c.live[i]].resource;
        if (!c.res_count[r]) c.res_first[r] = i;
        c.res_count[r]++;
    }
    for (size_t r = 0; r < p->n_resources; r++) {
        const int *g = c.live + c.res_first[r];
        size_t n = c.res_count[r];
        if (!n) continue;
        const cf_resource *res = &p->resources[r];
        if (res->kind == CF_BUDGET_POOL) continue;
        if (res->unit == CF_CONCURRENT && res->capacity == 1) rule_double_booked(&c, (int)r, g, n);
        else if (rule_capacity(&c, (int)r, g, n) != 0) goto out;
        if (res->kind == CF_CHANNEL && rule_saturation(&c, (int)r, g, n) != 0) goto out;
    }
    rule_unavailable(&c);
    rule_blackout_events(&c);
    rule_audience(&c);
    rule_offers(&c);
    if (rule_budgets(&c) != 0) goto out;
    rule_unapproved(&c);
    rule_risks(&c);
    suggest_free(&c);
    for (size_t i = 0; i < out->n; i++)
        if (!out->items[i].message || !out->items[i].suggestion) out->oom = 1;
    if (out->oom) goto out;
    if (out->n) qsort(out->items, out->n, sizeof *out->items, cmp_finding);
    rc = 0;
out:
    free(c.ovls);
    free(c.live);
    free(c.res_first);
    free(c.res_count);
    for (size_t i = 0; c.rivals && i < p->n_campaigns; i++) free(c.rivals[i]);
    free(c.rivals);
    free(c.nrivals);
    if (rc) cf_result_free(out);
    return rc;
}

void cf_result_free(cf_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].message);
        free(r->items[i].suggestion);
        free(r->items[i].why_move);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

int cf_blocks_forceable(const cf_result *r, const cf_settings *s)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].severity == CF_BLOCK && !(s->forceable & (1u << r->items[i].type))) return 0;
    return 1;
}

size_t cf_count(const cf_result *r, cf_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += r->items[i].severity == sev;
    return n;
}
