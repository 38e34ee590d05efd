/* risk_store.h — risk SQL, scoped by organisation. The schema keeps the rules:
 * the score is generated, the level set from the organisation's thresholds, and
 * a write of a risk takes the organisation's risk-level lock and its campaign's
 * row lock for the scheduling gate (sql/migrations/0016_risks.sql, 0020_risk_levels.sql). */
#ifndef CAMPAIGND_RISK_STORE_H
#define CAMPAIGND_RISK_STORE_H

#include "db.h"
#include "db_list.h"

extern const char *const risk_sort_names[];

/* A list's filters: NULL is not filtered; categories, statuses and levels are
 * PostgreSQL array literals ("{a,b}"). */
typedef struct risk_filter {
    const char *campaign_id, *categories, *statuses, *levels, *owner;
} risk_filter;

app_err risk_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* risk_store_get's statement: (org, id) -> document, version. */
extern const db_stmt risk_store_get_stmt;
/* Locks the risk row (after the organisation's risk-level lock and its campaign's row); doc->owner is its
 * campaign's owner (who may write it). */
app_err risk_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* Locks a campaign to create a risk under (after the organisation's risk-level lock), as campaign_store_lock. */
app_err risk_store_lock_campaign(db_conn *conn, const char *org, const char *campaign_id, db_doc *doc);
/* body_json carries campaign_id; owner defaults to the actor, who is created_by. */
app_err risk_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                          char id_out[37], app_refusal *why);
app_err risk_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                          app_refusal *why);
/* Deletes the risk; doc->json stays NULL. */
app_err risk_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why);
app_err risk_store_list(db_conn *conn, const char *org, const risk_filter *f, int sort, int desc,
                        const char *cursor_key, const char *cursor_id, int limit, list_result *out);

/* The risk matrix of the campaigns overlapping the dates [from, to] (inclusive), filtered by f (levels
 * ignored): *json (malloc'd) is {from, to, cells: 25 × {probability, impact, score, level, count, risk_ids},
 * totals: {risks, by_level, by_category}}. */
app_err risk_store_matrix(db_conn *conn, const char *org, const char *from, const char *to, const risk_filter *f,
                          char **json);

#endif
