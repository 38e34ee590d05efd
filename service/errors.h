/* errors.h — the one table that maps every failure to an HTTP status, a stable
 * machine code and a title. Codes are part of the public contract (openapi.yaml):
 * never reuse one for another meaning; add a new one instead. */
#ifndef CAMPAIGND_ERRORS_H
#define CAMPAIGND_ERRORS_H

#include <stddef.h>

typedef enum app_err {
    APP_OK = 0,
    APP_ERR_MALFORMED_JSON,
    APP_ERR_MALFORMED_CSV,
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
    APP_ERR_UNMITIGATED_RISK,
    APP_ERR_CONFLICT_BLOCKED,
    APP_ERR_MIXED_CURRENCIES,
    APP_ERR_PRECONDITION_FAILED,
    APP_ERR_PAYLOAD_TOO_LARGE,
    APP_ERR_URI_TOO_LONG,
    APP_ERR_UNSUPPORTED_MEDIA_TYPE,
    APP_ERR_HEADERS_TOO_LARGE,
    APP_ERR_VALIDATION,
    APP_ERR_IDEMPOTENCY_KEY_REUSED,
    APP_ERR_INSUFFICIENT_HISTORY,
    APP_ERR_ALLOCATION_INFEASIBLE,
    APP_ERR_RATE_LIMITED,
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

/* One row of the constraint table: what a refusal by the named database
 * constraint (or trigger rule, raised with CONSTRAINT = name) means to a client.
 * This table is the only place in the program that knows a constraint name. */
typedef struct app_constraint {
    const char *name;
    app_err err;          /* a write of the constrained row was refused */
    const char *rule;     /* stable rule reported with booking_conflict, or NULL */
    const char *field;    /* the body field at fault (422s report it in errors[]), or NULL */
    const char *sentence; /* the problem's detail */
    /* Foreign keys only: the parent row was deleted while others still reference it
     * (the same constraint name, seen from the other side). APP_OK: not a foreign key. */
    app_err referenced_err;
    const char *referenced_sentence;
} app_constraint;

/* The table row for a constraint name, or NULL (borrowed, static). */
const app_constraint *app_constraint_lookup(const char *name);

/* The constraint table itself, for tests: *n gets its length (borrowed, static). */
const app_constraint *app_constraint_table(size_t *n);

/* A refused statement, as a value: what the client is told and, for the booking
 * rules, the items in the way. Filled by the db layer; rendered by the API. */
typedef struct app_refusal {
    app_err err;
    const char *rule;     /* borrowed from the table, or NULL */
    const char *field;    /* borrowed from the table, or NULL */
    const char *sentence; /* borrowed from the table, or NULL (use the code's title) */
    char *items;          /* malloc'd JSON array text of the rows in the way (booking rules, the
                           * risks that block scheduling), or NULL */
} app_refusal;

/* Fills *r for a statement the database refused and returns r->err.
 * sqlstate: 5 characters (NULL when the connection itself failed); constraint
 * and detail may be NULL; deleting: the statement deletes rows, so a foreign
 * key violation (23503) means the row is still referenced, not that a written
 * row names a missing parent. The booking rules' detail (a JSON array) is kept
 * as r->items. r must be released with app_refusal_clear. */
app_err app_refusal_from_db(app_refusal *r, const char *sqlstate, const char *constraint, const char *detail,
                            int deleting);

/* A refusal that is only an error code (no constraint behind it). */
void app_refusal_set(app_refusal *r, app_err err);

/* Frees r->items and resets r to APP_OK. NULL is a no-op. */
void app_refusal_clear(app_refusal *r);

/* The error alone, for callers without a refusal to fill (as app_refusal_from_db). */
app_err app_err_from_sqlstate(const char *sqlstate, const char *constraint);

#endif
