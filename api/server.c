/* server.c — ulfius over a libmicrohttpd thread pool, and the one dispatch
 * function every route goes through: request id, CORS, auth, handler, then
 * one log line and the metrics. Keeping these steps in one function (rather
 * than ulfius priority tiers) gives one place that sees every request end. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "routes.h"

struct server {
    struct _u_instance instance;
    struct sockaddr_storage addr;
};

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

static void new_request_id(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) memset(b, 0, sizeof b);
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
 * only router: ulfius sends every request to dispatch (its endpoint matching
 * cost more than a scan of this table). */
static const route *route_find(const char *method, const char *path)
{
    for (size_t i = 0; i < routes_count; i++)
        if (strcmp(routes[i].method, method) == 0 && path_matches(routes[i].path, path)) return &routes[i];
    return &unmatched_route;
}

static int dispatch(const struct _u_request *req, struct _u_response *resp, void *user_data)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_in_flight(1);
    (void)user_data;
    const route *rt = route_find(req->http_verb, req->url_path);
    req_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.app = the_app;
    ctx.req = req;
    ctx.resp = resp;
    ctx.route = rt;
    const char *rid = u_map_get_case(req->map_header, "X-Request-Id");
    if (rid && valid_request_id(rid)) snprintf(ctx.request_id, sizeof ctx.request_id, "%s", rid);
    else new_request_id(ctx.request_id);
    log_set_request_id(ctx.request_id);

    mw_cors(&ctx);
    if (query_parse(&ctx.q, req->http_url) != 0) reply_bad_param(&ctx, "query", ctx.q.error);
    else if (req->binary_body_length > the_app->cfg->max_body_bytes)
        reply_problem(&ctx, APP_ERR_PAYLOAD_TOO_LARGE, "the request body is too large");
    else if (!rt->needs_auth || mw_auth(&ctx)) rt->handler(&ctx);
    if (!ctx.status) reply_problem(&ctx, APP_ERR_INTERNAL, "the handler produced no response");
    reply_header(&ctx, "X-Request-Id", ctx.request_id);
    query_free(&ctx.q);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t idx = rt == &unmatched_route ? routes_count : (size_t)(rt - routes);
    metrics_record(idx, ctx.status, secs);
    log_info("%s %s %d %.2fms", req->http_verb, req->url_path, ctx.status, secs * 1000);
    log_set_request_id(NULL);
    metrics_in_flight(-1);
    return U_CALLBACK_COMPLETE;
}

server *server_start(app *a)
{
    the_app = a;
    /* One series per route of the table, and one for unmatched requests. */
    if (metrics_init(routes_count + 1) != 0) return NULL;
    for (size_t i = 0; i < routes_count; i++) metrics_set_label(i, routes[i].path, routes[i].method);
    metrics_set_label(routes_count, "unmatched", "*");

    server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    const config *cfg = a->cfg;
    socklen_t alen;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&s->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s->addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        alen = sizeof *v4;
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        alen = sizeof *v6;
        flags |= MHD_USE_IPv6;
    } else {
        log_error("CAMPAIGND_BIND: \"%s\" is not an IPv4 or IPv6 address", cfg->bind);
        free(s);
        return NULL;
    }
    (void)alen;
    if (ulfius_init_instance(&s->instance, cfg->port, NULL, NULL) != U_OK) { free(s); return NULL; }
    /* One byte over the limit so an oversized body is seen and refused with 413, not silently cut. */
    s->instance.max_post_body_size = cfg->max_body_bytes + 1;
    ulfius_set_default_endpoint(&s->instance, dispatch, NULL);

    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &s->addr},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->connection_timeout, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (ulfius_start_framework_with_mhd_options(&s->instance, flags, ops) != U_OK) {
        log_error("cannot listen on %s:%u", cfg->bind, cfg->port);
        ulfius_clean_instance(&s->instance);
        free(s);
        return NULL;
    }
    return s;
}

void server_stop(server *s, unsigned grace)
{
    if (!s) return;
    /* Stop accepting; connections already open finish their requests. */
    MHD_quiesce_daemon(s->instance.mhd_daemon);
    for (unsigned waited = 0; metrics_in_flight_now() > 0 && waited < grace * 10; waited++) usleep(100000);
    ulfius_stop_framework(&s->instance);
    ulfius_clean_instance(&s->instance);
    free(s);
    metrics_free();
}
