/* planning.h — forecasts, backtests and budget allocations as the API speaks them: the bodies' rules, the
 * history the store reads turned into the engine's structs (service/engine/forecast.h), and the engine's answers
 * as JSON. Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_PLANNING_H
#define CAMPAIGND_PLANNING_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/forecast.h"
#include "errors.h"
#include "validate.h"

#define PLANNING_CHANNELS_MAX 20
#define PLANNING_SEGMENTS_MAX 50 /* a campaign's, as campaign.c allows */

/* Body rules; each returns the number of errors added to v. */
size_t planning_validate_forecast(json_t *j_body, verrs *v);
size_t planning_validate_allocate(json_t *j_body, verrs *v);
size_t planning_validate_backtest(json_t *j_body, verrs *v);

/* The organisation's completed campaigns as the engine reads them, with one channel list for all of them; or,
 * read from a kept summary (planning_history_from_summary), only what an answer says of them: campaigns NULL. */
typedef struct planning_history {
    size_t n_channels;
    size_t n_known;         /* the first n_known channels are the history's, the others only the request's */
    char **channels;        /* names, [n_channels] */
    bool *used;             /* [n_channels]: some campaign of the history spent on it */
    fc_campaign *campaigns; /* [history.n_campaigns], NULL when read from a summary */
    double *values;         /* the arrays the campaigns point into */
    char first[11], last[11]; /* the first start and last end date among them ("" when none) */
    fc_history history;
} planning_history;

/* Reads the store's history (a JSON array of {"start", "end", "audience" (null: unknown), "budgets": [{channel,
 * amount}], "rows": [{channel|null, spend, leads, conversions, revenue}]}, values null where not measured) into h,
 * adding the channels named by j_channels (an array of objects with "channel", may be NULL) that it does not
 * hold. Spend per channel is the measured spend, or the channel budget where none was measured. Returns 0, or -1
 * (out of memory or unreadable). */
int planning_history_load(const char *json, json_t *j_channels, planning_history *h);
/* What a forecast's answer says of h's history (its channels, those spent on, the campaigns, the first and last
 * dates), as JSON text (malloc'd), or NULL (out of memory). */
char *planning_history_summary(const planning_history *h);
/* h from a summary planning_history_summary wrote, with the channels of j_channels it does not hold (as
 * planning_history_load adds them): everything but the campaigns. Returns 0, or -1. */
int planning_history_from_summary(const char *summary, json_t *j_channels, planning_history *h);
void planning_history_free(planning_history *h);
/* The index of a channel by name, or -1. */
long planning_channel(const planning_history *h, const char *name);

/* ---- the fits ---- */

/* A request's fitted models, per KPI: kept ones decoded (planning_fits_decode, planning_fits_refused), the
 * others fitted here (planning_fits_complete). */
typedef struct {
    fc_model *model[FC_KPIS];  /* NULL: not fitted (status says why) */
    fc_status status[FC_KPIS]; /* the fit's, FC_OK with a model */
    bool known[FC_KPIS];       /* a model or a refusal, read or fitted */
    bool fitted[FC_KPIS];      /* fitted by this request (not read): worth keeping */
} planning_fits;

/* What a kept fit is keyed by, as hex SHA-256s: scope, the history's currency, the campaign left out
 * (exclude_id, may be NULL) and h's channels in order; inputs, the fit's version, the scope and the history's
 * version (planning_store_history), so equal inputs give the same fit. Returns 0, or -1. */
int planning_fit_keys(const planning_history *h, const char *version, const char *currency, const char *exclude_id,
                      char scope[65], char inputs[65]);
/* Takes the model encoded in bytes as KPI kpi's fit over h; false (nothing taken) when they are not a model of
 * it with h's channels. */
bool planning_fits_decode(planning_fits *f, const planning_history *h, fc_kpi kpi, const unsigned char *bytes,
                          size_t len);
/* Takes a kept refusal (planning_fit_refusal's name) as KPI kpi's fit; false when it is not one. */
bool planning_fits_refused(planning_fits *f, fc_kpi kpi, const char *refusal);
/* The name a refusal of a fit is kept under, or NULL when it is not kept (only a lack of history is). */
const char *planning_fit_refusal(fc_status st);
/* Whether every KPI of mask has a model or a refusal. */
bool planning_fits_known(const planning_fits *f, unsigned mask);
/* Fits over h (with its campaigns) each KPI of mask (bits 1 << kpi) without a model or a refusal yet. */
void planning_fits_complete(const planning_history *h, unsigned mask, planning_fits *f);
void planning_fits_free(planning_fits *f);

/* An engine refusal of a whole request, as an error and a sentence (static). */
app_err planning_refusal(fc_status st, const char **detail);

/* The forecast of a plan from the fits of every KPI (spend per channel of h, in cents; days; the people it reaches, 0: unknown) as the
 * response body, or NULL (out of memory) with *st FC_OK; when no KPI can be forecast, NULL with *st the engine's
 * reason. */
json_t *planning_forecast(const planning_history *h, const planning_fits *fits, const long long *cents,
                          const char *start, const char *end, const char *currency, double audience, fc_status *st);

/* The allocation asked by j_body (valid), from the fit of its KPI, for a plan reaching `audience` people (0: unknown) over h, or NULL with
 * *st (FC_ERR_INFEASIBLE: *j_refusal has the problem's extra members "bound" and "channel"). */
json_t *planning_allocate(const planning_history *h, const planning_fits *fits, json_t *j_body, double audience,
                          fc_status *st, json_t **j_refusal);

/* The backtest asked by j_body (valid) over h, or NULL with *st. */
json_t *planning_backtest(const planning_history *h, json_t *j_body, fc_status *st);

/* "1250.05" → 125005 cents; -1 when not a valid amount. */
long long planning_cents(const char *amount);
/* Days from 1970-01-01 of a valid date YYYY-MM-DD. */
long planning_day(const char *date);

#endif
