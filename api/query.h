/* query.h — the query string, parsed and percent-decoded once per request.
 * Parameters are matched exactly; a repeated parameter or bad encoding makes
 * the whole query invalid, so nothing is silently ignored. */
#ifndef CAMPAIGND_QUERY_H
#define CAMPAIGND_QUERY_H

#include <stddef.h>

#define QUERY_MAX_PARAMS 32

typedef struct query {
    size_t n;
    char *keys[QUERY_MAX_PARAMS];
    char *vals[QUERY_MAX_PARAMS];
    char error[128]; /* why the query is invalid; "" when valid */
} query;

/* Parses the part of url after '?'. Always initialises q; returns -1 and fills
 * q->error when the query is malformed. Free with query_free. */
int query_parse(query *q, const char *url);
void query_free(query *q);

/* The decoded value of key, or NULL (borrowed). */
const char *query_get(const query *q, const char *key);

/* Name of the first parameter not in allowed (NULL-terminated), or NULL. */
const char *query_unknown(const query *q, const char *const *allowed);

#endif
