/* http.h — what every handler sees: the application, the request context, and
 * the route table entry. Handlers follow parse → (domain) → query → respond and
 * take a database connection only once the request is known to be valid. */
#ifndef CAMPAIGND_HTTP_H
#define CAMPAIGND_HTTP_H

#include <ulfius.h>

#include "auth.h"
#include "auth_cache.h"
#include "config.h"
#include "db.h"
#include "query.h"
#include "ratelimit.h"

typedef struct app {
    const config *cfg;
    db_pool *pool;
    auth_cache *tokens; /* verified bearer tokens (may be NULL) */
    ratelimit *limits;  /* per subject and organisation (NULL: no limits) */
} app;

typedef struct req_ctx req_ctx;
typedef void (*handler_fn)(req_ctx *ctx);

typedef struct route {
    const char *method;
    const char *path;     /* ulfius pattern, e.g. /v1/campaigns/:id */
    handler_fn handler;
    int needs_auth;       /* bearer token required */
} route;

struct req_ctx {
    app *app;
    const struct _u_request *req;
    struct _u_response *resp;
    const route *route;   /* NULL when no route matched */
    char request_id[130];
    auth_claims claims;   /* valid when route->needs_auth */
    query q;              /* parsed query string */
    int status;           /* the status replied, for logs and metrics */
    /* A read the handler left for its HTTP thread's batch (reply_after_read): the dispatch runs it with the
     * reads that the thread's other requests left in the same turn, all in one round trip, then calls done to
     * reply. stmt NULL: none. */
    struct {
        const db_stmt *stmt; /* (org, id) -> one row (document, version) or none */
        char id[37];
        void (*done)(req_ctx *ctx, const void *arg, app_err e, db_doc *doc);
        const void *arg;
        /* A write left for the batch (reply_after_writes): step is called with the batch's connection, first
         * with APP_OK, then with the outcome of the statements it queued (e, and *why: the refusal), until it
         * replies. NULL: none. */
        int (*step)(req_ctx *ctx, db_conn *conn, app_err e, app_refusal *why);
        void *state;
        void (*state_free)(void *state);
    } later;
    int may_wait;         /* the dispatch can keep this request for its thread's batch (reply_after_*) */
};

#endif
