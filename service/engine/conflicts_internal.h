/* conflicts_internal.h — what the engine's files share (not part of its interface): the run's context, the
 * segment and finding helpers of conflicts.c, and the rules of conflicts_resources.c and conflicts_campaigns.c.
 * Every rule appends through cfx_push, which keeps what the scope asks for. */
#ifndef CAMPAIGND_CONFLICTS_INTERNAL_H
#define CAMPAIGND_CONFLICTS_INTERNAL_H

#include "conflicts.h"

#define SUGGEST_WEEKS 12 /* how far a suggested move looks, each way */

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
    int booking_only; /* the question is a booking's: only findings naming it are wanted, and those between
                         campaigns never do, so their rules do not run */
    char *camp_live;  /* per campaign: cfx_campaign_live */
    struct cx_audience *aud; /* who reaches which segment (conflicts_campaigns.c), built on first use */
} cx;

char *cfx_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
int cfx_booking_live(const cf_booking *b);
int cfx_campaign_live(const cf_campaign *c);
void cfx_money_format(cf_money m, const char *currency, char out[48]);
/* Whether segment anc is a strict ancestor of seg. */
int cfx_seg_ancestor(const cf_portfolio *p, int anc, int seg);
/* The overlap of two segments in basis points: whole for the same segment or an ancestor, else declared. */
int cfx_seg_ratio(const cx *c, int a, int b);
/* The best overlap between two campaigns' audiences (*sa, *sb: the segments that give it). */
int cfx_audience_ratio(const cx *c, const cf_campaign *x, const cf_campaign *y, int *sa, int *sb);
void cfx_ref(cf_finding *f, cf_ref_kind kind, int index);
void cfx_init(cf_finding *f, cf_type type, cf_severity sev);
void cfx_window_days(cf_finding *f, cf_day a, cf_day b);
void cfx_window_time(cf_finding *f, cf_time a, cf_time b);
/* Appends a copy of f when the scope wants it, with its key and order; returns it for its messages, or NULL. */
cf_finding *cfx_push(cx *c, const cf_finding *f, const char *extra);
/* Names in f the campaign of a and b to move (the lower priority) and why. */
void cfx_name_move(cx *c, cf_finding *f, int a, int b);

/* conflicts_resources.c: a resource's live bookings g[0..n) sorted by start; 0, or -1 out of memory. */
void cfx_rule_double_booked(cx *c, int res, const int *g, size_t n);
int cfx_rule_capacity(cx *c, int res, const int *g, size_t n);
int cfx_rule_saturation(cx *c, int res, const int *g, size_t n);
void cfx_rule_unavailable(cx *c);
void cfx_rule_blackout_events(cx *c);
void cfx_suggest_free(cx *c);

/* conflicts_campaigns.c */
void cfx_audience_free(cx *c);
void cfx_rule_audience(cx *c);
void cfx_rule_offers(cx *c);
int cfx_rule_budgets(cx *c);
void cfx_rule_unapproved(cx *c);
void cfx_rule_risks(cx *c);

#endif
