/* handlers.h — every route handler, one h_<thing>.c file per resource. */
#ifndef CAMPAIGND_HANDLERS_H
#define CAMPAIGND_HANDLERS_H

#include <jansson.h>

#include "http.h"

void h_healthz(req_ctx *ctx);
void h_readyz(req_ctx *ctx);
void h_metrics(req_ctx *ctx);
void h_openapi(req_ctx *ctx);

void h_campaign_list(req_ctx *ctx);
void h_campaign_export(req_ctx *ctx);
void h_campaign_import(req_ctx *ctx);
void h_campaign_create(req_ctx *ctx);
void h_campaign_get(req_ctx *ctx);
void h_campaign_patch(req_ctx *ctx);
void h_campaign_delete(req_ctx *ctx);
void h_campaign_transition(req_ctx *ctx);

void h_segment_list(req_ctx *ctx);
void h_segment_create(req_ctx *ctx);
void h_segment_get(req_ctx *ctx);
void h_segment_patch(req_ctx *ctx);
void h_segment_delete(req_ctx *ctx);
void h_segment_overlaps_get(req_ctx *ctx);
void h_segment_overlaps_put(req_ctx *ctx);

void h_resource_list(req_ctx *ctx);
void h_resource_create(req_ctx *ctx);
void h_resource_get(req_ctx *ctx);
void h_resource_patch(req_ctx *ctx);
void h_resource_delete(req_ctx *ctx);
void h_availability_list(req_ctx *ctx);
void h_availability_create(req_ctx *ctx);
void h_availability_delete(req_ctx *ctx);

void h_booking_list(req_ctx *ctx);
void h_booking_export(req_ctx *ctx);
void h_booking_import(req_ctx *ctx);
void h_booking_create(req_ctx *ctx);
void h_booking_get(req_ctx *ctx);
void h_booking_patch(req_ctx *ctx);
void h_booking_cancel(req_ctx *ctx);

void h_key_event_list(req_ctx *ctx);
void h_key_event_create(req_ctx *ctx);
void h_key_event_get(req_ctx *ctx);
void h_key_event_patch(req_ctx *ctx);
void h_key_event_delete(req_ctx *ctx);
void h_calendar(req_ctx *ctx);
void h_calendar_ics(req_ctx *ctx);
void h_feed_token_list(req_ctx *ctx);
void h_feed_token_create(req_ctx *ctx);
void h_feed_token_delete(req_ctx *ctx);

void h_workflow_list(req_ctx *ctx);
void h_workflow_create(req_ctx *ctx);
void h_workflow_get(req_ctx *ctx);
void h_workflow_patch(req_ctx *ctx);
void h_workflow_delete(req_ctx *ctx);
void h_approval_submit(req_ctx *ctx);
void h_approval_list(req_ctx *ctx);
void h_approval_get(req_ctx *ctx);
void h_approval_decide(req_ctx *ctx);

void h_campaign_risk_list(req_ctx *ctx);
void h_campaign_risk_create(req_ctx *ctx);
void h_risk_list(req_ctx *ctx);
void h_risk_get(req_ctx *ctx);
void h_risk_patch(req_ctx *ctx);
void h_risk_delete(req_ctx *ctx);
void h_risk_matrix(req_ctx *ctx);

void h_kpi_catalogue(req_ctx *ctx);
void h_forecast_create(req_ctx *ctx);
void h_forecast_backtest(req_ctx *ctx);
void h_budget_allocate(req_ctx *ctx);
void h_targets_get(req_ctx *ctx);
void h_targets_put(req_ctx *ctx);
void h_measurement_batch(req_ctx *ctx);
void h_measurement_list(req_ctx *ctx);
void h_measurement_delete(req_ctx *ctx);
void h_dashboard_campaign(req_ctx *ctx);
void h_dashboard_channels(req_ctx *ctx);
void h_dashboard_portfolio(req_ctx *ctx);
void h_dashboard_capacity(req_ctx *ctx);
void h_measurement_import(req_ctx *ctx);
void h_measurement_export(req_ctx *ctx);

/* The measurement list's filters (campaign_id, channel, source, from, to, in
 * that order in f->v), shared by the JSON list and the CSV export; replies
 * 400 on a bad value. */
struct crud_filter;
int measurement_filters_or_reply(req_ctx *ctx, struct crud_filter *f);

/* Whether the caller may ingest measurements (any campaign's, or their own
 * campaigns'); replies 403 otherwise. */
int measurement_may_ingest_or_reply(req_ctx *ctx);

/* Checks, stores and answers rows of measurements (a JSON array) in one
 * transaction: 200 with each row's outcome (created, updated, unchanged,
 * failed with its errors) and a summary, or 422 when no row is good.
 * j_request is the request as the Idempotency-Key fingerprint sees it;
 * lines (may be NULL) the CSV line of each row, reported with it. */
void measurement_ingest(req_ctx *ctx, json_t *j_request, json_t *j_rows, const int *lines);
void h_settings_get(req_ctx *ctx);
void h_settings_patch(req_ctx *ctx);

void h_conflict_list(req_ctx *ctx);
void h_conflict_check(req_ctx *ctx);
void h_webhook_list(req_ctx *ctx);
void h_webhook_create(req_ctx *ctx);
void h_webhook_get(req_ctx *ctx);
void h_webhook_patch(req_ctx *ctx);
void h_webhook_delete(req_ctx *ctx);
void h_webhook_rotate(req_ctx *ctx);
void h_webhook_delivery_list(req_ctx *ctx);
void h_webhook_delivery_retry(req_ctx *ctx);

void h_audit_list(req_ctx *ctx);

/* The bearer-token check every authenticated route gets before its handler
 * (server.c); called directly by a route that also accepts another
 * credential (the calendar feed). Fills ctx->claims; replies 401 on failure. */
int mw_auth(req_ctx *ctx);

/* Rolls back a write the booking rules refused (*why, APP_ERR_BOOKING_CONFLICT
 * on tx) and replies 409 booking_conflict with the rule and the items in the
 * way: the refusal's items when the guard gave them, else looked up for
 * resource_id and [start, end) except except_id. resource_kind (may be NULL)
 * names person_unavailable; detail (NULL: the refusal's sentence) is the
 * problem's human sentence. Clears *why. */
struct write_tx;
void reply_booking_conflict(req_ctx *ctx, struct write_tx *tx, app_refusal *why, const char *resource_id,
                            const char *start, const char *end, const char *except_id, const char *resource_kind,
                            const char *detail);

#endif
