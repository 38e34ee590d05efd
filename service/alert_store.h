/* alert_store.h — what the KPI alerts last announced (kpi_target_alerts, campaign_budget_alerts:
 * sql/migrations/0050_kpi_alerts.sql) and the events they write to the outbox. */
#ifndef CAMPAIGND_ALERT_STORE_H
#define CAMPAIGND_ALERT_STORE_H

#include "db.h"

/* In a write transaction: records the changes alert_judge found (changes_json: its array as text) and writes
 * the events of those this transaction changed, in one statement. A change another transaction recorded first
 * (the same state) writes nothing, so one crossing gives one event. *why: a set of targets replaced meanwhile. */
app_err alert_store_record(db_conn *conn, const char *org, const char *changes_json, app_refusal *why);

#endif
