/* errors.h — the one table that maps every failure to an HTTP status, a stable
 * machine code and a title. Codes are part of the public contract (openapi.yaml):
 * never reuse one for another meaning; add a new one instead. */
#ifndef CAMPAIGND_ERRORS_H
#define CAMPAIGND_ERRORS_H

typedef enum app_err {
    APP_OK = 0,
    APP_ERR_MALFORMED_JSON,
    APP_ERR_INVALID_PARAMETER,
    APP_ERR_INVALID_CURSOR,
    APP_ERR_UNAUTHORIZED,
    APP_ERR_FORBIDDEN,
    APP_ERR_NOT_FOUND,
    APP_ERR_METHOD_NOT_ALLOWED,
    APP_ERR_ALREADY_EXISTS,
    APP_ERR_STILL_REFERENCED,
    APP_ERR_INVALID_TRANSITION,
    APP_ERR_INVALID_STATE,
    APP_ERR_IDEMPOTENCY_IN_PROGRESS,
    APP_ERR_CONFLICT,
    APP_ERR_BOOKING_CONFLICT,
    APP_ERR_RESOURCE_INACTIVE,
    APP_ERR_PRECONDITION_FAILED,
    APP_ERR_PAYLOAD_TOO_LARGE,
    APP_ERR_UNSUPPORTED_MEDIA_TYPE,
    APP_ERR_VALIDATION,
    APP_ERR_IDEMPOTENCY_KEY_REUSED,
    APP_ERR_INTERNAL,
    APP_ERR_UNAVAILABLE,
    APP_ERR_TIMEOUT,
    APP_ERR__COUNT
} app_err;

typedef struct app_err_info {
    int status;        /* HTTP status */
    const char *code;  /* stable machine code, e.g. "validation_failed" */
    const char *title; /* short human summary, same for every occurrence */
} app_err_info;

/* Returns the table row for err; never NULL (unknown values map to internal_error). */
const app_err_info *app_err_lookup(app_err err);

/* Maps a PostgreSQL SQLSTATE (5 characters, may be NULL when the connection
 * itself failed) and the violated constraint name (may be NULL) to an error. */
app_err app_err_from_sqlstate(const char *sqlstate, const char *constraint);

#endif
