/* db_url.h — the run's database URL with another database name, for the tests that make a database of their
 * own. The URL may carry a query (host=/socket/dir&port=N: tests/pg/cluster.sh connects over the Unix socket),
 * so the name is the last path segment before it. */
#ifndef CAMPAIGND_DB_URL_TEST_H
#define CAMPAIGND_DB_URL_TEST_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>

/* A malloc'd copy of url naming database dbname; NULL when url has no database path or out of memory. */
static inline char *db_url_with_database(const char *url, const char *dbname)
{
    size_t path_end = strcspn(url, "?");
    const char *slash = NULL;
    for (const char *p = url; p < url + path_end; p++)
        if (*p == '/') slash = p;
    char *out = NULL;
    if (!slash || asprintf(&out, "%.*s/%s%s", (int)(slash - url), url, dbname, url + path_end) < 0) return NULL;
    return out;
}
#endif
