/* server.c — the one dispatch function every request goes through (wire.c
 * hands it each request over the libmicrohttpd thread pool): request id,
 * CORS, auth, handler, then one log line and the metrics. Keeping these steps
 * in one function (rather than ulfius priority tiers) gives one place that
 * sees every request end. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "routes.h"
#include "wire.h"

static app *the_app;

static int valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* splitmix64 (Steele, Lea, Flood 2014): a bijection of a counter, so one thread's ids never repeat within 2^64
 * calls. */
static uint64_t rid_mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A UUIDv4-shaped request id. Ids need to be unique, not secret (a client may send its own), so each HTTP
 * thread draws 64 random bits once and counts from there, rather than making a getrandom system call for every
 * request (one in six of a GET's system calls). */
static void new_request_id(char out[37])
{
    static __thread uint64_t state;
    static __thread int seeded;
    if (!seeded) {
        if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            state = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^ (uint64_t)(uintptr_t)&state;
        }
        seeded = 1;
    }
    unsigned char b[16];
    uint64_t hi = rid_mix(&state), lo = rid_mix(&state);
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (8 * i));
        b[8 + i] = (unsigned char)(lo >> (8 * i));
    }
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Adds CORS headers when the Origin is allowed; returns whether it is. */
static int mw_cors(req_ctx *ctx)
{
    const config *cfg = ctx->app->cfg;
    const char *origin = u_map_get_case(ctx->req->map_header, "Origin");
    if (!origin) return 0;
    int ok = cfg->cors_any;
    for (char **o = cfg->cors_origins; !ok && o && *o; o++) ok = strcmp(*o, origin) == 0;
    if (!ok) return 0;
    reply_header(ctx, "Access-Control-Allow-Origin", cfg->cors_any ? "*" : origin);
    reply_header(ctx, "Vary", "Origin");
    reply_header(ctx, "Access-Control-Expose-Headers",
                 "ETag, Location, X-Request-Id, Retry-After, Idempotent-Replayed, Approval-Effect, X-Calendar-Truncated");
    return 1;
}

/* Verifies the bearer token; replies 401 when it is missing or invalid. */
int mw_auth(req_ctx *ctx)
{
    const char *h = u_map_get_case(ctx->req->map_header, "Authorization");
    const char *token = NULL;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) token = h + 7;
    auth_err e = auth_cache_verify(ctx->app->tokens, &ctx->app->cfg->auth, token ? token : "", time(NULL), &ctx->claims);
    if (e == AUTH_OK) return 1;
    reply_problem(ctx, APP_ERR_UNAUTHORIZED, auth_err_message(h && !token ? AUTH_ERR_MALFORMED : e));
    return 0;
}

/* Path segments of pattern and path match (":x" matches one non-empty segment). */
static int path_matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (*pattern == '/' && *path == '/') { pattern++; path++; continue; }
        size_t pl = strcspn(pattern, "/"), ql = strcspn(path, "/");
        if (!(pattern[0] == ':' && ql > 0) && (pl != ql || strncmp(pattern, path, pl) != 0)) return 0;
        pattern += pl;
        path += ql;
    }
    if (*path == '/' && path[1] == '\0') path++;
    return *pattern == '\0' && *path == '\0';
}

/* No route matched: CORS preflight, 405 with Allow, or 404. */
static void h_unmatched(req_ctx *ctx)
{
    char allow[128] = "";
    for (size_t i = 0; i < routes_count; i++) {
        if (!path_matches(routes[i].path, ctx->req->url_path) || strstr(allow, routes[i].method)) continue;
        if (*allow) strcat(allow, ", ");
        strcat(allow, routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0) strcat(allow, ", HEAD");
    }
    if (strcmp(ctx->req->http_verb, "OPTIONS") == 0 && *allow) {
        reply_header(ctx, "Allow", allow);
        if (u_map_get_case(ctx->resp->map_header, "Access-Control-Allow-Origin")) {
            reply_header(ctx, "Access-Control-Allow-Methods", allow);
            reply_header(ctx, "Access-Control-Allow-Headers",
                         "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id");
            reply_header(ctx, "Access-Control-Max-Age", "600");
        }
        reply_empty(ctx, 204);
    } else if (*allow) {
        reply_header(ctx, "Allow", allow);
        reply_problem(ctx, APP_ERR_METHOD_NOT_ALLOWED, NULL);
    } else {
        reply_problem(ctx, APP_ERR_NOT_FOUND, "no such route");
    }
}

static const route unmatched_route = {"*", "unmatched", h_unmatched, 0};

/* The route for method and path, or unmatched_route. Our own table is the
 * only router (ulfius's endpoint matching cost more than a scan of it). */
static const route *route_find(const char *method, const char *path)
{
    if (strcmp(method, "HEAD") == 0) method = "GET"; /* libmicrohttpd sends the headers without the body */
    for (size_t i = 0; i < routes_count; i++)
        if (strcmp(routes[i].method, method) == 0 && path_matches(routes[i].path, path)) return &routes[i];
    return &unmatched_route;
}

/* The rate limits (ratelimit.h) of the caller's subject and organisation: RateLimit-Policy and RateLimit on
 * the answer, and 429 rate_limited with Retry-After beyond them. 0 after replying. */
static int mw_rate_limit(req_ctx *ctx)
{
    ratelimit *rl = ctx->app->limits;
    if (!rl) return 1;
    ratelimit_result r;
    char policy[128], state[96];
    ratelimit_take(rl, ctx->claims.org, ctx->claims.sub, (long long)time(NULL), &r);
    ratelimit_policy_header(rl, policy, sizeof policy);
    snprintf(state, sizeof state, "\"%s\";r=%u;t=%u", r.policy, r.remaining, r.reset_s);
    reply_header(ctx, "RateLimit-Policy", policy);
    reply_header(ctx, "RateLimit", state);
    if (r.allowed) return 1;
    char retry[16], detail[160];
    snprintf(retry, sizeof retry, "%u", r.reset_s);
    snprintf(detail, sizeof detail, "the %s's requests for this window are used up; retry in %u s", r.policy,
             r.reset_s);
    metrics_rate_limited();
    reply_header(ctx, "Retry-After", retry);
    reply_problem(ctx, APP_ERR_RATE_LIMITED, detail);
    return 0;
}

/* A request whose handler left a read for the thread's batch (req_ctx.later), kept until the batch answers it. */
typedef struct later_req {
    req_ctx ctx;
    struct timespec t0;
} later_req;

/* The end of every request: its answer completed, one log line, one metrics sample. */
static void finish(req_ctx *ctx, const struct timespec *t0)
{
    struct timespec t1;
    if (!ctx->status) reply_problem(ctx, APP_ERR_INTERNAL, "the handler produced no response");
    reply_header(ctx, "X-Request-Id", ctx->request_id);
    query_free(&ctx->q);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
    const route *rt = ctx->route;
    size_t idx = rt == &unmatched_route ? routes_count : (size_t)(rt - routes);
    metrics_record(idx, ctx->status, secs);
    log_info("%s %s %d %.2fms", ctx->req->http_verb, ctx->req->url_path, ctx->status, secs * 1000);
    log_set_request_id(NULL);
    metrics_in_flight(-1);
}

/* Every request starts here, refused by the wire or not, and ends in finish: at once, or once the thread's
 * batch has read what its handler left (*later is then set, for flush). */
static void dispatch(const struct _u_request *req, struct _u_response *resp, const wire_refusal *refused,
                     void **later)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_in_flight(1);
    const route *rt = route_find(req->http_verb, req->url_path);
    req_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.app = the_app;
    ctx.req = req;
    ctx.resp = resp;
    ctx.route = rt;
    ctx.may_wait = later != NULL;
    const char *rid = u_map_get_case(req->map_header, "X-Request-Id");
    if (rid && valid_request_id(rid)) snprintf(ctx.request_id, sizeof ctx.request_id, "%s", rid);
    else new_request_id(ctx.request_id);
    log_set_request_id(ctx.request_id);

    mw_cors(&ctx);
    if (refused && refused->field) reply_bad_param(&ctx, refused->field, refused->detail);
    else if (refused) reply_problem(&ctx, refused->err, refused->detail);
    else if (query_parse(&ctx.q, req->http_url) != 0) reply_bad_param(&ctx, "query", ctx.q.error);
    else if (!rt->needs_auth || (mw_auth(&ctx) && mw_rate_limit(&ctx))) rt->handler(&ctx);
    if ((ctx.later.stmt || ctx.later.step) && !ctx.status) {
        later_req *k = later ? malloc(sizeof *k) : NULL;
        if (k) {
            k->ctx = ctx;
            k->t0 = t0;
            *later = k;
            log_set_request_id(NULL);
            return;
        }
        reply_problem(&ctx, APP_ERR_INTERNAL, "out of memory for a request");
    }
    if (ctx.later.state_free) ctx.later.state_free(ctx.later.state);
    finish(&ctx, &t0);
}

#define FLUSH_MAX 64

/* The writes that one turn left (req_ctx.later.step), on the batch's connection conn (NULL: acquired failed
 * with acquired): each round, every write not answered yet takes its step, and the statements the steps queued
 * go in one round trip, each write's with a sync of its own (db_run_queues), until every write has replied. */
static void run_writes(db_conn *conn, app_err acquired, later_req **ws, size_t n)
{
    db_queue *qs[FLUSH_MAX];
    size_t of[FLUSH_MAX];
    app_err e[FLUSH_MAX];
    app_refusal why[FLUSH_MAX];
    unsigned char live[FLUSH_MAX];
    for (size_t i = 0; i < n; i++) {
        e[i] = APP_OK;
        why[i] = (app_refusal){0};
        live[i] = 1;
    }
    for (;;) {
        size_t m = 0;
        int again = 0;
        for (size_t i = 0; i < n; i++) {
            req_ctx *ctx = &ws[i]->ctx;
            if (!live[i]) continue;
            log_set_request_id(ctx->request_id);
            if (acquired) {
                reply_problem(ctx, acquired, "the database is not reachable; retry shortly");
                live[i] = 0;
                continue;
            }
            int more = ctx->later.step(ctx, conn, e[i], &why[i]);
            app_refusal_clear(&why[i]);
            e[i] = APP_OK;
            if (!more || ctx->status) {
                db_rollback(conn); /* anything a step left queued when it replied is dropped */
                live[i] = 0;
            } else if (!(qs[m] = db_queue_take(conn, more == STEP_READS))) {
                e[i] = APP_ERR_INTERNAL; /* its next step replies */
                again = 1;
            } else {
                of[m++] = i;
            }
        }
        if (!m && !again) break;
        if (m) db_run_queues(conn, qs, m);
        for (size_t j = 0; j < m; j++) {
            e[of[j]] = db_queue_result(qs[j], &why[of[j]]);
            db_queue_free(qs[j]);
        }
    }
}

/* The reads and writes that one turn of an HTTP thread's requests left: the reads in one round trip on one pooled
 * connection (db_read_docs), the writes in theirs on the same connection (run_writes), then each request's reply. */
static void flush(void **later, size_t n)
{
    for (size_t at = 0; at < n; at += FLUSH_MAX) {
        size_t m = n - at < FLUSH_MAX ? n - at : FLUSH_MAX, nr = 0, nw = 0;
        db_read reads[FLUSH_MAX];
        later_req *rk[FLUSH_MAX], *wk[FLUSH_MAX];
        for (size_t i = 0; i < m; i++) {
            later_req *k = later[at + i];
            if (k->ctx.later.step) {
                wk[nw++] = k;
                continue;
            }
            reads[nr] = (db_read){k->ctx.later.stmt, k->ctx.claims.org, k->ctx.later.id, APP_OK, {0}};
            rk[nr++] = k;
        }
        db_conn *conn = NULL;
        app_err e = db_acquire(the_app->pool, &conn);
        if (!e && nr) db_read_docs(conn, reads, nr);
        if (nw) run_writes(conn, e, wk, nw);
        db_release(the_app->pool, conn);
        for (size_t i = 0; i < nr; i++) {
            later_req *k = rk[i];
            log_set_request_id(k->ctx.request_id);
            k->ctx.later.done(&k->ctx, k->ctx.later.arg, e ? e : reads[i].err, &reads[i].doc);
            db_doc_free(&reads[i].doc);
            finish(&k->ctx, &k->t0);
            free(k);
        }
        for (size_t i = 0; i < nw; i++) {
            later_req *k = wk[i];
            log_set_request_id(k->ctx.request_id);
            if (k->ctx.later.state_free) k->ctx.later.state_free(k->ctx.later.state);
            finish(&k->ctx, &k->t0);
            free(k);
        }
    }
}

server *server_start(app *a)
{
    the_app = a;
    /* One series per route of the table, and one for unmatched requests. */
    if (metrics_init(routes_count + 1) != 0) return NULL;
    for (size_t i = 0; i < routes_count; i++) metrics_set_label(i, routes[i].path, routes[i].method);
    metrics_set_label(routes_count, "unmatched", "*");
    server *s = wire_start(a->cfg, dispatch, flush);
    if (!s) metrics_free();
    return s;
}

void server_stop(server *s, unsigned grace)
{
    if (!s) return;
    wire_stop(s, grace);
    metrics_free();
}
