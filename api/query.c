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

int query_parse(query *q, const char *url)
{
    memset(q, 0, sizeof *q);
    const char *s = url ? strchr(url, '?') : NULL;
    if (!s) return 0;
    s++;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        if (len) {
            const char *eq = memchr(s, '=', len);
            size_t klen = eq ? (size_t)(eq - s) : len;
            if (q->n == QUERY_MAX_PARAMS) {
                snprintf(q->error, sizeof q->error, "too many query parameters (at most %d)", QUERY_MAX_PARAMS);
                return -1;
            }
            char *k = decode(s, klen);
            char *v = eq ? decode(eq + 1, len - klen - 1) : strdup("");
            if (!k || !v) {
                free(k);
                free(v);
                snprintf(q->error, sizeof q->error, "the query string has an invalid percent-encoding");
                return -1;
            }
            if (query_get(q, k)) {
                snprintf(q->error, sizeof q->error, "query parameter '%.64s' is given more than once", k);
                free(k);
                free(v);
                return -1;
            }
            q->keys[q->n] = k;
            q->vals[q->n] = v;
            q->n++;
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
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->keys[i], key) == 0) return q->vals[i];
    return NULL;
}

const char *query_unknown(const query *q, const char *const *allowed)
{
    for (size_t i = 0; i < q->n; i++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, q->keys[i]) != 0) a++;
        if (!*a) return q->keys[i];
    }
    return NULL;
}
