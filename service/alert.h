/* alert.h — the KPI alerts. After measurements arrive, the campaigns they touched are judged as their
 * dashboard judges them: each KPI target's status (dash_assess: at_risk, missed) and the budget's level
 * (committed + spent against the settings' budget_warn_percent and budget_block_percent, as the
 * budget_overrun rule counts it: cf_budget_level). A state worse than the one last announced becomes an
 * event (kpi.target_missed, budget.threshold_crossed); one that gets better is recorded without an event, so
 * a later fall is announced again. Pure: plain structs in, JSON out; no ulfius, no libpq. */
#ifndef CAMPAIGND_ALERT_H
#define CAMPAIGND_ALERT_H

#include <jansson.h>

#include "dashboard_store.h"

/* The changes to record for camps[0..n) (as dash_store_alert_inputs loads them): a new reference to a JSON
 * array of {"kind": "target" | "budget", "campaign_id", "target_id" (a target's; null for the budget),
 * "state" (at_risk, missed, warn, block; null when fine), "type" and "data" (the event to write, or null)},
 * only where the state differs from the one recorded; NULL out of memory. A campaign whose measurements are
 * in more than one currency is left alone, as its dashboard refuses to add them. */
json_t *alert_judge(const dash_campaign *camps, size_t n);

#endif
