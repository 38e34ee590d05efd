/* target_store.h — a campaign's KPI targets in SQL: the set as the API
 * shows it with its version (the ETag), and its replacement. */
#ifndef CAMPAIGND_TARGET_STORE_H
#define CAMPAIGND_TARGET_STORE_H

#include "db.h"

/* The campaign's targets as GET shows them; version 0 while none were ever
 * written. APP_ERR_NOT_FOUND when the campaign is not the organisation's. */
app_err target_store_get(db_conn *conn, const char *org, const char *campaign_id, db_doc *doc);
/* target_store_get's statement: (org, id) -> document, version. */
extern const db_stmt target_store_get_stmt;

/* Within the caller's transaction, with the campaign locked: the set's
 * current version (0 when never written), taking the set's row lock. */
app_err target_store_lock(db_conn *conn, const char *org, const char *campaign_id, int *version);

/* Replaces the set with rows_json (target_validate_put's rows), bumps its
 * version, records campaign.targets_changed, and returns the new set. */
app_err target_store_replace(db_conn *conn, const char *org, const char *campaign_id, const char *rows_json,
                             db_doc *doc, app_refusal *why);

#endif
