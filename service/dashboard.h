/* dashboard.h — what the dashboards say about measured results: a target
 * against its actual and its pace-adjusted expectation (status and a short
 * analysis sentence), a campaign's budget and its projected spend, and the
 * figures of one group of summed counters (a channel, a period). Pure: plain
 * values in, values or JSON out; no ulfius, no libpq. Money is in minor
 * units of one currency: nothing here adds two currencies. */
#ifndef CAMPAIGND_DASHBOARD_H
#define CAMPAIGND_DASHBOARD_H

#include <jansson.h>

#include "kpi.h"

typedef enum dash_status { DASH_MET, DASH_ON_TRACK, DASH_AT_RISK, DASH_MISSED } dash_status;

extern const char *const dash_status_names[]; /* met, on_track, at_risk, missed */

/* Days since 1970-01-01 of a calendar date "YYYY-MM-DD"; 0 on success, -1
 * when s is not one. */
int dash_day(const char *s, long *out);

/* The calendar date of a day number, "YYYY-MM-DD" (years 0-9999). */
void dash_day_format(long day, char out[11]);

/* The last day of the period ("day", "week" or "month") starting on start. */
long dash_period_end(long start, const char *granularity);

/* A campaign's days: start and end (inclusive) and as_of, the last day whose
 * numbers count. Elapsed is the share of the campaign's days up to as_of
 * (0 before the start, 1 from the end date on); the campaign is over when
 * as_of is after its end date. */
typedef struct dash_days {
    long start, end, as_of;
} dash_days;

double dash_elapsed(const dash_days *d);
int dash_over(const dash_days *d);

/* A target as stored: the KPI, the value in its unit (count, cents or
 * ratio), and whether higher is better. */
typedef struct dash_target {
    const kpi_def *def;
    kpi_value target;
    int higher;
} dash_target;

typedef struct dash_assessment {
    kpi_value actual;
    /* The share of the target due by as_of: a counter (leads, spend) is paced
     * by the elapsed share of the campaign's days; a derived KPI (CTR, CPA)
     * is a rate, due in full from the first day. */
    kpi_value expected;
    dash_status status;
    char analysis[200];
} dash_assessment;

/* Assesses t over the summed counters c of the campaign (or of the target's
 * channel) on the days d. Status, for a counter where higher is better: met
 * once the target is reached, on_track while at or above the expectation,
 * at_risk below it, missed when the campaign is over short of the target;
 * where lower is better: missed once the target is exceeded, met when the
 * campaign is over within it, on_track at or below the expectation, at_risk
 * above it. For a derived KPI: on_track (met when over) while it meets the
 * target, at_risk (missed when over) while it does not or has no value yet;
 * on_track before the start. */
void dash_assess(const dash_target *t, const kpi_counters *c, const dash_days *d, dash_assessment *out);

/* A campaign's money. committed: booking cost estimates in the campaign's
 * currency; spent: summed measured spend. Remaining is budget − spent;
 * projected spend at the end date is the committed cost before the start,
 * the spend run rate over the elapsed days carried to the end date while
 * live, and the spend itself once over. */
typedef struct dash_budget {
    int has_budget;
    long long budget, committed, spent; /* cents */
} dash_budget;

/* {"budget", "committed", "spent", "remaining", "projected_spend"} as money
 * objects in currency (null where unknown); new reference, NULL on OOM. */
json_t *dash_budget_json(const dash_budget *b, const dash_days *d, const char *currency);

/* The figures of one group of summed counters, added to j_obj: "spent",
 * "leads", "conversions", "revenue", "cpl", "cpa", "roi", "roas" (and for
 * the portfolio's funnel "impressions", "clicks", "ctr" when funnel is set),
 * money in currency (NULL: a group without a currency; its money is null).
 * 0 on success, -1 on OOM. */
int dash_figures(json_t *j_obj, const kpi_counters *c, const char *currency, int funnel);

/* The relative change from previous to current of one counter: (cur − prev)
 * / prev, or JSON null when the previous period has none (new reference). */
json_t *dash_change_json(const kpi_counters *cur, const kpi_counters *prev, kpi_counter k);

#endif
