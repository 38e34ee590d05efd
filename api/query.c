/* query.c — see query.h. */
#define _GNU_SOURCE
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into a new string; NULL on bad escapes or NUL. */
static char *decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) { free(out); return NULL; }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) { free(out); return NULL; }
            c = (char)(h * 16 + l);
            i += 2;
            if (c == '\0') { free(out); return NULL; }
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Index of key in q, or -1. */
static int find(const query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->keys[i], key) == 0) return (int)i;
    return -1;
}

/* Adds a decoded pair to q, taking ownership of k and v; joins a repeated
 * key's values with a comma. -1 (with q->error) when out of room. */
static int add(query *q, char *k, char *v)
{
    int i = find(q, k);
    if (i >= 0) {
        size_t old = strlen(q->vals[i]);
        char *joined = realloc(q->vals[i], old + strlen(v) + 2);
        if (!joined) goto nomem;
        joined[old] = ',';
        strcpy(joined + old + 1, v);
        q->vals[i] = joined;
        q->counts[i]++;
        free(k);
        free(v);
        return 0;
    }
    if (q->n == QUERY_MAX_PARAMS) {
        snprintf(q->error, sizeof q->error, "too many query parameters (at most %d)", QUERY_MAX_PARAMS);
        goto fail;
    }
    q->keys[q->n] = k;
    q->vals[q->n] = v;
    q->counts[q->n] = 1;
    q->n++;
    return 0;
nomem:
    snprintf(q->error, sizeof q->error, "out of memory");
fail:
    free(k);
    free(v);
    return -1;
}

int query_parse(query *q, const char *url)
{
    memset(q, 0, sizeof *q);
    const char *s = url ? strchr(url, '?') : NULL;
    if (!s) return 0;
    s++;
    int pairs = 0;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        if (len) {
            if (++pairs > QUERY_MAX_VALUES) {
                snprintf(q->error, sizeof q->error, "too many query parameters (at most %d values)",
                         QUERY_MAX_VALUES);
                return -1;
            }
            const char *eq = memchr(s, '=', len);
            size_t klen = eq ? (size_t)(eq - s) : len;
            char *k = decode(s, klen);
            char *v = eq ? decode(eq + 1, len - klen - 1) : strdup("");
            if (!k || !v) {
                free(k);
                free(v);
                snprintf(q->error, sizeof q->error, "the query string has an invalid percent-encoding");
                return -1;
            }
            if (add(q, k, v) != 0) return -1;
        }
        if (!amp) break;
        s = amp + 1;
    }
    return 0;
}

void query_free(query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->keys[i]);
        free(q->vals[i]);
    }
    q->n = 0;
}

const char *query_get(const query *q, const char *key)
{
    int i = find(q, key);
    return i < 0 ? NULL : q->vals[i];
}

const char *query_unknown(const query *q, const char *const *allowed, int *repeated)
{
    *repeated = 0;
    for (size_t i = 0; i < q->n; i++) {
        size_t klen = strlen(q->keys[i]);
        const char *const *a = allowed;
        int list = 0;
        for (; *a; a++) {
            size_t alen = strlen(*a);
            list = alen >= 2 && strcmp(*a + alen - 2, "[]") == 0;
            if (alen - (list ? 2 : 0) == klen && strncmp(*a, q->keys[i], klen) == 0) break;
        }
        if (!*a) return q->keys[i];
        if (q->counts[i] > 1 && !list) {
            *repeated = 1;
            return q->keys[i];
        }
    }
    return NULL;
}
