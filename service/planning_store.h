/* planning_store.h — the history forecasts learn from: the organisation's completed campaigns and what was
 * measured on them, its version and summary, and the fits kept for it. Writes only what is kept (0021, 0024). */
#ifndef CAMPAIGND_PLANNING_STORE_H
#define CAMPAIGND_PLANNING_STORE_H

#include <stddef.h>

#include "db.h"
#include "errors.h"

#define PLANNING_VERSION_LEN 24 /* a history version as text (a bigint), with its NUL */

/* *json (malloc'd) gets the completed campaigns of org whose money is in currency (those without a budget too),
 * but not exclude_id (NULL: none), oldest first, in the shape planning_history_load reads: per campaign its dates,
 * audience (segments_audiences of its segments, null when unknown), channel budgets and, per channel (null:
 * campaign-wide rows), the sums of spend, leads, conversions and revenue measured (null where nothing was).
 * Measured money in another currency is left out, never converted. version gets the organisation's history
 * version (forecast_history_versions, 0024) as the same statement saw it: what the fits of this history are kept
 * under. */
app_err planning_store_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                               char **json, char version[PLANNING_VERSION_LEN]);

/* version gets the organisation's history version now, and *summary (malloc'd, or NULL when none is kept at that
 * version) the summary kept for the history of currency without exclude_id (forecast_histories, 0024). */
app_err planning_store_kept_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                                    char **summary, char version[PLANNING_VERSION_LEN]);
/* Keeps the summary of that history as read at version. */
app_err planning_store_keep_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                                    const char *version, const char *summary);

/* *json (malloc'd) gets {"audience": the people the segments of ids_json (a JSON array of uuids) reach, or null
 * where unknown; "unknown": how many of those ids name no segment of org}. */
app_err planning_store_audience(db_conn *conn, const char *org, const char *ids_json, char **json);

/* A fitted model as the engine encoded it (fc_model_encode); bytes NULL: none; or, with refusal not empty, the
 * fit's refusal kept instead ("no_history", "too_little_history"). */
typedef struct {
    unsigned char *bytes;
    size_t len;
    char refusal[24];
} planning_fit_bytes;

/* The fits kept for org's scope (forecast_fits, 0021) whose inputs are `inputs`: out[k] gets the model (or the
 * refusal) of KPI kpis[k] where one is kept (out's entries must start empty; planning_fit_bytes_free). */
app_err planning_store_fits(db_conn *conn, const char *org, const char *scope, const char *inputs,
                            const char *const *kpis, size_t n_kpis, planning_fit_bytes *out);
void planning_fit_bytes_free(planning_fit_bytes *b, size_t n);

/* Keeps the fits of n KPIs (fits[k], a model or a refusal as planning_store_fits reads them, for KPI kpis[k]) for
 * org's scope and inputs in one statement, each replacing the scope's fit of its KPI. */
app_err planning_store_keep_fits(db_conn *conn, const char *org, const char *scope, const char *inputs,
                                 const char *const *kpis, const planning_fit_bytes *fits, size_t n);

#endif
