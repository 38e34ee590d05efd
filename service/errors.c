/* errors.c — see errors.h. */
#include "errors.h"

#include <string.h>

static const app_err_info err_table[APP_ERR__COUNT] = {
    [APP_OK] = {200, "ok", "OK"},
    [APP_ERR_MALFORMED_JSON] = {400, "malformed_json", "The request body is not a valid JSON object"},
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
    [APP_ERR_PRECONDITION_FAILED] = {412, "precondition_failed", "The resource has changed (If-Match failed)"},
    [APP_ERR_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "The request body is too large"},
    [APP_ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type", "Unsupported Content-Type"},
    [APP_ERR_VALIDATION] = {422, "validation_failed", "The request has invalid fields"},
    [APP_ERR_IDEMPOTENCY_KEY_REUSED] = {422, "idempotency_key_reused",
                                        "This Idempotency-Key was used with a different request"},
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

app_err app_err_from_sqlstate(const char *sqlstate, const char *constraint)
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
    if (strcmp(sqlstate, "23505") == 0)
        return APP_ERR_ALREADY_EXISTS;
    if (strcmp(sqlstate, "23503") == 0)
        return APP_ERR_STILL_REFERENCED;
    if (strcmp(sqlstate, "23514") == 0 && constraint && strcmp(constraint, "campaign_status_transition") == 0)
        return APP_ERR_INVALID_TRANSITION;
    if (strcmp(sqlstate, "23514") == 0 && constraint && strcmp(constraint, "bookings_resource_active") == 0)
        return APP_ERR_RESOURCE_INACTIVE;
    if (strcmp(sqlstate, "23514") == 0 && constraint &&
        (strcmp(constraint, "bookings_cancelled_final") == 0 || strcmp(constraint, "approval_decisions_current_step") == 0 ||
         strcmp(constraint, "approval_requests_closed_final") == 0 ||
         strcmp(constraint, "campaign_tentative_bookings") == 0 || strcmp(constraint, "campaign_approved_frozen") == 0))
        return APP_ERR_INVALID_STATE;
    if (strcmp(sqlstate, "23514") == 0 && constraint && strcmp(constraint, "approval_decisions_not_owner") == 0)
        return APP_ERR_FORBIDDEN;
    if (strcmp(sqlstate, "23P01") == 0)
        return APP_ERR_BOOKING_CONFLICT; /* exclusion constraint, or a booking rule raised by bookings_guard */
    if (strcmp(sqlstate, "23514") == 0 || strcmp(sqlstate, "23502") == 0)
        return APP_ERR_VALIDATION; /* the C validation should have caught it first */
    if (strncmp(sqlstate, "23", 2) == 0)
        return APP_ERR_CONFLICT; /* any other integrity violation */
    if (strncmp(sqlstate, "22", 2) == 0)
        return APP_ERR_VALIDATION; /* data exception: a value the database cannot take */
    return APP_ERR_INTERNAL;
}
