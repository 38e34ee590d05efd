/* main.c — config → logs → db pool → migrations → routes → wait for a signal
 * → drain → exit. Subcommands: migrate, token, --help. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "lifecycle.h"
#include "log.h"
#include "migrate.h"
#include "routes.h"
#include "webhook_worker.h"

static int die(const char *msg)
{
    fprintf(stderr, "campaignd: %s\n", msg);
    return 2;
}

static int cmd_token(int argc, char **argv)
{
    const char *sub = NULL, *org = NULL, *role = NULL;
    long ttl = 3600;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) return die("token: every option needs a value (--sub S --org O --role R [--ttl SECONDS])");
        if (strcmp(argv[i], "--sub") == 0) sub = argv[++i];
        else if (strcmp(argv[i], "--org") == 0) org = argv[++i];
        else if (strcmp(argv[i], "--role") == 0) role = argv[++i];
        else if (strcmp(argv[i], "--ttl") == 0) {
            char *end = NULL;
            ttl = strtol(argv[++i], &end, 10);
            if (*end || ttl <= 0 || ttl > 31536000) return die("token: --ttl must be 1 to 31536000 seconds");
        } else return die("token: unknown option (use --sub S --org O --role R [--ttl SECONDS])");
    }
    if (!sub || !org || !role) return die("token: --sub, --org and --role are required");
    config cfg;
    char err[256];
    if (config_load(&cfg, CONFIG_NEED_AUTH, err, sizeof err)) return die(err);
    if (cfg.auth.alg != AUTH_ALG_HS256) {
        config_free(&cfg);
        return die("token: only HS256 tokens can be minted; with RS256/ES256 your identity provider issues them");
    }
    char *tok = NULL;
    auth_err e = auth_mint(&cfg.auth, sub, org, role, ttl, time(NULL), &tok);
    config_free(&cfg);
    if (e) return die(auth_err_message(e));
    printf("%s\n", tok);
    free(tok);
    return 0;
}

static int migrate_now(db_pool *pool)
{
    db_conn *conn = NULL;
    int applied = 0;
    app_err e = db_acquire(pool, &conn);
    if (!e) e = migrate_run(conn, &applied);
    db_release(pool, conn);
    if (e) {
        log_error("migrations failed: %s: %s", app_err_lookup(e)->code, log_cause());
        return -1;
    }
    log_info("schema at version %d (%d applied now)", migrate_latest_version(), applied);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "serve";
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        config_print_help();
        return 0;
    }
    if (strcmp(cmd, "token") == 0) return cmd_token(argc, argv);
    int serve = strcmp(cmd, "serve") == 0 && argc == 1;
    if (!serve && strcmp(cmd, "migrate") != 0) return die("unknown command (see campaignd --help)");

    config cfg;
    char err[256];
    int need = CONFIG_NEED_DB | (serve ? CONFIG_NEED_AUTH | CONFIG_NEED_HTTP : 0);
    if (config_load(&cfg, need, err, sizeof err)) return die(err);
    log_init(cfg.log_level);
    int rc = 1;
    server *srv = NULL;
    auth_cache *tokens = NULL;
    lifecycle_worker *lifecycle = NULL;
    webhook_worker *webhooks = NULL;
    /* libcurl's global state, before any thread exists (webhook deliveries and URL checks use it). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        config_free(&cfg);
        return die("cannot initialise libcurl");
    }
    db_pool *pool = db_pool_create(cfg.database_url, serve ? cfg.db_pool_size : 1, cfg.statement_timeout_ms);
    if (!pool || migrate_now(pool) != 0) goto out;
    if (!serve) { rc = 0; goto out; }

    /* Signals are taken by sigwait on this thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    tokens = auth_cache_new();
    ratelimit *limits = ratelimit_new(cfg.rate_limit_subject, cfg.rate_limit_org, cfg.rate_limit_window);
    app a = {&cfg, pool, tokens, limits};
    if (!(srv = server_start(&a))) goto out;
    log_info("serving on %s:%u with %u threads, pool %u", cfg.bind, cfg.port, cfg.threads, cfg.db_pool_size);
    lifecycle = lifecycle_start(pool, cfg.lifecycle_interval);
    webhooks = webhook_worker_start(pool, &cfg);
    int sig = 0;
    sigwait(&set, &sig);
    log_info("signal %d: draining (up to %u s)", sig, cfg.shutdown_grace);
    /* Webhook attempts in flight get the same grace as requests, then are cut and left due for another replica. */
    webhook_worker_quiesce(webhooks, cfg.shutdown_grace);
    lifecycle_stop(lifecycle);
    lifecycle = NULL;
    server_stop(srv, cfg.shutdown_grace);
    ratelimit_free(limits);
    webhook_worker_stop(webhooks);
    webhooks = NULL;
    rc = 0;
out:
    webhook_worker_stop(webhooks);
    lifecycle_stop(lifecycle);
    auth_cache_free(tokens);
    db_pool_free(pool);
    log_close();
    config_free(&cfg);
    curl_global_cleanup();
    return rc;
}
