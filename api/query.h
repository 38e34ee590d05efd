/* query.h — the query string, parsed and percent-decoded once per request.
 * Parameters are matched exactly; bad encoding makes the whole query invalid.
 * A list parameter comes in either form clients send arrays in: `status=a,b`
 * or `status=a&status=b` (OpenAPI form style with explode, openapi-fetch's
 * default); a repeated name is kept once, its values joined by commas, and
 * query_unknown refuses the repetition unless the name is a list parameter,
 * so nothing is silently ignored. */
#ifndef CAMPAIGND_QUERY_H
#define CAMPAIGND_QUERY_H

#include <stddef.h>

#define QUERY_MAX_PARAMS 32  /* distinct names */
#define QUERY_MAX_VALUES 128 /* name=value pairs, repetitions included */

typedef struct query {
    size_t n;
    char *keys[QUERY_MAX_PARAMS];
    char *vals[QUERY_MAX_PARAMS];  /* a repeated name's values joined by commas */
    int counts[QUERY_MAX_PARAMS]; /* how many times each name was given */
    char error[128];              /* why the query is invalid; "" when valid */
} query;

/* Parses the part of url after '?'. Always initialises q; returns -1 and fills
 * q->error when the query is malformed. Free with query_free. */
int query_parse(query *q, const char *url);
void query_free(query *q);

/* The decoded value of key (a repeated key's values joined by commas), or NULL (borrowed). */
const char *query_get(const query *q, const char *key);

/* Checks the parameters against allowed (NULL-terminated names; a name ending
 * in "[]" is a list parameter, which may be repeated). Returns the name of the
 * first parameter that is not allowed, or is repeated without being a list,
 * and sets *repeated to tell which; NULL when every parameter is fine. */
const char *query_unknown(const query *q, const char *const *allowed, int *repeated);

#endif
