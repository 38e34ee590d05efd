/* cursor.c — see cursor.h. */
#include "cursor.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define CURSOR_MAX_LEN 2048

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const unsigned char *in, size_t n)
{
    char *out = malloc(n * 4 / 3 + 4);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return out;
}

static unsigned char *b64_decode(const char *in, size_t *out_len)
{
    size_t n = strlen(in);
    if (n % 4 == 1) return NULL;
    unsigned char *out = malloc(n * 3 / 4 + 3);
    if (!out) return NULL;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64url, in[i]);
        if (!p || !in[i]) { free(out); return NULL; }
        acc = (acc << 6) | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    *out_len = o;
    return out;
}

char *cursor_encode(const char *sort, const char *key, const char *id)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "s", sort, "k", key, "i", id);
    if (!j) return NULL;
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return NULL;
    char *out = b64_encode((const unsigned char *)text, strlen(text));
    free(text);
    return out;
}

/* A row id: a UUID, or a positive integer of at most 18 digits (bigint ids: the audit trail's). */
static int valid_row_id(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return valid_uuid(s) || (n >= 1 && n <= 18 && s[n] == '\0' && s[0] != '0');
}

int cursor_decode(const char *cursor, const char *sort, char **key, char **id)
{
    if (!cursor || !*cursor || strlen(cursor) > CURSOR_MAX_LEN) return -1;
    size_t n = 0;
    unsigned char *raw = b64_decode(cursor, &n);
    if (!raw) return -1;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    int rc = -1;
    const char *s = json_string_value(json_object_get(j, "s"));
    const char *k = json_string_value(json_object_get(j, "k"));
    const char *i = json_string_value(json_object_get(j, "i"));
    if (json_is_object(j) && json_object_size(j) == 3 && s && k && i && strcmp(s, sort) == 0 && valid_row_id(i) &&
        strlen(k) <= 512) {
        char *kc = strdup(k), *ic = strdup(i);
        if (kc && ic) {
            *key = kc;
            *id = ic;
            rc = 0;
        } else {
            free(kc);
            free(ic);
            rc = -2;
        }
    }
    json_decref(j);
    return rc;
}
