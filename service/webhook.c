/* webhook.c — see webhook.h. */
#define _GNU_SOURCE
#include "webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <orcania.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *const webhook_event_types[] = {
    "campaign.created", "campaign.updated",  "campaign.status_changed", "booking.created",
    "booking.cancelled", "approval.requested", "approval.decided",      "conflict.detected",
    "kpi.target_missed", "budget.threshold_crossed", "risk.created",    "risk.updated",
    "endpoint.disabled", "*",                NULL};

static const field_spec webhook_fields[] = {
    {"url", FK_TEXT, FS_REQUIRED, 1, WEBHOOK_URL_MAX, NULL, NULL},
    {"event_types", FK_TEXT_ARRAY, FS_REQUIRED, 1, WEBHOOK_EVENT_TYPES_MAX, NULL, NULL},
    {"description", FK_TEXT, FS_NULLABLE, 0, 500, NULL, NULL},
    {"active", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"disabled_reason", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"disabled_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"failing_since", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"secret_rotated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"secret", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t webhook_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    (void)j_current;
    size_t before = verrs_count(v);
    if (validate_object(j_body, webhook_fields, mode, "", v)) return verrs_count(v) - before;
    json_t *j_types = json_object_get(j_body, "event_types");
    if (j_types && json_array_size(j_types) == 0) verrs_add(v, "event_types", "must name at least one event type");
    size_t i;
    json_t *j_type;
    json_array_foreach(j_types, i, j_type) {
        if (enum_index(webhook_event_types, json_string_value(j_type)) >= 0) continue;
        char field[40];
        snprintf(field, sizeof field, "event_types[%zu]", i);
        verrs_add(v, field, "is not an event type (see the contract's list, or * for every type)");
    }
    const char *url = json_string_value(json_object_get(j_body, "url"));
    if (url && strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
        verrs_add(v, "url", "must be an https:// URL (http:// where the service allows it)");
    return verrs_count(v) - before;
}

int webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1])
{
    unsigned char raw[32], b64[64];
    size_t got = 0, len = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    if (!o_base64_encode(raw, sizeof raw, b64, &len) || len != WEBHOOK_SECRET_LEN - 6) return -1;
    memcpy(out, "whsec_", 6);
    memcpy(out + 6, b64, len);
    out[6 + len] = '\0';
    return 0;
}

int webhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body, size_t body_len,
                 char out[WEBHOOK_SIGNATURE_LEN + 1])
{
    unsigned char key[96], mac[32], b64[64]; /* a key of at most 88 base64 characters is at most 66 bytes */
    size_t key_len = 0, b64_len = 0;
    if (strncmp(secret, "whsec_", 6) != 0 || strlen(secret + 6) > 88 ||
        !o_base64_decode((const unsigned char *)secret + 6, strlen(secret + 6), key, &key_len) || key_len == 0)
        return -1;
    char head[200];
    int n = snprintf(head, sizeof head, "%s.%lld.", msg_id, timestamp);
    if (n < 0 || (size_t)n >= sizeof head) return -1;
    gnutls_hmac_hd_t h;
    if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, key_len) < 0) return -1;
    int rc = gnutls_hmac(h, head, (size_t)n) < 0 || gnutls_hmac(h, body, body_len) < 0;
    gnutls_hmac_deinit(h, mac);
    if (rc || !o_base64_encode(mac, sizeof mac, b64, &b64_len) || b64_len != WEBHOOK_SIGNATURE_LEN - 3) return -1;
    memcpy(out, "v1,", 3);
    memcpy(out + 3, b64, b64_len);
    out[3 + b64_len] = '\0';
    return 0;
}

long long webhook_retry_delay_ms(int done, unsigned divisor, double rnd, long long retry_after_s)
{
    /* After attempt 1 (immediately) come 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h. */
    static const long long schedule_s[WEBHOOK_ATTEMPTS] = {0, 5, 300, 1800, 7200, 18000, 36000, 36000};
    if (done < 1 || done >= WEBHOOK_ATTEMPTS) return -1;
    if (divisor == 0) divisor = 1;
    if (rnd < 0 || rnd >= 1) rnd = 0.5;
    double ms = (double)schedule_s[done] * 1000.0 / divisor;
    ms *= 0.9 + 0.2 * rnd; /* jitter: receivers that fell over together are not hit again together */
    long long delay = (long long)ms;
    if (retry_after_s > WEBHOOK_RETRY_AFTER_MAX) retry_after_s = WEBHOOK_RETRY_AFTER_MAX;
    if (retry_after_s > 0 && delay < retry_after_s * 1000) delay = retry_after_s * 1000;
    return delay;
}

long long webhook_retry_after_s(const char *value, long long now)
{
    if (!value) return 0;
    while (*value == ' ' || *value == '\t') value++;
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        errno = 0;
        long long s = strtoll(value, &end, 10);
        while (end && (*end == ' ' || *end == '\t')) end++;
        if (errno || !end || *end) return 0;
        return s > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX : s;
    }
    struct tm tm = {0};
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return 0;
    long long at = (long long)timegm(&tm);
    if (at <= now) return 0;
    return at - now > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX : at - now;
}

/* An IPv4 address in host order. */
static webhook_addr_kind classify_v4(unsigned a)
{
    unsigned b1 = a >> 24, b2 = (a >> 16) & 0xff;
    if (b1 == 0) return WEBHOOK_ADDR_FORBIDDEN;                                  /* "this network", 0.0.0.0 */
    if (b1 == 127 || b1 == 10) return WEBHOOK_ADDR_PRIVATE;                      /* loopback, RFC 1918 */
    if (b1 == 172 && (b2 & 0xf0) == 16) return WEBHOOK_ADDR_PRIVATE;             /* 172.16/12 */
    if (b1 == 192 && b2 == 168) return WEBHOOK_ADDR_PRIVATE;                     /* 192.168/16 */
    if (b1 == 100 && (b2 & 0xc0) == 64) return WEBHOOK_ADDR_PRIVATE;             /* 100.64/10, shared */
    if (b1 == 169 && b2 == 254) return WEBHOOK_ADDR_FORBIDDEN;                   /* link-local, metadata */
    if (b1 == 192 && b2 == 0 && ((a >> 8) & 0xff) <= 2) return WEBHOOK_ADDR_FORBIDDEN; /* 192.0.0/24, 192.0.2/24 */
    if (b1 == 198 && (b2 == 18 || b2 == 19)) return WEBHOOK_ADDR_FORBIDDEN;      /* benchmarking */
    if (b1 == 198 && b2 == 51 && ((a >> 8) & 0xff) == 100) return WEBHOOK_ADDR_FORBIDDEN; /* documentation */
    if (b1 == 203 && b2 == 0 && ((a >> 8) & 0xff) == 113) return WEBHOOK_ADDR_FORBIDDEN;  /* documentation */
    if (b1 >= 224) return WEBHOOK_ADDR_FORBIDDEN;                                /* multicast, reserved, broadcast */
    return WEBHOOK_ADDR_PUBLIC;
}

webhook_addr_kind webhook_addr_classify(const struct sockaddr *sa)
{
    if (!sa) return WEBHOOK_ADDR_FORBIDDEN;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return classify_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family != AF_INET6) return WEBHOOK_ADDR_FORBIDDEN;
    const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char zeros[16] = {0};
    /* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated) carry an IPv4 address. */
    if (memcmp(b, zeros, 10) == 0 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
        unsigned a = (unsigned)b[12] << 24 | (unsigned)b[13] << 16 | (unsigned)b[14] << 8 | b[15];
        if (b[10] == 0 && a <= 1) return a == 1 ? WEBHOOK_ADDR_PRIVATE : WEBHOOK_ADDR_FORBIDDEN; /* ::1, :: */
        return classify_v4(a);
    }
    /* 64:ff9b::/96 (NAT64) carries one too. */
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, nat64, 12) == 0)
        return classify_v4((unsigned)b[12] << 24 | (unsigned)b[13] << 16 | (unsigned)b[14] << 8 | b[15]);
    if ((b[0] & 0xfe) == 0xfc) return WEBHOOK_ADDR_PRIVATE;                 /* fc00::/7, unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return WEBHOOK_ADDR_FORBIDDEN; /* fe80::/10, link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return WEBHOOK_ADDR_FORBIDDEN; /* fec0::/10, site-local */
    if (b[0] == 0xff) return WEBHOOK_ADDR_FORBIDDEN;                          /* multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return WEBHOOK_ADDR_FORBIDDEN; /* doc */
    if ((b[0] & 0xe0) != 0x20) return WEBHOOK_ADDR_FORBIDDEN; /* outside 2000::/3, the global unicast space */
    return WEBHOOK_ADDR_PUBLIC;
}

int webhook_addr_allowed(webhook_addr_kind kind, int allow_private)
{
    return kind == WEBHOOK_ADDR_PUBLIC || (kind == WEBHOOK_ADDR_PRIVATE && allow_private);
}
