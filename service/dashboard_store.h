/* dashboard_store.h — the dashboards' SQL: summed counters of a campaign per
 * channel, of the organisation per channel or per period (from the day
 * rollup, sql/migrations/0045_dashboards.sql), a campaign's targets, budget
 * and committed cost. Every sum is kept apart per currency; nothing here
 * adds two currencies. */
#ifndef CAMPAIGND_DASHBOARD_STORE_H
#define CAMPAIGND_DASHBOARD_STORE_H

#include "db.h"
#include "kpi.h"

/* One group of summed counters: a channel ("" for measurements without one),
 * or a period (its first day in `key`), in one currency ("" for campaigns
 * without a budget), with the channel budgets allocated to it. */
typedef struct dash_group {
    char key[64];
    char currency[4];
    int has_allocated;
    long long allocated; /* cents */
    kpi_counters c;
} dash_group;

typedef struct dash_groups {
    dash_group *items;
    size_t n;
} dash_groups;

void dash_groups_free(dash_groups *g);

/* A window of dates (inclusive; NULL: unbounded) and a currency (NULL: all). */
typedef struct dash_window {
    const char *from, *to, *currency;
} dash_window;

typedef struct dash_target_row {
    const kpi_def *def;
    char channel[64]; /* "" for a campaign-wide target */
    kpi_value target; /* in the KPI's unit */
    int higher;
    char id[37];    /* alerts only: the target's id */
    char alert[10]; /* alerts only: the status last announced (at_risk, missed), "" for none */
} dash_target_row;

typedef struct dash_campaign {
    char name[256];
    char status[16];
    char start[11], end[11];
    char today[11]; /* in the organisation's time zone */
    char currency[4]; /* "" without a budget */
    int has_budget;
    long long budget, committed; /* cents */
    dash_target_row *targets;
    size_t ntargets;
    dash_groups channels; /* the campaign's measurements in the window, per channel and currency */
    /* alerts only (dash_store_alert_inputs) */
    char id[37];
    int warn_pct, block_pct; /* the settings' budget percentages */
    char budget_alert[8];    /* the budget level last announced (warn, block), "" for none */
} dash_campaign;

void dash_campaign_free(dash_campaign *c);

/* A campaign's dashboard inputs. APP_ERR_NOT_FOUND when the campaign is not
 * the organisation's. *out is set only on success. */
app_err dash_store_campaign(db_conn *conn, const char *org, const char *campaign_id, const dash_window *w,
                            dash_campaign *out);

/* The inputs of the KPI alerts (service/alert.c) for the campaigns of ids_json (a JSON array of ids) that are
 * not cancelled, in id order: as their dashboards read them over all their measurements, with the targets'
 * ids and the states last announced (0050_kpi_alerts.sql), the settings' budget percentages, and as committed
 * the live bookings' cost estimates in the budget's currency, budget pools aside (as the budget_overrun rule
 * counts it). *out (free each with dash_campaign_free, then the array) and *n are set only on success. */
app_err dash_store_alert_inputs(db_conn *conn, const char *org, const char *ids_json, dash_campaign **out,
                                size_t *n);

/* The organisation's measurements in the window per channel and currency,
 * with the channel budgets of the campaigns (not cancelled) whose dates
 * overlap it; ordered by channel, currency. */
app_err dash_store_channels(db_conn *conn, const char *org, const dash_window *w, dash_groups *out);

/* The organisation's measurements per period ("day", "week" or "month") and
 * currency, from the start of the period before the one holding w->from to
 * the end of the one holding w->to (both required), every period present
 * (one group with an empty currency and nothing reported when it has no
 * measurements); ordered by period, currency. */
app_err dash_store_periods(db_conn *conn, const char *org, const char *granularity, const dash_window *w,
                           dash_groups *out);

/* The team's capacity per ISO week from the week holding from to the one
 * holding to, per person (hours per week, active) and per skill, as the
 * capacity dashboard answers it (*json malloc'd). */
app_err dash_store_capacity(db_conn *conn, const char *org, const char *from, const char *to, char **json);

/* Today's date in the organisation's time zone (out: 11 bytes). */
app_err dash_store_today(db_conn *conn, const char *org, char *out);

#endif
