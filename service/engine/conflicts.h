/* conflicts.h — the planning engine's conflict rules (SPEC §6). Pure: plain
 * structs in, findings out; no I/O, no ulfius, no libpq (jansson only, to
 * render findings). The store (conflict_store.c) loads the slice of the
 * portfolio a question needs into a cf_portfolio; cf_run judges it.
 *
 * Units: an instant is seconds since 1970-01-01T00:00:00Z; a day is days since
 * 1970-01-01 on the organisation's calendar (the store converts with its time
 * zone, so the engine never needs one); money is integer minor units (cents),
 * never a double; ratios are basis points (0.30 is 3000), so that a threshold
 * compares exactly.
 *
 * Thresholds, all from cf_settings (cf_settings_default gives SPEC's):
 *   resource_double_booked  block  two live bookings of an exclusive resource overlap ([start, end) half-open)
 *   capacity_exceeded       block  above capacity in a unit window (overlapping units; the ISO week or the day a
 *                                  booking counts in); warn  at capacity_warn_pct % of it or more
 *   person_unavailable      block  a live booking overlaps a person's leave or unavailability
 *   audience_overlap        warn   two live campaigns whose dates come within overlap_window_days of each other
 *                                  (the later starts fewer than that many days after the earlier ends) reach
 *                                  overlapping segments: the same, one an ancestor of the other, or a declared
 *                                  ratio >= overlap_ratio
 *   channel_saturation      warn   more than the cap's sends reach one segment on one channel within any window of
 *                                  the cap's days (sends to a segment reach its descendants too); the cap is the
 *                                  channel's own or the default
 *   contradictory_offer     warn   two live campaigns with overlapping dates and audiences (a campaign without
 *                                  segments reaches everyone) promote one offer code with other terms or description
 *   budget_overrun          warn   committed (booking cost estimates) + actual spend reaches budget_warn_pct % of a
 *                                  campaign's budget (actual spend against each channel budget; campaign budgets
 *                                  against a budget pool); block  above budget_block_pct %
 *   blackout                block  a live booking overlaps a blackout of its resource or an organisation-wide
 *                                  blackout key event; a live campaign's dates overlap such a key event
 *   unapproved_launch       warn   a draft or in_review campaign starts within unapproved_horizon_days of today
 *                                  (or has started and not ended)
 *   unmitigated_critical_risk warn an open critical risk without a mitigation (it blocks scheduling) */
#ifndef CAMPAIGND_CONFLICTS_H
#define CAMPAIGND_CONFLICTS_H

#include <jansson.h>
#include <stddef.h>

typedef long long cf_time;
typedef int cf_day;
typedef long long cf_money;

#define CF_DAY_SECONDS 86400LL
#define CF_RATIO_ONE 10000 /* basis points */

typedef enum cf_type {
    CF_RESOURCE_DOUBLE_BOOKED,
    CF_CAPACITY_EXCEEDED,
    CF_PERSON_UNAVAILABLE,
    CF_AUDIENCE_OVERLAP,
    CF_CHANNEL_SATURATION,
    CF_CONTRADICTORY_OFFER,
    CF_BUDGET_OVERRUN,
    CF_BLACKOUT,
    CF_UNAPPROVED_LAUNCH,
    CF_UNMITIGATED_RISK,
    CF_TYPE_COUNT
} cf_type;

extern const char *const cf_type_names[];     /* by cf_type, NULL-terminated */
extern const char *const cf_severity_names[]; /* "warn", "block", NULL */
/* The block rules a manager or admin may be allowed to force (the others the database refuses anyway). */
extern const char *const cf_forceable_names[];

typedef enum cf_severity { CF_WARN, CF_BLOCK } cf_severity;

typedef struct cf_settings {
    int overlap_window_days;     /* audience_overlap: 7 */
    int overlap_ratio;           /* basis points: 3000 */
    int cap_sends, cap_days;     /* the default frequency cap: 2 sends per 7 days */
    int budget_warn_pct;         /* 80 */
    int budget_block_pct;        /* 100 */
    int capacity_warn_pct;       /* 90 */
    int unapproved_horizon_days; /* 5 */
    int weights[4];              /* priority: engagement, cpa, experience, alignment (0–100 each) */
    unsigned forceable;          /* bit (1u << cf_type) per rule a manager/admin may force */
} cf_settings;

void cf_settings_default(cf_settings *s);

/* The priority score (0–100, one decimal, times 10: 735 is 73.5) of the four 0–10 inputs (tenths: 75 is 7.5)
 * weighted by w; -1 when the weights sum to 0. */
int cf_priority_score(const int scores_tenths[4], const int weights[4]);

typedef enum cf_kind { CF_CHANNEL, CF_PERSON, CF_SLOT, CF_BUDGET_POOL } cf_kind;
typedef enum cf_unit { CF_CONCURRENT, CF_HOURS_PER_WEEK, CF_SENDS_PER_DAY } cf_unit;

typedef struct cf_segment {
    const char *id, *name;
    int parent; /* index, -1: none */
} cf_segment;

/* A declared overlap between two segments (symmetric). */
typedef struct cf_overlap {
    int a, b;  /* segment indexes */
    int ratio; /* basis points */
} cf_overlap;

typedef struct cf_amount {
    const char *channel;
    cf_money amount;
} cf_amount;

typedef struct cf_campaign {
    const char *id, *name, *status;
    cf_day start, end; /* inclusive */
    const char *currency; /* NULL: no budget */
    cf_money budget;
    const cf_amount *channel_budgets;
    size_t n_channel_budgets;
    cf_money committed;             /* cost estimates of its live bookings the store counted (see cf_booking.counted) */
    cf_money actual_spend;          /* measured, in the budget's currency */
    const cf_amount *channel_spend; /* measured per channel */
    size_t n_channel_spend;
    const int *segments; /* indexes */
    size_t n_segments;
    const char *offer_code, *offer_terms, *offer_description; /* NULL: none */
    int priority; /* cf_priority_score, -1: not scored */
} cf_campaign;

typedef struct cf_resource {
    const char *id, *name;
    cf_kind kind;
    cf_unit unit;
    int capacity;
    int active;
    const char *cost_currency; /* NULL: no cost model */
    cf_money cost_per_unit;
    int cap_sends, cap_days; /* channels: its frequency cap; 0: the default */
} cf_resource;

typedef struct cf_booking {
    const char *id;
    int campaign, resource, segment; /* indexes; segment -1: none */
    cf_time start, end;
    int quantity;
    const char *status; /* tentative, confirmed, cancelled */
    const char *cost_currency; /* NULL: no estimate */
    cf_money cost;
    cf_day bucket; /* the ISO week's Monday or the day its quantity counts in (hours_per_week, sends_per_day) */
    int counted;   /* its cost is already in its campaign's committed (a stored booking); 0: add it (a proposal) */
} cf_booking;

typedef struct cf_unavailability {
    const char *id;
    int resource;
    const char *kind; /* unavailable, leave, blackout */
    cf_time start, end;
} cf_unavailability;

/* An organisation-wide blackout key event: its dates and the instants they span on the organisation's calendar. */
typedef struct cf_blackout {
    const char *id, *name;
    cf_day start_day, end_day; /* inclusive */
    cf_time start, end;        /* [start of start_day, start of the day after end_day) */
} cf_blackout;

typedef struct cf_risk {
    const char *id, *title;
    int campaign;
} cf_risk;

typedef struct cf_portfolio {
    const cf_segment *segments;
    size_t n_segments;
    const cf_overlap *overlaps;
    size_t n_overlaps;
    const cf_campaign *campaigns;
    size_t n_campaigns;
    const cf_resource *resources;
    size_t n_resources;
    const cf_booking *bookings;
    size_t n_bookings;
    const cf_unavailability *unavailability;
    size_t n_unavailability;
    const cf_blackout *blackouts;
    size_t n_blackouts;
    const cf_risk *risks; /* open, critical, without a mitigation */
    size_t n_risks;
} cf_portfolio;

/* What is asked: the findings that involve one campaign or one booking (a proposal under check), or every
 * finding whose window meets [from, to) (a scan; days and instants of the same bounds). */
typedef struct cf_scope {
    int focus_campaign, focus_booking; /* index, -1: none */
    cf_day today;
    cf_day from_day, to_day; /* [from_day, to_day) */
    cf_time from, to;        /* [from, to) */
    cf_time horizon_from, horizon_to; /* free periods are suggested within [horizon_from, horizon_to) (0, 0: anywhere) */
    /* A booking under check: other active resources of its resource's kind and skills known to be free over its
     * whole period (resource indexes), suggested after the nearest free periods of its own resource. */
    const int *alternatives;
    size_t n_alternatives;
} cf_scope;

typedef enum cf_ref_kind { CF_REF_CAMPAIGN, CF_REF_BOOKING, CF_REF_RESOURCE, CF_REF_SEGMENT, CF_REF_UNAVAILABILITY,
                           CF_REF_BLACKOUT, CF_REF_RISK } cf_ref_kind;

typedef struct cf_ref {
    cf_ref_kind kind;
    int index;
} cf_ref;

#define CF_MAX_REFS 12
#define CF_MAX_FREE 6

/* A free period a blocked booking could take instead. */
typedef struct cf_free {
    int resource;
    cf_time start, end;
} cf_free;

typedef struct cf_finding {
    cf_type type;
    cf_severity severity;
    cf_ref refs[CF_MAX_REFS];
    int nrefs;
    int in_days;            /* the window is days [start_day, end_day] (inclusive), else instants [start, end) */
    cf_day start_day, end_day;
    cf_time start, end;
    long long order;        /* sort key: the window's start in seconds */
    char key[40];           /* stable identity (UUID-shaped): a hash of the type and the ids involved */
    unsigned long long subject; /* what it is about, whatever else moved (see cf_finding_known) */
    char *message;          /* malloc'd */
    char *suggestion;       /* malloc'd */
    int move;               /* campaign to move (the lower priority), -1: none */
    char *why_move;         /* malloc'd or NULL */
    cf_free free[CF_MAX_FREE];
    int nfree;
} cf_finding;

typedef struct cf_result {
    cf_finding *items; /* sorted by order, then key */
    size_t n, cap;
    int oom;           /* a finding could not be recorded */
} cf_result;

/* Judges p under s within scope q. Returns 0 and fills *out (release with cf_result_free), -1 out of memory. */
int cf_run(const cf_portfolio *p, const cf_settings *s, const cf_scope *q, cf_result *out);

void cf_result_free(cf_result *r);

/* Whether the rules that block in r may all be forced under s (1), or some may not (0); 1 with none. */
int cf_blocks_forceable(const cf_result *r, const cf_settings *s);

/* The budget_overrun rule's severity of spending total (committed and spent) against budget under s: 2 block
 * (above budget_block_pct of it), 1 warn (from budget_warn_pct), 0 neither (or nothing spent or committed).
 * The KPI alerts (service/alert.c) announce the same levels. */
int cf_budget_level(const cf_settings *s, cf_money total, cf_money budget);

/* Whether finding f was already found in before (a run over the portfolio as it was before a change): a finding
 * of before has f's type and subject — the resource (with its segment, unavailability or blackout) a finding
 * about a resource's time is about, and then its window must meet f's; else the campaigns (with the risk or
 * blackout) it is about — whatever bookings it names. A booking added to a week already at 90 % of a capacity, or
 * to a campaign already past 80 % of its budget, finds nothing new; one that takes another week there does. */
int cf_finding_known(const cf_result *before, const cf_finding *f);

/* The number of findings of severity sev in r. */
size_t cf_count(const cf_result *r, cf_severity sev);

/* One finding as the API shows it (a new reference; NULL out of memory). */
json_t *cf_finding_json(const cf_portfolio *p, const cf_finding *f);

/* Writes day d as YYYY-MM-DD (11 bytes) / instant t as RFC 3339 UTC (21 bytes). */
void cf_day_format(cf_day d, char out[16]);
void cf_time_format(cf_time t, char out[32]);
/* The day number of a YYYY-MM-DD date; 0 when malformed (*ok 0). */
cf_day cf_day_parse(const char *s, int *ok);

#endif
