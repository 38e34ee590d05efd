/* h_ops.c — health, readiness, metrics and the contract; no token needed. */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "metrics.h"
#include "migrate.h"
#include "respond.h"

extern const char *const openapi_yaml;
extern const size_t openapi_yaml_len;

void h_healthz(req_ctx *ctx) { reply_json_text(ctx, 200, "{\"status\":\"ok\"}"); }

void h_readyz(req_ctx *ctx)
{
    db_conn *conn = NULL;
    int version = 0;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = migrate_current_version(conn, &version);
    db_release(ctx->app->pool, conn);
    if (e || version < migrate_latest_version()) {
        reply_problem(ctx, APP_ERR_UNAVAILABLE, e ? "the database is not reachable" : "migrations are not applied");
        return;
    }
    char body[64];
    snprintf(body, sizeof body, "{\"status\":\"ready\",\"schema_version\":%d}", version);
    reply_json_text(ctx, 200, body);
}

void h_metrics(req_ctx *ctx)
{
    unsigned size = 0, in_use = 0;
    db_pool_stats(ctx->app->pool, &size, &in_use);
    char *text = metrics_render(size, in_use);
    if (!text) { reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); return; }
    ctx->status = 200;
    ulfius_set_string_body_response(ctx->resp, 200, text);
    reply_header(ctx, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    free(text);
}

void h_openapi(req_ctx *ctx)
{
    ctx->status = 200;
    ulfius_set_binary_body_response(ctx->resp, 200, openapi_yaml, openapi_yaml_len);
    reply_header(ctx, "Content-Type", "application/yaml; charset=utf-8");
}
