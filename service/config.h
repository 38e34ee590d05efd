/* config.h — the daemon's configuration, read once from the environment. */
#ifndef CAMPAIGND_CONFIG_H
#define CAMPAIGND_CONFIG_H

#include <stddef.h>

#include "auth.h"

typedef struct config {
    char *database_url;          /* libpq URI; NULL when not needed (token subcommand) */
    unsigned port;
    char *bind;                  /* IPv4 or IPv6 literal */
    auth_config auth;            /* algorithm, key, issuer, audience */
    unsigned db_pool_size;
    unsigned threads;            /* HTTP worker threads */
    unsigned max_connections;
    unsigned max_client_connections; /* per client address */
    unsigned connection_timeout; /* seconds of inactivity */
    unsigned header_timeout;     /* seconds to send a complete request head */
    size_t max_body_bytes;
    size_t max_bulk_body_bytes;  /* the bulk routes' bodies (config_body_limit) */
    unsigned statement_timeout_ms;
    unsigned shutdown_grace;     /* seconds */
    unsigned lifecycle_interval; /* seconds between date-driven status moves; 0: off */
    int conflict_writes;         /* the conflict rules judge booking and campaign writes; 0: only the database's */
    unsigned rate_limit_subject; /* requests per window for one token subject; 0: off */
    unsigned rate_limit_org;     /* requests per window for one organisation; 0: off */
    unsigned rate_limit_window;  /* seconds */
    struct {
        unsigned workers;         /* delivery threads of this replica; 0: none */
        unsigned poll_ms;         /* between looks for due deliveries when there was nothing to do */
        unsigned timeout;         /* seconds an attempt may take, all in */
        unsigned connect_timeout; /* seconds to connect */
        int allow_http;           /* http:// receivers as well as https:// */
        int allow_private;        /* loopback and private receiver addresses */
        unsigned retry_divisor;   /* the retry schedule divided by this (tests) */
        unsigned disable_after;   /* seconds of consecutive failure that disable a subscription */
    } webhook;
    char **cors_origins;         /* NULL-terminated; NULL when CORS is off */
    int cors_any;                /* CAMPAIGND_CORS_ORIGINS=* */
    int log_level;               /* yder level */
} config;

/* What a subcommand needs from the environment. */
enum config_need { CONFIG_NEED_DB = 1, CONFIG_NEED_AUTH = 2, CONFIG_NEED_HTTP = 4 };

/* Reads the environment into *out. On failure returns -1 and writes one line
 * naming the variable and the reason into errbuf; *out is then left freed. */
int config_load(config *out, int need, char *errbuf, size_t errlen);

/* Frees what config_load allocated. */
void config_free(config *cfg);

/* Writes the --help text (every variable, its default and meaning) to stdout. */
void config_print_help(void);

/* The largest body accepted for a request to path: max_bulk_body_bytes for
 * the bulk routes (measurement batches and CSV imports, up to 10,000 rows),
 * max_body_bytes for every other. */
size_t config_body_limit(const config *cfg, const char *path);

#endif
