/* config.c — environment variables → struct config. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yder.h>

static const struct {
    const char *name, *def, *help;
} vars[] = {
    {"CAMPAIGND_DATABASE_URL", NULL, "libpq connection URI (required to serve or migrate)"},
    {"CAMPAIGND_PORT", "8080", "TCP port to listen on"},
    {"CAMPAIGND_BIND", "127.0.0.1", "address to bind (IPv4 or IPv6 literal; 0.0.0.0 for all)"},
    {"CAMPAIGND_JWT_ALG", "HS256", "token algorithm: HS256, RS256 or ES256 (never taken from the token)"},
    {"CAMPAIGND_JWT_SECRET", NULL, "HS256 shared secret, at least 32 bytes"},
    {"CAMPAIGND_JWT_PUBLIC_KEY_FILE", NULL, "PEM public key file for RS256/ES256"},
    {"CAMPAIGND_JWT_ISSUER", NULL, "required `iss` claim, checked when set"},
    {"CAMPAIGND_JWT_AUDIENCE", NULL, "required `aud` claim, checked when set"},
    {"CAMPAIGND_DB_POOL_SIZE", "4", "database connections shared by the HTTP threads (1-256)"},
    {"CAMPAIGND_THREADS", NULL, "HTTP worker threads (1-256; default: one per online CPU, at least 2)"},
    {"CAMPAIGND_MAX_CONNECTIONS", "1024", "maximum simultaneous client connections"},
    {"CAMPAIGND_MAX_CLIENT_CONNECTIONS", "64", "simultaneous connections from one client address (at most MAX_CONNECTIONS)"},
    {"CAMPAIGND_HEADER_TIMEOUT", "10", "seconds a connection has to send a complete request head, from its start or its previous response"},
    {"CAMPAIGND_CONNECTION_TIMEOUT", "30", "seconds without any traffic (a stalled body or a client that stops reading) before a connection is closed"},
    {"CAMPAIGND_MAX_BODY_BYTES", "1048576", "largest accepted request body; 413 beyond"},
    {"CAMPAIGND_MAX_BULK_BODY_BYTES", "16777216",
     "largest body of a bulk request (measurement batch, CSV import); 413 beyond"},
    {"CAMPAIGND_STATEMENT_TIMEOUT_MS", "5000", "PostgreSQL statement_timeout for every query"},
    {"CAMPAIGND_CORS_ORIGINS", NULL, "comma-separated allowed origins, or * (CORS off when unset)"},
    {"CAMPAIGND_SHUTDOWN_GRACE", "10", "seconds to finish in-flight requests after SIGTERM"},
    {"CAMPAIGND_LIFECYCLE_INTERVAL", "60", "seconds between moves of campaigns along their dates (0: off)"},
    {"CAMPAIGND_CONFLICT_WRITES", "1", "0: booking and campaign writes skip the conflict rules (the database's own still refuse)"},
    {"CAMPAIGND_RATE_LIMIT_SUBJECT", "600", "requests per window for one token subject, in this replica (0: off)"},
    {"CAMPAIGND_RATE_LIMIT_ORG", "3000", "requests per window for one organisation, in this replica (0: off)"},
    {"CAMPAIGND_RATE_LIMIT_WINDOW", "60", "seconds of a rate limit window"},
    {"CAMPAIGND_WEBHOOK_WORKERS", "2", "webhook delivery threads in this replica (0: this replica delivers nothing)"},
    {"CAMPAIGND_WEBHOOK_POLL_MS", "500", "milliseconds between looks for due webhook deliveries when idle"},
    {"CAMPAIGND_WEBHOOK_TIMEOUT", "15", "seconds a webhook attempt may take in all (then it failed)"},
    {"CAMPAIGND_WEBHOOK_CONNECT_TIMEOUT", "5", "seconds a webhook attempt may take to connect"},
    {"CAMPAIGND_WEBHOOK_ALLOW_HTTP", "0", "1: webhook URLs may be http:// as well as https://"},
    {"CAMPAIGND_WEBHOOK_ALLOW_PRIVATE", "0", "1: webhook receivers may be loopback or private addresses"},
    {"CAMPAIGND_WEBHOOK_RETRY_DIVISOR", "1", "the webhook retry schedule divided by this (tests compress it)"},
    {"CAMPAIGND_WEBHOOK_DISABLE_AFTER", "432000", "seconds of consecutive failure that disable a webhook (5 days)"},
    {"CAMPAIGND_LOG_LEVEL", "info", "error, warning, info or debug"},
};

void config_print_help(void)
{
    printf("campaignd — campaign planning and booking service\n\n"
           "usage:\n"
           "  campaignd                 apply pending migrations, then serve the API\n"
           "  campaignd migrate         apply pending migrations and exit\n"
           "  campaignd token --sub S --org O --role R [--ttl SECONDS]\n"
           "                            print an HS256 token signed with CAMPAIGND_JWT_SECRET\n"
           "  campaignd --help          this text\n\n"
           "environment:\n");
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        printf("  %-30s %s%s%s%s\n", vars[i].name, vars[i].help, vars[i].def ? " (default " : "",
               vars[i].def ? vars[i].def : "", vars[i].def ? ")" : "");
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && *v) ? v : def;
}

/* Parses an unsigned integer within [min, max]; returns -1 with a message otherwise. */
static int parse_uint(const char *name, const char *def, unsigned long min, unsigned long max, unsigned long *out,
                      char *errbuf, size_t errlen)
{
    const char *s = env_or(name, def);
    char *end = NULL;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') goto bad;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max) goto bad;
    *out = v;
    return 0;
bad:
    snprintf(errbuf, errlen, "%s: must be an integer from %lu to %lu (got \"%s\")", name, min, max, s);
    return -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* *dst = a copy of s (NULL stays NULL); -1 with the message when out of memory. */
static int copy_or_fail(char **dst, const char *s, char *errbuf, size_t errlen)
{
    *dst = NULL;
    if (!s) return 0;
    if ((*dst = strdup(s))) return 0;
    snprintf(errbuf, errlen, "out of memory reading the configuration");
    return -1;
}

/* The comma-separated list as a NULL-terminated array; NULL when out of memory. */
static char **split_origins(const char *s)
{
    size_t count = 1;
    for (const char *p = s; *p; p++) count += (*p == ',');
    char **list = calloc(count + 1, sizeof *list);
    if (!list) return NULL;
    size_t i = 0;
    const char *start = s;
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        while (len && (*start == ' ')) { start++; len--; }
        while (len && start[len - 1] == ' ') len--;
        if (len && !(list[i++] = strndup(start, len))) {
            for (size_t k = 0; k < i; k++) free(list[k]);
            free(list);
            return NULL;
        }
        if (!comma) break;
        start = comma + 1;
    }
    return list;
}

int config_load(config *out, int need, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    unsigned long v;
    const char *s;

    if (need & CONFIG_NEED_DB) {
        s = env_or("CAMPAIGND_DATABASE_URL", NULL);
        if (!s) { snprintf(errbuf, errlen, "CAMPAIGND_DATABASE_URL: required (a libpq URI)"); goto fail; }
        if (copy_or_fail(&out->database_url, s, errbuf, errlen)) goto fail;
        if (parse_uint("CAMPAIGND_DB_POOL_SIZE", "4", 1, 256, &v, errbuf, errlen)) goto fail;
        out->db_pool_size = (unsigned)v;
        if (parse_uint("CAMPAIGND_STATEMENT_TIMEOUT_MS", "5000", 1, 3600000, &v, errbuf, errlen)) goto fail;
        out->statement_timeout_ms = (unsigned)v;
    }
    if (need & CONFIG_NEED_HTTP) {
        if (parse_uint("CAMPAIGND_PORT", "8080", 1, 65535, &v, errbuf, errlen)) goto fail;
        out->port = (unsigned)v;
        if (copy_or_fail(&out->bind, env_or("CAMPAIGND_BIND", "127.0.0.1"), errbuf, errlen)) goto fail;
        /* One HTTP thread per CPU: a thread's turn writes and reads through one database connection, so more
         * threads than cores only split the turns' batches into smaller ones (README "Bookings"). At least two:
         * a request waiting on a row lock holds up its thread's other connections, never all of them. */
        char cpus[24];
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(cpus, sizeof cpus, "%ld", ncpu < 2 ? 2 : ncpu > 256 ? 256 : ncpu);
        if (parse_uint("CAMPAIGND_THREADS", cpus, 1, 256, &v, errbuf, errlen)) goto fail;
        out->threads = (unsigned)v;
        if (parse_uint("CAMPAIGND_MAX_CONNECTIONS", "1024", 1, 100000, &v, errbuf, errlen)) goto fail;
        out->max_connections = (unsigned)v;
        /* The defaults of the next two shrink with the limits they must stay within. */
        char def[24];
        snprintf(def, sizeof def, "%u", out->max_connections < 64 ? out->max_connections : 64);
        if (parse_uint("CAMPAIGND_MAX_CLIENT_CONNECTIONS", def, 1, out->max_connections, &v, errbuf, errlen)) goto fail;
        out->max_client_connections = (unsigned)v;
        if (parse_uint("CAMPAIGND_CONNECTION_TIMEOUT", "30", 1, 3600, &v, errbuf, errlen)) goto fail;
        out->connection_timeout = (unsigned)v;
        snprintf(def, sizeof def, "%u", out->connection_timeout < 10 ? out->connection_timeout : 10);
        if (parse_uint("CAMPAIGND_HEADER_TIMEOUT", def, 1, out->connection_timeout, &v, errbuf, errlen)) goto fail;
        out->header_timeout = (unsigned)v;
        if (parse_uint("CAMPAIGND_MAX_BODY_BYTES", "1048576", 1024, 1073741824UL, &v, errbuf, errlen)) goto fail;
        out->max_body_bytes = v;
        if (parse_uint("CAMPAIGND_MAX_BULK_BODY_BYTES", "16777216", 1024, 1073741824UL, &v, errbuf, errlen)) goto fail;
        out->max_bulk_body_bytes = v;
        if (parse_uint("CAMPAIGND_SHUTDOWN_GRACE", "10", 0, 600, &v, errbuf, errlen)) goto fail;
        out->shutdown_grace = (unsigned)v;
        if (parse_uint("CAMPAIGND_LIFECYCLE_INTERVAL", "60", 0, 86400, &v, errbuf, errlen)) goto fail;
        out->lifecycle_interval = (unsigned)v;
        if (parse_uint("CAMPAIGND_CONFLICT_WRITES", "1", 0, 1, &v, errbuf, errlen)) goto fail;
        out->conflict_writes = (int)v;
        if (parse_uint("CAMPAIGND_RATE_LIMIT_SUBJECT", "600", 0, 100000000, &v, errbuf, errlen)) goto fail;
        out->rate_limit_subject = (unsigned)v;
        if (parse_uint("CAMPAIGND_RATE_LIMIT_ORG", "3000", 0, 100000000, &v, errbuf, errlen)) goto fail;
        out->rate_limit_org = (unsigned)v;
        if (parse_uint("CAMPAIGND_RATE_LIMIT_WINDOW", "60", 1, 86400, &v, errbuf, errlen)) goto fail;
        out->rate_limit_window = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_WORKERS", "2", 0, 64, &v, errbuf, errlen)) goto fail;
        out->webhook.workers = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_POLL_MS", "500", 10, 60000, &v, errbuf, errlen)) goto fail;
        out->webhook.poll_ms = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_TIMEOUT", "15", 1, 120, &v, errbuf, errlen)) goto fail;
        out->webhook.timeout = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_CONNECT_TIMEOUT", "5", 1, out->webhook.timeout, &v, errbuf, errlen))
            goto fail;
        out->webhook.connect_timeout = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_ALLOW_HTTP", "0", 0, 1, &v, errbuf, errlen)) goto fail;
        out->webhook.allow_http = (int)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_ALLOW_PRIVATE", "0", 0, 1, &v, errbuf, errlen)) goto fail;
        out->webhook.allow_private = (int)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_RETRY_DIVISOR", "1", 1, 10000000, &v, errbuf, errlen)) goto fail;
        out->webhook.retry_divisor = (unsigned)v;
        if (parse_uint("CAMPAIGND_WEBHOOK_DISABLE_AFTER", "432000", 1, 31536000, &v, errbuf, errlen)) goto fail;
        out->webhook.disable_after = (unsigned)v;
        s = env_or("CAMPAIGND_CORS_ORIGINS", NULL);
        if (s && strcmp(s, "*") == 0) out->cors_any = 1;
        else if (s && !(out->cors_origins = split_origins(s))) {
            snprintf(errbuf, errlen, "out of memory reading the configuration");
            goto fail;
        }
    }
    s = env_or("CAMPAIGND_LOG_LEVEL", "info");
    if (strcmp(s, "error") == 0) out->log_level = Y_LOG_LEVEL_ERROR;
    else if (strcmp(s, "warning") == 0) out->log_level = Y_LOG_LEVEL_WARNING;
    else if (strcmp(s, "info") == 0) out->log_level = Y_LOG_LEVEL_INFO;
    else if (strcmp(s, "debug") == 0) out->log_level = Y_LOG_LEVEL_DEBUG;
    else { snprintf(errbuf, errlen, "CAMPAIGND_LOG_LEVEL: must be error, warning, info or debug"); goto fail; }

    if (need & CONFIG_NEED_AUTH) {
        auth_config *a = &out->auth;
        s = env_or("CAMPAIGND_JWT_ALG", "HS256");
        if (auth_alg_from_name(s, &a->alg) != 0) {
            snprintf(errbuf, errlen, "CAMPAIGND_JWT_ALG: must be HS256, RS256 or ES256 (got \"%s\")", s);
            goto fail;
        }
        if (a->alg == AUTH_ALG_HS256) {
            s = env_or("CAMPAIGND_JWT_SECRET", NULL);
            if (!s) { snprintf(errbuf, errlen, "CAMPAIGND_JWT_SECRET: required for HS256"); goto fail; }
            if (strlen(s) < 32) {
                snprintf(errbuf, errlen, "CAMPAIGND_JWT_SECRET: must be at least 32 bytes (got %zu)", strlen(s));
                goto fail;
            }
            char *key = NULL;
            if (copy_or_fail(&key, s, errbuf, errlen)) goto fail;
            a->key = (unsigned char *)key;
            a->key_len = strlen(s);
        } else {
            s = env_or("CAMPAIGND_JWT_PUBLIC_KEY_FILE", NULL);
            if (!s) { snprintf(errbuf, errlen, "CAMPAIGND_JWT_PUBLIC_KEY_FILE: required for %s", auth_alg_name(a->alg)); goto fail; }
            a->key = (unsigned char *)read_file(s, &a->key_len);
            if (!a->key || !strstr((char *)a->key, "-----BEGIN PUBLIC KEY-----")) {
                snprintf(errbuf, errlen, "CAMPAIGND_JWT_PUBLIC_KEY_FILE: cannot read a PEM public key from \"%s\"", s);
                goto fail;
            }
        }
        s = env_or("CAMPAIGND_JWT_ISSUER", NULL);
        if (copy_or_fail(&a->issuer, s, errbuf, errlen)) goto fail;
        s = env_or("CAMPAIGND_JWT_AUDIENCE", NULL);
        if (copy_or_fail(&a->audience, s, errbuf, errlen)) goto fail;
        a->leeway = 30;
        a->max_token_len = 8192;
    }
    return 0;
fail:
    config_free(out);
    return -1;
}

void config_free(config *cfg)
{
    free(cfg->database_url);
    free(cfg->bind);
    free(cfg->auth.key);
    free(cfg->auth.issuer);
    free(cfg->auth.audience);
    if (cfg->cors_origins) {
        for (char **p = cfg->cors_origins; *p; p++) free(*p);
        free(cfg->cors_origins);
    }
    memset(cfg, 0, sizeof *cfg);
}

size_t config_body_limit(const config *cfg, const char *path)
{
    static const char *const bulk[] = {"/v1/measurements/batch", "/v1/imports/measurements", "/v1/imports/campaigns",
                                       "/v1/imports/bookings", NULL};
    for (int i = 0; path && bulk[i]; i++)
        if (strcmp(path, bulk[i]) == 0)
            return cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes : cfg->max_body_bytes;
    return cfg->max_body_bytes;
}
