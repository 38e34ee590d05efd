/* conflicts.c — see conflicts.h. The settings' defaults, the priority score, dates, the helpers the rules share
 * (conflicts_internal.h) and the run. Each rule is one function over the portfolio (conflicts_resources.c,
 * conflicts_campaigns.c); cfx_push() keeps what the scope asks for (the findings of a focus, or those whose window
 * meets the scan's) before any message is written. */
#define _GNU_SOURCE
#include "conflicts_internal.h"

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

char *cfx_fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

int cfx_booking_live(const cf_booking *b) { return !b->status || strcmp(b->status, "cancelled") != 0; }

int cfx_campaign_live(const cf_campaign *c)
{
    return strcmp(c->status, "cancelled") != 0 && strcmp(c->status, "completed") != 0;
}

void cfx_money_format(cf_money m, const char *currency, char out[48])
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
int cfx_seg_ancestor(const cf_portfolio *p, int anc, int seg)
{
    for (int depth = 0; seg >= 0 && (size_t)seg < p->n_segments && depth < 64; depth++) {
        seg = p->segments[seg].parent;
        if (seg == anc) return 1;
    }
    return 0;
}

/* The overlap of two segments in basis points: whole for the same segment or an ancestor, else declared. */
int cfx_seg_ratio(const cx *c, int a, int b)
{
    if (a == b || cfx_seg_ancestor(c->p, a, b) || cfx_seg_ancestor(c->p, b, a)) return CF_RATIO_ONE;
    ovl key = {a < b ? a : b, a < b ? b : a, 0};
    ovl *hit = bsearch(&key, c->ovls, c->novls, sizeof *c->ovls, ovl_cmp);
    return hit ? hit->ratio : 0;
}

/* The best overlap between the audiences of two campaigns (*sa, *sb: the segments that give it). */
int cfx_audience_ratio(const cx *c, const cf_campaign *x, const cf_campaign *y, int *sa, int *sb)
{
    int best = 0;
    *sa = *sb = -1;
    for (size_t i = 0; i < x->n_segments; i++)
        for (size_t j = 0; j < y->n_segments; j++) {
            int r = cfx_seg_ratio(c, x->segments[i], y->segments[j]);
            if (r > best) { best = r; *sa = x->segments[i]; *sb = y->segments[j]; }
        }
    return best;
}

/* ---- findings ---- */

void cfx_ref(cf_finding *f, cf_ref_kind kind, int index)
{
    if (index < 0 || f->nrefs >= CF_MAX_REFS) return;
    for (int i = 0; i < f->nrefs; i++)
        if (f->refs[i].kind == kind && f->refs[i].index == index) return;
    f->refs[f->nrefs++] = (cf_ref){kind, index};
}

void cfx_init(cf_finding *f, cf_type type, cf_severity sev)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    f->severity = sev;
    f->move = -1;
}

void cfx_window_days(cf_finding *f, cf_day a, cf_day b)
{
    f->in_days = 1;
    f->start_day = a;
    f->end_day = b;
}

void cfx_window_time(cf_finding *f, cf_time a, cf_time b)
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

/* Whether f is about a resource's time (it names a resource). */
static int about_resource(const cf_finding *f)
{
    for (int i = 0; i < f->nrefs; i++)
        if (f->refs[i].kind == CF_REF_RESOURCE) return 1;
    return 0;
}

/* What f is about, hashed (FNV-1a): its type, extra, and the ids of the refs of its subject (cf_finding_known),
 * in id order. */
static unsigned long long subject_of(const cf_portfolio *p, const cf_finding *f, const char *extra)
{
    unsigned kinds = about_resource(f) ? 1u << CF_REF_RESOURCE | 1u << CF_REF_SEGMENT | 1u << CF_REF_UNAVAILABILITY |
                                             1u << CF_REF_BLACKOUT
                                       : 1u << CF_REF_CAMPAIGN | 1u << CF_REF_RISK | 1u << CF_REF_BLACKOUT;
    const char *ids[CF_MAX_REFS];
    int n = 0;
    for (int i = 0; i < f->nrefs; i++)
        if (kinds & 1u << f->refs[i].kind) ids[n++] = ref_id(p, f->refs[i]);
    qsort(ids, (size_t)n, sizeof ids[0], cmp_str);
    uint64_t h = 1469598103934665603ULL;
    for (int i = -1; i <= n; i++) {
        const char *s = i < 0 ? cf_type_names[f->type] : i < n ? ids[i] : (extra ? extra : "");
        for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        h = (h ^ (unsigned char)'|') * 1099511628211ULL;
    }
    return h;
}

int cf_finding_known(const cf_result *before, const cf_finding *f)
{
    int timed = about_resource(f);
    for (size_t i = 0; i < before->n; i++) {
        const cf_finding *b = &before->items[i];
        if (b->type != f->type || b->subject != f->subject) continue;
        if (!timed) return 1;
        if (b->in_days != f->in_days) continue;
        if (f->in_days ? b->start_day <= f->end_day && f->start_day <= b->end_day : b->start < f->end && f->start < b->end)
            return 1;
    }
    return 0;
}

/* Appends a copy of f when the scope wants it, with its key (the type, extra and the ids of its refs hashed)
 * and order; returns it for its messages, or NULL (not wanted, or out of memory: r->oom). */
cf_finding *cfx_push(cx *c, const cf_finding *f, const char *extra)
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
    out->subject = subject_of(c->p, out, extra);
    out->order = out->in_days ? (long long)out->start_day * CF_DAY_SECONDS : out->start;
    return out;
}

/* The campaign to move of two (the lower priority score; a campaign not scored counts lowest; on a tie the
 * one that starts later), and why, into f. */
void cfx_name_move(cx *c, cf_finding *f, int a, int b)
{
    const cf_campaign *x = &c->p->campaigns[a], *y = &c->p->campaigns[b];
    int move = x->priority < y->priority ? a : y->priority < x->priority ? b : x->start > y->start ? a : b;
    int keep = move == a ? b : a;
    const cf_campaign *m = &c->p->campaigns[move], *k = &c->p->campaigns[keep];
    f->move = move;
    if (m->priority == k->priority)
        f->why_move = cfx_fmt("both have the same priority%s; %s starts later", m->priority < 0 ? " (not scored)" : "",
                          m->name);
    else if (m->priority < 0)
        f->why_move = cfx_fmt("%s has no priority score; %s scores %d.%d", m->name, k->name, k->priority / 10,
                          k->priority % 10);
    else
        f->why_move = cfx_fmt("%s scores %d.%d, below %s's %d.%d", m->name, m->priority / 10, m->priority % 10, k->name,
                          k->priority / 10, k->priority % 10);
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
    cx c = {.p = p, .s = s, .q = q, .r = out, .booking_only = q->focus_booking >= 0 && q->focus_campaign < 0};
    int rc = -1;
    size_t nr = p->n_resources ? p->n_resources : 1;
    c.ovls = malloc((p->n_overlaps ? p->n_overlaps : 1) * sizeof *c.ovls);
    c.live = malloc((p->n_bookings ? p->n_bookings : 1) * sizeof *c.live);
    c.res_first = calloc(nr, sizeof *c.res_first);
    c.res_count = calloc(nr, sizeof *c.res_count);
    c.camp_live = malloc(p->n_campaigns ? p->n_campaigns : 1);
    if (!c.ovls || !c.live || !c.res_first || !c.res_count || !c.camp_live) goto out;
    for (size_t i = 0; i < p->n_campaigns; i++) c.camp_live[i] = (char)cfx_campaign_live(&p->campaigns[i]);
    for (size_t i = 0; i < p->n_overlaps; i++) {
        const cf_overlap *o = &p->overlaps[i];
        c.ovls[c.novls++] = (ovl){o->a < o->b ? o->a : o->b, o->a < o->b ? o->b : o->a, o->ratio};
    }
    qsort(c.ovls, c.novls, sizeof *c.ovls, ovl_cmp);
    for (size_t i = 0; i < p->n_bookings; i++)
        if (cfx_booking_live(&p->bookings[i])) c.live[c.nlive++] = (int)i;
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
        if (res->unit == CF_CONCURRENT && res->capacity == 1) cfx_rule_double_booked(&c, (int)r, g, n);
        else if (cfx_rule_capacity(&c, (int)r, g, n) != 0) goto out;
        if (res->kind == CF_CHANNEL && cfx_rule_saturation(&c, (int)r, g, n) != 0) goto out;
    }
    cfx_rule_unavailable(&c);
    cfx_rule_blackout_events(&c);
    if (!c.booking_only) {
        cfx_rule_audience(&c);
        cfx_rule_offers(&c);
    }
    if (cfx_rule_budgets(&c) != 0) goto out;
    if (!c.booking_only) {
        cfx_rule_unapproved(&c);
        cfx_rule_risks(&c);
    }
    cfx_suggest_free(&c);
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
    free(c.camp_live);
    cfx_audience_free(&c);
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
