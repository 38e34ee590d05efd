/* planning_store.h — the history forecasts learn from: the organisation's completed campaigns and what was
 * measured on them. Read-only. */
#ifndef CAMPAIGND_PLANNING_STORE_H
#define CAMPAIGND_PLANNING_STORE_H

#include <stddef.h>

#include "db.h"
#include "errors.h"

/* *json (malloc'd) gets the completed campaigns of org whose money is in currency (those without a budget too),
 * but not exclude_id (NULL: none), oldest first, in the shape planning_history_load reads: per campaign its dates,
 * audience (segments_audiences of its segments, null when unknown), channel budgets and, per channel (null:
 * campaign-wide rows), the sums of spend, leads, conversions and revenue measured (null where nothing was).
 * Measured money in another currency is left out, never converted. */
app_err planning_store_history(db_conn *conn, const char *org, const char *currency, const char *exclude_id,
                               char **json);

/* *json (malloc'd) gets {"audience": the people the segments of ids_json (a JSON array of uuids) reach, or null
 * where unknown; "unknown": how many of those ids name no segment of org}. */
app_err planning_store_audience(db_conn *conn, const char *org, const char *ids_json, char **json);

/* A fitted model as the engine encoded it (fc_model_encode); bytes NULL: none. */
typedef struct {
    unsigned char *bytes;
    size_t len;
} planning_fit_bytes;

/* The fits kept for org's scope (forecast_fits, 0021) whose inputs are `inputs`: out[k] gets the model of KPI
 * kpis[k] where one is kept (out's entries must start empty; planning_fit_bytes_free). */
app_err planning_store_fits(db_conn *conn, const char *org, const char *scope, const char *inputs,
                            const char *const *kpis, size_t n_kpis, planning_fit_bytes *out);
void planning_fit_bytes_free(planning_fit_bytes *b, size_t n);

/* Keeps a fit of KPI kpi for org's scope and inputs, replacing the scope's fit of other inputs. */
app_err planning_store_keep_fit(db_conn *conn, const char *org, const char *scope, const char *kpi,
                                const char *inputs, const unsigned char *bytes, size_t len);

#endif
