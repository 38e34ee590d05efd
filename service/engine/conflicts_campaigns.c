/* conflicts_campaigns.c — the rules about campaigns: audiences reached twice, contradictory offers, budgets,
 * launches without approval, critical risks without a mitigation; the week a campaign to move would be clear.
 * See conflicts.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conflicts_internal.h"

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

/* Who reaches which segment, so that a campaign's rivals are found among the campaigns reaching a related segment
 * rather than by judging every campaign: per segment (CSR arrays) the live campaigns naming it, its children, and
 * its declared overlaps of at least the settings' ratio. */
struct cx_audience {
    size_t *camp_first, *child_first, *peer_first; /* n_segments + 1 offsets each */
    int *camps, *children, *peers;
    unsigned *camp_seen, *seg_seen, stamp; /* marks of the current search */
    int *stack, *found;
};

void cfx_audience_free(cx *c)
{
    struct cx_audience *a = c->aud;
    if (!a) return;
    free(a->camp_first);
    free(a->child_first);
    free(a->peer_first);
    free(a->camps);
    free(a->children);
    free(a->peers);
    free(a->camp_seen);
    free(a->seg_seen);
    free(a->stack);
    free(a->found);
    free(a);
    c->aud = NULL;
}

/* Groups the n pairs (key[i], val[i]) by key (0 ≤ key < nkeys) into *first (nkeys + 1 offsets) and *out. */
static int group(size_t nkeys, size_t n, const int *key, const int *val, size_t **first, int **out)
{
    *first = calloc(nkeys + 1, sizeof **first);
    *out = malloc((n ? n : 1) * sizeof **out);
    size_t *at = calloc(nkeys + 1, sizeof *at);
    if (!*first || !*out || !at) { free(at); return -1; }
    for (size_t i = 0; i < n; i++) (*first)[key[i] + 1]++;
    for (size_t k = 0; k < nkeys; k++) (*first)[k + 1] += (*first)[k];
    for (size_t i = 0; i < n; i++) (*out)[(*first)[key[i]] + at[key[i]]++] = val[i];
    free(at);
    return 0;
}

static struct cx_audience *audience_index(cx *c)
{
    const cf_portfolio *p = c->p;
    if (c->aud) return c->aud;
    struct cx_audience *a = c->aud = calloc(1, sizeof *a);
    size_t ns = p->n_segments, npairs = 0, nc = p->n_campaigns ? p->n_campaigns : 1;
    for (size_t i = 0; i < p->n_campaigns; i++) npairs += p->campaigns[i].n_segments;
    size_t cap = npairs + ns + 2 * p->n_overlaps + 1;
    int *key = malloc(cap * sizeof *key), *val = malloc(cap * sizeof *val);
    int ok = a && key && val;
    size_t n = 0;
    for (size_t i = 0; ok && i < p->n_campaigns; i++)
        for (size_t j = 0; c->camp_live[i] && j < p->campaigns[i].n_segments; j++) {
            key[n] = p->campaigns[i].segments[j];
            val[n++] = (int)i;
        }
    ok = ok && group(ns, n, key, val, &a->camp_first, &a->camps) == 0;
    n = 0;
    for (size_t g = 0; ok && g < ns; g++)
        if (p->segments[g].parent >= 0 && (size_t)p->segments[g].parent < ns) {
            key[n] = p->segments[g].parent;
            val[n++] = (int)g;
        }
    ok = ok && group(ns, n, key, val, &a->child_first, &a->children) == 0;
    n = 0;
    for (size_t o = 0; ok && o < p->n_overlaps; o++) {
        const cf_overlap *x = &p->overlaps[o];
        if (x->ratio < c->s->overlap_ratio || x->a < 0 || x->b < 0 || (size_t)x->a >= ns || (size_t)x->b >= ns) continue;
        key[n] = x->a, val[n++] = x->b;
        key[n] = x->b, val[n++] = x->a;
    }
    ok = ok && group(ns, n, key, val, &a->peer_first, &a->peers) == 0;
    free(key);
    free(val);
    if (ok) {
        a->camp_seen = calloc(nc, sizeof *a->camp_seen);
        a->seg_seen = calloc(ns ? ns : 1, sizeof *a->seg_seen);
        a->stack = malloc((ns ? ns : 1) * sizeof *a->stack);
        a->found = malloc(nc * sizeof *a->found);
        ok = a->camp_seen && a->seg_seen && a->stack && a->found;
    }
    if (!ok) cfx_audience_free(c);
    return c->aud;
}

/* Adds the live campaigns naming segment t, not seen yet in this search, to a->found. */
static void add_reaching(struct cx_audience *a, int t, size_t *n)
{
    for (size_t k = a->camp_first[t]; k < a->camp_first[t + 1]; k++)
        if (a->camp_seen[a->camps[k]] != a->stamp) {
            a->camp_seen[a->camps[k]] = a->stamp;
            a->found[(*n)++] = a->camps[k];
        }
}

/* The live campaigns whose audience overlaps campaign m's (at least the settings' ratio), computed once per
 * campaign and run; NULL out of memory. Only campaigns reaching a segment related to one of m's can (the same, an
 * ancestor, a descendant, a declared overlap of that ratio): those are judged, unless any ratio will do. */
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
        const cf_campaign *x = &p->campaigns[m];
        struct cx_audience *a = c->s->overlap_ratio > 0 ? audience_index(c) : NULL;
        if (c->s->overlap_ratio > 0 && !a) return NULL;
        size_t nf = 0;
        if (a) {
            if (++a->stamp == 0) { /* marks wrapped: start again */
                memset(a->camp_seen, 0, (p->n_campaigns ? p->n_campaigns : 1) * sizeof *a->camp_seen);
                memset(a->seg_seen, 0, (p->n_segments ? p->n_segments : 1) * sizeof *a->seg_seen);
                a->stamp = 1;
            }
            for (size_t j = 0; j < x->n_segments; j++) {
                int s = x->segments[j], depth = 0;
                if (s < 0 || (size_t)s >= p->n_segments) continue;
                for (int t = p->segments[s].parent; t >= 0 && (size_t)t < p->n_segments && depth < 64;
                     t = p->segments[t].parent, depth++)
                    add_reaching(a, t, &nf);
                for (size_t k = a->peer_first[s]; k < a->peer_first[s + 1]; k++) add_reaching(a, a->peers[k], &nf);
                size_t top = 0; /* s and its descendants */
                if (a->seg_seen[s] != a->stamp) a->seg_seen[s] = a->stamp, a->stack[top++] = s;
                while (top) {
                    int t = a->stack[--top];
                    add_reaching(a, t, &nf);
                    for (size_t k = a->child_first[t]; k < a->child_first[t + 1]; k++)
                        if (a->seg_seen[a->children[k]] != a->stamp) {
                            a->seg_seen[a->children[k]] = a->stamp;
                            a->stack[top++] = a->children[k];
                        }
                }
            }
        } else {
            nf = p->n_campaigns;
        }
        int *list = malloc((nf ? nf : 1) * sizeof *list), sa, sb;
        if (!list) return NULL;
        size_t k = 0;
        for (size_t f = 0; f < nf; f++) {
            int i = a ? a->found[f] : (int)f;
            if (i != m && c->camp_live[i] && cfx_audience_ratio(c, x, &p->campaigns[i], &sa, &sb) >= c->s->overlap_ratio)
                list[k++] = i;
        }
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
        o->suggestion = cfx_fmt("no week within %d weeks clears %s's audience; narrow its segments or merge the %s",
                            SUGGEST_WEEKS, m->name, what);
        return;
    }
    char day[16];
    cf_day_format(m->start + 7 * k, day);
    o->suggestion = cfx_fmt("move %s %d week%s %s, to start on %s: its audience is clear then", m->name, k < 0 ? -k : k,
                        k == 1 || k == -1 ? "" : "s", k < 0 ? "earlier" : "later", day);
}

static void audience_pair(cx *c, int a, int b)
{
    const cf_portfolio *p = c->p;
    const cf_campaign *x = &p->campaigns[a], *y = &p->campaigns[b];
    int sa, sb;
    int ratio = cfx_audience_ratio(c, x, y, &sa, &sb);
    if (ratio < c->s->overlap_ratio || ratio == 0) return;
    cf_finding f;
    cfx_init(&f, CF_AUDIENCE_OVERLAP, CF_WARN);
    int lo = strcmp(x->id, y->id) < 0 ? a : b, hi = lo == a ? b : a;
    cfx_ref(&f, CF_REF_CAMPAIGN, lo);
    cfx_ref(&f, CF_REF_CAMPAIGN, hi);
    cfx_ref(&f, CF_REF_SEGMENT, lo == a ? sa : sb);
    cfx_ref(&f, CF_REF_SEGMENT, lo == a ? sb : sa);
    const cf_campaign *e = x->start <= y->start ? x : y, *l = e == x ? y : x;
    if (l->start <= e->end) cfx_window_days(&f, l->start, e->end < l->end ? e->end : l->end);
    else cfx_window_days(&f, e->end, l->start);
    cf_finding *o = cfx_push(c, &f, NULL);
    if (!o) return;
    const char *na = p->segments[sa].name, *nb = p->segments[sb].name;
    if (sa == sb)
        o->message = cfx_fmt("%s and %s both reach %s within %d days", x->name, y->name, na, c->s->overlap_window_days);
    else
        o->message = cfx_fmt("%s reaches %s and %s reaches %s (overlap %d %%) within %d days", x->name, na, y->name, nb,
                         ratio / 100, c->s->overlap_window_days);
    cfx_name_move(c, o, a, b);
    suggest_shift(c, o, "campaigns");
}

void cfx_rule_audience(cx *c)
{
    const cf_portfolio *p = c->p;
    int w = c->s->overlap_window_days, focus = c->q->focus_campaign;
    if (focus >= 0) {
        if (!c->camp_live[focus]) return;
        for (size_t i = 0; i < p->n_campaigns; i++) {
            const cf_campaign *y = &p->campaigns[i];
            if ((int)i != focus && c->camp_live[i] &&
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
        if (c->camp_live[i] && p->campaigns[i].n_segments) order[n++] = (int)i;
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

void cfx_rule_offers(cx *c)
{
    const cf_portfolio *p = c->p;
    int focus = c->q->focus_campaign;
    /* every pair once; with a focus, only its pairs */
    for (size_t i = 0; i < p->n_campaigns; i++) {
        const cf_campaign *x = &p->campaigns[i];
        if (!x->offer_code || !cfx_campaign_live(x)) continue;
        size_t j0 = i + 1, j1 = p->n_campaigns;
        if (focus >= 0 && (int)i != focus) {
            if ((int)i > focus) continue;
            j0 = (size_t)focus; /* (i, focus) only */
            j1 = j0 + 1;
        }
        for (size_t j = j0; j < j1; j++) {
            const cf_campaign *y = &p->campaigns[j];
            if (!y->offer_code || !cfx_campaign_live(y) || strcasecmp(x->offer_code, y->offer_code) != 0) continue;
            if (x->start > y->end || y->start > x->end) continue;
            if (!text_differs(x->offer_terms, y->offer_terms) &&
                !text_differs(x->offer_description, y->offer_description))
                continue;
            int sa = -1, sb = -1;
            if (x->n_segments && y->n_segments && cfx_audience_ratio(c, x, y, &sa, &sb) < c->s->overlap_ratio) continue;
            cf_finding f;
            cfx_init(&f, CF_CONTRADICTORY_OFFER, CF_WARN);
            int lo = strcmp(x->id, y->id) < 0 ? (int)i : (int)j;
            cfx_ref(&f, CF_REF_CAMPAIGN, lo);
            cfx_ref(&f, CF_REF_CAMPAIGN, lo == (int)i ? (int)j : (int)i);
            cfx_ref(&f, CF_REF_SEGMENT, sa);
            cfx_ref(&f, CF_REF_SEGMENT, sb);
            cfx_window_days(&f, x->start > y->start ? x->start : y->start, x->end < y->end ? x->end : y->end);
            cf_finding *o = cfx_push(c, &f, NULL);
            if (!o) continue;
            /* in the order of their ids, so that every scan says it the same way */
            const cf_campaign *u = lo == (int)i ? x : y, *v = u == x ? y : x;
            const char *tu = u->offer_terms ? u->offer_terms : u->offer_description;
            const char *tv = v->offer_terms ? v->offer_terms : v->offer_description;
            o->message = cfx_fmt("%s says \"%s\" and %s says \"%s\" for offer %s at the same time", u->name,
                                 tu ? tu : "(no terms)", v->name, tv ? tv : "(no terms)", x->offer_code);
            cfx_name_move(c, o, (int)i, (int)j);
            o->suggestion = cfx_fmt("align the terms of offer %s in both campaigns, or give %s its own offer code",
                                x->offer_code, p->campaigns[o->move].name);
        }
    }
}

/* ---- budgets ---- */

int cf_budget_level(const cf_settings *s, cf_money total, cf_money budget)
{
    if (total <= 0) return 0;
    __int128 t = (__int128)total * 100;
    if (t > (__int128)budget * s->budget_block_pct) return 2;
    if (t >= (__int128)budget * s->budget_warn_pct) return 1;
    return 0;
}

static int budget_level(const cx *c, cf_money total, cf_money budget) { return cf_budget_level(c->s, total, budget); }

static void budget_finding(cx *c, int camp, int level, const char *channel, cf_money spent, cf_money budget,
                           cf_money committed)
{
    const cf_campaign *m = &c->p->campaigns[camp];
    cf_finding f;
    cfx_init(&f, CF_BUDGET_OVERRUN, level == 2 ? CF_BLOCK : CF_WARN);
    cfx_ref(&f, CF_REF_CAMPAIGN, camp);
    int fb = c->q->focus_booking;
    if (fb >= 0 && c->p->bookings[fb].campaign == camp) cfx_ref(&f, CF_REF_BOOKING, fb);
    cfx_window_days(&f, m->start, m->end);
    cf_finding *o = cfx_push(c, &f, channel);
    if (!o) return;
    char s[48], b[48], d[48], k[48];
    cfx_money_format(spent, m->currency, s);
    cfx_money_format(budget, m->currency, b);
    cfx_money_format(spent > budget ? spent - budget : budget - spent, m->currency, d);
    cfx_money_format(committed, m->currency, k);
    int pct = budget > 0 ? (int)((__int128)spent * 100 / budget) : 100;
    if (channel)
        o->message = cfx_fmt("%s has spent %s on %s, %d %% of its channel budget of %s", m->name, s, channel, pct, b);
    else
        o->message = cfx_fmt("%s has %s committed and spent (%s in bookings), %d %% of its budget of %s", m->name, s, k,
                         pct, b);
    if (level == 2)
        o->suggestion = cfx_fmt("raise the %sbudget by at least %s, or cancel bookings worth as much", channel ? "channel " : "",
                            d);
    else
        o->suggestion = cfx_fmt("%s of the %sbudget is left; check the remaining plan fits", d, channel ? "channel " : "");
}

int cfx_rule_budgets(cx *c)
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
        if (!m->currency || !cfx_campaign_live(m)) continue;
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
            if (seen || !cfx_campaign_live(m) || !m->currency || strcmp(m->currency, pool->cost_currency) != 0) continue;
            members[nm++] = b->campaign;
            sum += m->budget;
        }
        cf_money amount = pool->cost_per_unit * pool->capacity;
        int level = budget_level(c, sum, amount);
        if (!level) continue;
        cf_finding f;
        cfx_init(&f, CF_BUDGET_OVERRUN, level == 2 ? CF_BLOCK : CF_WARN);
        cfx_ref(&f, CF_REF_RESOURCE, (int)r);
        int fb = c->q->focus_booking, fc = c->q->focus_campaign;
        if (fb >= 0 && p->bookings[fb].resource == (int)r) cfx_ref(&f, CF_REF_BOOKING, fb);
        for (size_t k = 0; k < nm; k++)
            if (members[k] == fc) cfx_ref(&f, CF_REF_CAMPAIGN, fc);
        for (size_t k = 0; k < nm; k++) cfx_ref(&f, CF_REF_CAMPAIGN, members[k]);
        cfx_window_time(&f, t0, t1);
        cf_finding *o = cfx_push(c, &f, "pool");
        if (!o) continue;
        char s[48], a[48], d[48];
        cfx_money_format(sum, pool->cost_currency, s);
        cfx_money_format(amount, pool->cost_currency, a);
        cfx_money_format(sum > amount ? sum - amount : amount - sum, pool->cost_currency, d);
        o->message = cfx_fmt("the %zu campaigns drawing on %s budget %s, %d %% of its %s", nm, pool->name, s,
                         amount > 0 ? (int)((__int128)sum * 100 / amount) : 100, a);
        o->suggestion = level == 2 ? cfx_fmt("lower those budgets by %s, or raise the pool", d)
                                   : cfx_fmt("%s of the pool is left", d);
    }
    free(members);
    return 0;
}

/* ---- approvals and risks ---- */

void cfx_rule_unapproved(cx *c)
{
    const cf_portfolio *p = c->p;
    cf_day today = c->q->today;
    for (size_t i = 0; i < p->n_campaigns; i++) {
        const cf_campaign *m = &p->campaigns[i];
        if (strcmp(m->status, "draft") != 0 && strcmp(m->status, "in_review") != 0) continue;
        if (m->start - today > c->s->unapproved_horizon_days || m->end < today) continue;
        cf_finding f;
        cfx_init(&f, CF_UNAPPROVED_LAUNCH, CF_WARN);
        cfx_ref(&f, CF_REF_CAMPAIGN, (int)i);
        cfx_window_days(&f, m->start < today ? m->start : today, m->start);
        cf_finding *o = cfx_push(c, &f, NULL);
        if (!o) continue;
        int days = m->start - today;
        if (days >= 0)
            o->message = cfx_fmt("%s starts in %d day%s and is %s, without a completed approval", m->name, days,
                             days == 1 ? "" : "s", m->status);
        else
            o->message = cfx_fmt("%s started %d day%s ago and is still %s", m->name, -days, days == -1 ? "" : "s",
                             m->status);
        o->suggestion = strcmp(m->status, "draft") == 0 ? cfx_fmt("submit %s for approval now, or move its start", m->name)
                                                       : cfx_fmt("ask its deciders to decide now, or move its start");
    }
}

void cfx_rule_risks(cx *c)
{
    const cf_portfolio *p = c->p;
    for (size_t i = 0; i < p->n_risks; i++) {
        const cf_risk *k = &p->risks[i];
        if (k->campaign < 0 || (size_t)k->campaign >= p->n_campaigns) continue;
        const cf_campaign *m = &p->campaigns[k->campaign];
        if (!cfx_campaign_live(m)) continue;
        cf_finding f;
        cfx_init(&f, CF_UNMITIGATED_RISK, CF_WARN);
        cfx_ref(&f, CF_REF_CAMPAIGN, k->campaign);
        cfx_ref(&f, CF_REF_RISK, (int)i);
        cfx_window_days(&f, m->start, m->end);
        cf_finding *o = cfx_push(c, &f, NULL);
        if (!o) continue;
        o->message = cfx_fmt("%s has an open critical risk without a mitigation: %s", m->name, k->title);
        o->suggestion = cfx_fmt("write a mitigation for it, or accept or close it; until then %s cannot be scheduled",
                            m->name);
    }
}
