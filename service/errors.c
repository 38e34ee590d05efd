/* errors.c — see errors.h. */
#include "errors.h"

#include <stdlib.h>
#include <string.h>

static const app_err_info err_table[APP_ERR__COUNT] = {
    [APP_OK] = {200, "ok", "OK"},
    [APP_ERR_MALFORMED_JSON] = {400, "malformed_json", "The request body is not a valid JSON object"},
    [APP_ERR_MALFORMED_CSV] = {400, "malformed_csv", "The request body is not readable CSV"},
    [APP_ERR_INVALID_PARAMETER] = {400, "invalid_parameter", "A parameter or header is invalid"},
    [APP_ERR_INVALID_CURSOR] = {400, "invalid_cursor", "The pagination cursor is invalid"},
    [APP_ERR_UNAUTHORIZED] = {401, "unauthorized", "Authentication is required"},
    [APP_ERR_FORBIDDEN] = {403, "forbidden", "This action is not allowed for your role"},
    [APP_ERR_NOT_FOUND] = {404, "not_found", "Not found"},
    [APP_ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "Method not allowed on this resource"},
    [APP_ERR_ALREADY_EXISTS] = {409, "already_exists", "A resource with the same unique value already exists"},
    [APP_ERR_STILL_REFERENCED] = {409, "still_referenced", "The resource is still referenced by others"},
    [APP_ERR_INVALID_TRANSITION] = {409, "invalid_transition", "This status change is not allowed"},
    [APP_ERR_INVALID_STATE] = {409, "invalid_state", "The resource is not in a state that allows this"},
    [APP_ERR_IDEMPOTENCY_IN_PROGRESS] = {409, "idempotency_in_progress",
                                         "A request with this Idempotency-Key is still in progress"},
    [APP_ERR_CONFLICT] = {409, "conflict", "The request conflicts with the current state"},
    [APP_ERR_BOOKING_CONFLICT] = {409, "booking_conflict", "The resource cannot take this booking"},
    [APP_ERR_RESOURCE_INACTIVE] = {409, "resource_inactive", "The resource is inactive and takes no new bookings"},
    [APP_ERR_UNMITIGATED_RISK] = {409, "unmitigated_critical_risk",
                                  "An open critical risk without a mitigation blocks scheduling"},
    [APP_ERR_CONFLICT_BLOCKED] = {409, "conflict_blocked", "The conflict rules refuse this change"},
    [APP_ERR_MIXED_CURRENCIES] = {409, "mixed_currencies", "The figures are in more than one currency"},
    [APP_ERR_PRECONDITION_FAILED] = {412, "precondition_failed", "The resource has changed (If-Match failed)"},
    [APP_ERR_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "The request body is too large"},
    [APP_ERR_URI_TOO_LONG] = {414, "uri_too_long", "The request target is too long"},
    [APP_ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type", "Unsupported Content-Type"},
    [APP_ERR_HEADERS_TOO_LARGE] = {431, "headers_too_large", "The request header fields are too large"},
    [APP_ERR_VALIDATION] = {422, "validation_failed", "The request has invalid fields"},
    [APP_ERR_IDEMPOTENCY_KEY_REUSED] = {422, "idempotency_key_reused",
                                        "This Idempotency-Key was used with a different request"},
    [APP_ERR_INSUFFICIENT_HISTORY] = {422, "insufficient_history",
                                      "Too little completed history to forecast from"},
    [APP_ERR_ALLOCATION_INFEASIBLE] = {422, "allocation_infeasible", "No split of the budget meets these bounds"},
    [APP_ERR_RATE_LIMITED] = {429, "rate_limited", "Too many requests: wait for the time Retry-After gives"},
    [APP_ERR_INTERNAL] = {500, "internal_error", "Internal server error"},
    [APP_ERR_UNAVAILABLE] = {503, "service_unavailable", "The service is temporarily unavailable"},
    [APP_ERR_TIMEOUT] = {503, "timeout", "The request took too long"},
};

const app_err_info *app_err_lookup(app_err err)
{
    if ((int)err < 0 || err >= APP_ERR__COUNT || err_table[err].code == NULL)
        return &err_table[APP_ERR_INTERNAL];
    return &err_table[err];
}

/* Every constraint and trigger rule a client can run into, by name. A foreign key has two sides: a write
 * that names a missing parent (a field error when the parent comes from the body, 404 when it is the path's
 * resource, which another request deleted meanwhile) and a delete of a parent that rows still reference. */
#define NAMED(name, err, rule, field, sentence) {name, err, rule, field, sentence, APP_OK, NULL}
#define FOREIGN_KEY(name, err, field, sentence, referenced_sentence) \
    {name, err, NULL, field, sentence, APP_ERR_STILL_REFERENCED, referenced_sentence}
static const app_constraint constraints[] = {
    /* segments */
    NAMED("segments_name_unique", APP_ERR_ALREADY_EXISTS, NULL, "name", "a segment with this name already exists"),
    FOREIGN_KEY("segments_parent_same_org", APP_ERR_VALIDATION, "parent_id", "no such segment in your organisation",
                "the segment is the parent of other segments"),
    NAMED("segments_not_own_parent", APP_ERR_VALIDATION, NULL, "parent_id", "would make the segment its own ancestor"),
    NAMED("segments_no_cycle", APP_ERR_VALIDATION, NULL, "parent_id", "would make the segment its own ancestor"),
    /* campaigns */
    NAMED("campaigns_dates", APP_ERR_VALIDATION, NULL, "end_date", "must not be before start_date"),
    NAMED("campaigns_dates_representable", APP_ERR_VALIDATION, NULL, "end_date",
          "dates must be from 1900-01-01 to 9999-12-30"),
    NAMED("campaigns_budget_pair", APP_ERR_VALIDATION, NULL, "budget", "needs both amount and currency"),
    NAMED("campaigns_scoring_all_or_none", APP_ERR_VALIDATION, NULL, "scoring", "needs all four scores or none"),
    NAMED("campaign_status_transition", APP_ERR_INVALID_TRANSITION, NULL, NULL, "this status change is not allowed"),
    NAMED("campaign_tentative_bookings", APP_ERR_INVALID_STATE, NULL, NULL,
          "the campaign has tentative bookings: confirm or cancel them before scheduling"),
    NAMED("campaign_approved_frozen", APP_ERR_INVALID_STATE, NULL, NULL,
          "the campaign is approved: a material change sends it back to draft first"),
    FOREIGN_KEY("campaign_segments_campaign", APP_ERR_NOT_FOUND, NULL, "no campaign with this id",
                "the campaign still targets segments"),
    FOREIGN_KEY("campaign_segments_segment", APP_ERR_VALIDATION, "segment_ids", "no such segment in your organisation",
                "the segment is targeted by a campaign"),
    /* resources and availability */
    NAMED("resources_name_unique", APP_ERR_ALREADY_EXISTS, NULL, "name", "a resource with this name already exists"),
    NAMED("resources_cost_pair", APP_ERR_VALIDATION, NULL, "cost_per_unit", "needs both amount and currency"),
    NAMED("resources_unit_kind", APP_ERR_VALIDATION, NULL, "capacity_unit",
          "hours_per_week is for people and sends_per_day for channels"),
    NAMED("resources_skills_people", APP_ERR_VALIDATION, NULL, "skills", "only a person has skills"),
    /* the key bookings reference to copy exclusive; written only by the schema itself */
    NAMED("resources_exclusive_key", APP_ERR_INTERNAL, NULL, NULL, "the resource's booking key is inconsistent"),
    NAMED("availability_period", APP_ERR_VALIDATION, NULL, "end", "must be after start"),
    NAMED("availability_period_representable", APP_ERR_VALIDATION, NULL, "end",
          "the period must fall from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z in UTC"),
    FOREIGN_KEY("availability_resource", APP_ERR_NOT_FOUND, NULL, "no resource with this id",
                "the resource has availability periods"),
    /* bookings: the rules of bookings_guard (raised with the items in the way) and the exclusion constraint */
    NAMED("bookings_no_overlap", APP_ERR_BOOKING_CONFLICT, "resource_double_booked", NULL,
          "the resource is already booked in this period"),
    NAMED("bookings_capacity", APP_ERR_BOOKING_CONFLICT, "capacity_exceeded", NULL,
          "the booking would exceed the resource's capacity"),
    NAMED("resource_unavailable", APP_ERR_BOOKING_CONFLICT, "resource_unavailable", NULL,
          "the resource is unavailable in this period"),
    NAMED("availability_booked", APP_ERR_BOOKING_CONFLICT, "resource_booked", NULL,
          "bookings already hold the resource in this period"),
    NAMED("bookings_period", APP_ERR_VALIDATION, NULL, "end", "must be after start"),
    NAMED("bookings_period_representable", APP_ERR_VALIDATION, NULL, "end",
          "the period must fall from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z in UTC"),
    NAMED("bookings_fixed_refs", APP_ERR_VALIDATION, NULL, "resource_id", "a booking keeps its campaign and resource"),
    NAMED("bookings_cancelled_final", APP_ERR_INVALID_STATE, NULL, NULL,
          "the booking is cancelled; make a new booking instead"),
    NAMED("bookings_resource_active", APP_ERR_RESOURCE_INACTIVE, NULL, NULL,
          "the resource is inactive; activate it or book another"),
    /* bookings against their campaign's status (bookings_guard, under the campaign's lock: 0010, 0025) */
    NAMED("bookings_campaign_closed", APP_ERR_INVALID_STATE, NULL, NULL,
          "the campaign is cancelled or completed: it takes no new bookings and no changes to its bookings "
          "other than cancelling them"),
    NAMED("bookings_campaign_scheduled", APP_ERR_INVALID_STATE, NULL, NULL,
          "the campaign is scheduled, so its bookings are confirmed: book with status confirmed, or move the "
          "campaign back to approved first"),
    FOREIGN_KEY("bookings_campaign", APP_ERR_VALIDATION, "campaign_id", "no such campaign in your organisation",
                "the campaign has bookings"),
    FOREIGN_KEY("bookings_resource", APP_ERR_VALIDATION, "resource_id", "no such resource in your organisation",
                "the resource has bookings; deactivate it instead"),
    FOREIGN_KEY("bookings_segment", APP_ERR_VALIDATION, "segment_id", "no such segment in your organisation",
                "the segment is used by a booking"),
    /* key events and feed tokens */
    NAMED("key_events_dates", APP_ERR_VALIDATION, NULL, "end_date", "must not be before start_date"),
    NAMED("key_events_dates_representable", APP_ERR_VALIDATION, NULL, "end_date",
          "dates must be from 1900-01-01 to 9999-12-30"),
    NAMED("calendar_feed_tokens_revoked_final", APP_ERR_INVALID_STATE, NULL, NULL, "the feed token is revoked"),
    NAMED("calendar_feed_tokens_fixed", APP_ERR_INVALID_STATE, NULL, NULL,
          "a feed token's organisation and creator are fixed"),
    /* workflows and approvals */
    NAMED("workflows_name_unique", APP_ERR_ALREADY_EXISTS, NULL, "name", "a workflow with this name already exists"),
    NAMED("workflows_steps", APP_ERR_VALIDATION, NULL, "steps",
          "must be 1 to 20 steps, each with a name and a deciding role"),
    NAMED("approval_requests_one_pending", APP_ERR_INVALID_STATE, NULL, NULL,
          "the campaign already has an open approval request"),
    FOREIGN_KEY("approval_requests_workflow", APP_ERR_VALIDATION, "workflow_id",
                "no active workflow with this id in your organisation",
                "approval requests used the workflow; it is archived instead"),
    FOREIGN_KEY("approval_requests_campaign", APP_ERR_NOT_FOUND, NULL, "no campaign with this id",
                "the campaign has approval requests"),
    /* the request's own bookkeeping, written only by the service: breaking it is a bug (500) */
    NAMED("approval_requests_steps", APP_ERR_INTERNAL, NULL, NULL, "the request's steps are malformed"),
    NAMED("approval_requests_step", APP_ERR_INTERNAL, NULL, NULL, "the request's current step is out of range"),
    NAMED("approval_requests_closed", APP_ERR_INTERNAL, NULL, NULL, "the request's closing time is inconsistent"),
    NAMED("approval_requests_fixed", APP_ERR_INVALID_STATE, NULL, NULL,
          "an approval request's steps, rules, campaign and workflow are fixed"),
    NAMED("approval_requests_closed_final", APP_ERR_INVALID_STATE, NULL, NULL,
          "the approval request is closed; it takes no more decisions"),
    NAMED("approval_decisions_one_per_step", APP_ERR_INVALID_STATE, NULL, NULL,
          "this step was decided by someone else just now"),
    NAMED("approval_decisions_current_step", APP_ERR_INVALID_STATE, NULL, NULL,
          "this step was decided by someone else just now"),
    NAMED("approval_decisions_not_owner", APP_ERR_FORBIDDEN, NULL, NULL,
          "the campaign's owner never decides its own approval"),
    NAMED("approval_decisions_distinct_deciders", APP_ERR_FORBIDDEN, NULL, NULL,
          "you already decided a step of this request; its workflow wants another person for each step"),
    NAMED("approval_decisions_readonly", APP_ERR_INVALID_STATE, NULL, NULL, "decisions are history and never change"),
    NAMED("approval_decisions_comment", APP_ERR_VALIDATION, NULL, "comment",
          "is required to reject or to request changes"),
    FOREIGN_KEY("approval_decisions_request", APP_ERR_NOT_FOUND, NULL, "no approval request with this id",
                "the approval request has decisions"),
    /* risks and the scheduling gate (raised with the risks in the way) */
    NAMED("risks_due_date_representable", APP_ERR_VALIDATION, NULL, "due_date",
          "must be from 1900-01-01 to 9999-12-30"),
    NAMED("risks_mitigation_not_blank", APP_ERR_VALIDATION, NULL, "mitigation",
          "must not be blank; send null for no mitigation"),
    NAMED("risks_fixed_campaign", APP_ERR_INVALID_STATE, NULL, NULL, "a risk keeps its campaign"),
    FOREIGN_KEY("risks_campaign", APP_ERR_NOT_FOUND, NULL, "no campaign with this id", "the campaign has risks"),
    NAMED("risks_scheduled_unmitigated", APP_ERR_UNMITIGATED_RISK, NULL, NULL,
          "the campaign is scheduled: an open critical risk needs a mitigation, or move the campaign back to "
          "approved first"),
    NAMED("campaign_unmitigated_risks", APP_ERR_UNMITIGATED_RISK, NULL, NULL,
          "the campaign has open critical risks without a mitigation: mitigate, accept or close them first"),
    /* set only by risks_guard from the organisation's thresholds: breaking it is a bug */
    NAMED("risks_level", APP_ERR_INTERNAL, NULL, NULL, "a risk's level is not one of low, medium, high, critical"),
    /* KPIs: channel budgets, measurements, targets */
    NAMED("campaigns_channel_budgets", APP_ERR_VALIDATION, NULL, "channel_budgets",
          "must be unique channels with amounts summing to at most the budget (and none without a budget)"),
    NAMED("measurements_key", APP_ERR_CONFLICT, NULL, NULL,
          "another request stored a measurement with this source and external_id just now; retry"),
    FOREIGN_KEY("measurements_campaign", APP_ERR_VALIDATION, "campaign_id", "no such campaign in your organisation",
                "the campaign has measurements"),
    /* written only by the service, which gives money rows their campaign's currency: breaking it is a bug */
    NAMED("measurements_money_currency", APP_ERR_INTERNAL, NULL, NULL, "a measurement with money has no currency"),
    NAMED("kpi_targets_unique", APP_ERR_VALIDATION, NULL, "targets", "has two targets for one kpi and channel"),
    NAMED("kpi_targets_unit_value", APP_ERR_VALIDATION, NULL, "targets",
          "a count target must be whole and a money target have at most 2 decimals"),
    FOREIGN_KEY("kpi_target_sets_campaign", APP_ERR_NOT_FOUND, NULL, "no campaign with this id",
                "the campaign has KPI targets"),
    FOREIGN_KEY("kpi_targets_set", APP_ERR_INTERNAL, NULL, "the targets' set is missing", "the set has targets"),
    /* the KPI alerts' records (0050_kpi_alerts.sql): a set of targets replaced while a batch judged them */
    FOREIGN_KEY("kpi_target_alerts_target", APP_ERR_CONFLICT, NULL,
                "the campaign's targets were replaced while this batch was judged against them; send it again",
                "the target has an alert"),
    FOREIGN_KEY("campaign_budget_alerts_campaign", APP_ERR_CONFLICT, NULL,
                "the campaign was deleted while this batch was judged; send it again", "the campaign has an alert"),
    /* committed costs, kept by the bookings' triggers (0013_campaign_commitments.sql; deleted with the campaign) */
    FOREIGN_KEY("campaign_commitments_campaign", APP_ERR_INTERNAL, NULL, "a committed cost names no campaign",
                "the campaign has committed costs"),
    /* each campaign's kept document, written by its triggers (0052_campaign_documents.sql; deleted with it) */
    FOREIGN_KEY("campaign_documents_campaign", APP_ERR_INTERNAL, NULL, "a kept document names no campaign",
                "the campaign has a kept document"),
    /* who reaches which segment and when, written by the triggers of campaign_segments and campaigns
     * (0070_campaign_audience.sql; deleted with its campaign's segment) */
    FOREIGN_KEY("campaign_audience_pair", APP_ERR_INTERNAL, NULL, "an audience row names no campaign segment",
                "the campaign's segment has an audience row"),
    /* settings, segment overlaps and frequency caps (0018_conflicts.sql) */
    NAMED("org_settings_budget_order", APP_ERR_VALIDATION, NULL, "budget_warn_percent",
          "must not be above budget_block_percent"),
    NAMED("org_settings_weights", APP_ERR_VALIDATION, NULL, "priority_weights", "must not all be 0"),
    NAMED("org_settings_forceable", APP_ERR_VALIDATION, NULL, "forceable_rules",
          "may name only budget_overrun and blackout"),
    NAMED("org_settings_risk_levels", APP_ERR_VALIDATION, NULL, "risk_level_max",
          "must rise strictly within 1–25: low < medium < high"),
    NAMED("org_settings_time_zone", APP_ERR_VALIDATION, NULL, "time_zone",
          "is not a time zone PostgreSQL knows; use an IANA name such as Europe/Paris"),
    NAMED("segment_overlaps_ratio", APP_ERR_VALIDATION, NULL, "overlaps", "ratios must be from 0 to 1"),
    NAMED("segment_overlaps_order", APP_ERR_INTERNAL, NULL, NULL, "an overlap pair is stored out of order"),
    NAMED("segment_overlaps_pair", APP_ERR_INTERNAL, NULL, NULL, "an overlap pair is stored twice"),
    FOREIGN_KEY("segment_overlaps_a", APP_ERR_VALIDATION, "overlaps", "no such segment in your organisation",
                "the segment has declared overlaps"),
    FOREIGN_KEY("segment_overlaps_b", APP_ERR_VALIDATION, "overlaps", "no such segment in your organisation",
                "the segment has declared overlaps"),
    NAMED("resources_frequency_cap", APP_ERR_VALIDATION, NULL, "frequency_cap",
          "only channels have a frequency cap, with both sends and days"),
    /* webhooks (the service writes the delivery bookkeeping itself: breaking it is a bug, 500) */
    NAMED("webhook_subscriptions_event_types", APP_ERR_VALIDATION, NULL, "event_types",
          "must be event types (see the contract's list) or *"),
    NAMED("webhook_subscriptions_disabled", APP_ERR_INTERNAL, NULL, NULL,
          "a webhook disabled by the service must be inactive, with the time it was disabled"),
    NAMED("webhook_secrets_current", APP_ERR_CONFLICT, NULL, NULL,
          "the webhook's secret was rotated by someone else just now; try again"),
    NAMED("webhook_deliveries_pending", APP_ERR_INTERNAL, NULL, NULL, "a delivery's schedule is inconsistent"),
    FOREIGN_KEY("webhook_deliveries_subscription", APP_ERR_NOT_FOUND, NULL, "no webhook with this id",
                "the webhook has deliveries"),
};

const app_constraint *app_constraint_table(size_t *n)
{
    *n = sizeof constraints / sizeof constraints[0];
    return constraints;
}

const app_constraint *app_constraint_lookup(const char *name)
{
    if (!name || !*name) return NULL;
    for (size_t i = 0; i < sizeof constraints / sizeof constraints[0]; i++)
        if (strcmp(constraints[i].name, name) == 0) return &constraints[i];
    return NULL;
}

/* The SQLSTATE rules, for failures no table row names. */
static app_err from_sqlstate(const char *sqlstate, int deleting)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return APP_ERR_UNAVAILABLE; /* no server answer: the connection is gone */
    if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 ||
        strcmp(sqlstate, "57P03") == 0 || strcmp(sqlstate, "53300") == 0)
        return APP_ERR_UNAVAILABLE;
    if (strcmp(sqlstate, "57014") == 0 || strcmp(sqlstate, "55P03") == 0)
        return APP_ERR_TIMEOUT; /* statement or lock timeout */
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
        return APP_ERR_CONFLICT; /* serialization failure / deadlock: the client may retry */
    if (strcmp(sqlstate, "23505") == 0) return APP_ERR_ALREADY_EXISTS;
    if (strcmp(sqlstate, "23503") == 0) return deleting ? APP_ERR_STILL_REFERENCED : APP_ERR_VALIDATION;
    if (strcmp(sqlstate, "23P01") == 0) return APP_ERR_BOOKING_CONFLICT;
    if (strcmp(sqlstate, "23514") == 0 || strcmp(sqlstate, "23502") == 0)
        return APP_ERR_VALIDATION; /* the C validation should have caught it first */
    if (strncmp(sqlstate, "23", 2) == 0) return APP_ERR_CONFLICT; /* any other integrity violation */
    if (strncmp(sqlstate, "22", 2) == 0) return APP_ERR_VALIDATION; /* a value the database cannot take */
    return APP_ERR_INTERNAL;
}

void app_refusal_set(app_refusal *r, app_err err)
{
    if (!r) return;
    app_refusal_clear(r);
    r->err = err;
}

void app_refusal_clear(app_refusal *r)
{
    if (!r) return;
    free(r->items);
    memset(r, 0, sizeof *r);
}

app_err app_refusal_from_db(app_refusal *r, const char *sqlstate, const char *constraint, const char *detail,
                            int deleting)
{
    app_refusal_clear(r);
    const app_constraint *c = app_constraint_lookup(constraint);
    int integrity = sqlstate && strncmp(sqlstate, "23", 2) == 0;
    if (c && integrity && c->referenced_err != APP_OK && deleting && strcmp(sqlstate, "23503") == 0) {
        r->err = c->referenced_err;
        r->sentence = c->referenced_sentence;
    } else if (c && integrity) {
        r->err = c->err;
        r->rule = c->rule;
        r->field = c->field;
        r->sentence = c->sentence;
    } else {
        r->err = from_sqlstate(sqlstate, deleting);
    }
    /* The booking rules and the risk gate list the rows in the way as a JSON array in their DETAIL. */
    if ((r->err == APP_ERR_BOOKING_CONFLICT || r->err == APP_ERR_UNMITIGATED_RISK) && detail && detail[0] == '[' && !(r->items = strdup(detail)))
        r->err = APP_ERR_INTERNAL; /* a conflict without its items would mislead */
    return r->err;
}

app_err app_err_from_sqlstate(const char *sqlstate, const char *constraint)
{
    app_refusal r = {0};
    app_err e = app_refusal_from_db(&r, sqlstate, constraint, NULL, 0);
    app_refusal_clear(&r);
    return e;
}
