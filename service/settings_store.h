/* settings_store.h — the organisation's settings row (org_settings, sql/migrations/0018_conflicts.sql). */
#ifndef CAMPAIGND_SETTINGS_STORE_H
#define CAMPAIGND_SETTINGS_STORE_H

#include "db.h"

/* The settings document and its version: the row, or the defaults (version 1) while none was written. */
app_err settings_store_get(db_conn *conn, const char *org, db_doc *doc);

/* In a write transaction: writes the row from the defaults if there is none, and locks it. */
app_err settings_store_lock(db_conn *conn, const char *org, db_doc *doc);

/* Applies a merge patch (checked by settings_validate) to the locked row. A new time zone re-buckets the
 * organisation's bookings: *why may be a booking_conflict (a capacity the move breaks). New risk level
 * thresholds set the level of every risk they change: *why may be unmitigated_critical_risk (a scheduled
 * campaign would hold an open critical risk without a mitigation). */
app_err settings_store_update(db_conn *conn, const char *org, const char *patch_json, db_doc *doc, app_refusal *why);

#endif
