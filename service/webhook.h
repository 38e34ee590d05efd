/* webhook.h — webhook subscriptions and deliveries as the Standard Webhooks
 * specification wants them: body rules, the event types, secrets
 * ("whsec_" + base64 of 32 random bytes), signatures, the retry schedule and
 * which addresses a delivery may reach. No ulfius, no libpq, no network. */
#ifndef CAMPAIGND_WEBHOOK_H
#define CAMPAIGND_WEBHOOK_H

#include <jansson.h>
#include <stddef.h>
#include <sys/socket.h>

#include "validate.h"

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_EVENT_TYPES_MAX 50
#define WEBHOOK_SECRET_LEN 50         /* "whsec_" + 44 base64 characters */
#define WEBHOOK_SIGNATURE_LEN 47      /* "v1," + 44 base64 characters */
#define WEBHOOK_ATTEMPTS 8            /* the schedule's attempts: immediately, 5 s, …, 10 h */
#define WEBHOOK_RETRY_AFTER_MAX 86400 /* seconds: a longer Retry-After is taken as a day */

/* The event types a subscription may name (NULL-terminated); "*" is every type. */
extern const char *const webhook_event_types[];

/* Validates a create (mode VALIDATE_CREATE) or a patch body (j_current unused:
 * a subscription's fields do not depend on each other); returns the number of
 * errors added. The URL's form is checked here; where it may point is
 * webhook_url_check's (webhook_url.h). */
size_t webhook_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);

/* A new secret, "whsec_" + base64 of 32 random bytes (getrandom). 0, or -1
 * when the system has no randomness to give. */
int webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1]);

/* The signature "v1,<base64 HMAC-SHA256(key, msg_id "." timestamp "." body)>" of one
 * secret, whose key is the base64 after "whsec_". 0, or -1 for a malformed secret. */
int webhook_sign(const char *secret, const char *msg_id, long long timestamp, const char *body, size_t body_len,
                 char out[WEBHOOK_SIGNATURE_LEN + 1]);

/* The delay in milliseconds before attempt number `done` + 1, after `done`
 * failed attempts (1 ≤ done < WEBHOOK_ATTEMPTS): the schedule (5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h) divided by divisor (≥ 1, for tests), with
 * jitter of ±10 % from rnd (a uniform value in [0, 1)); never below
 * retry_after_s seconds (0: none; capped at WEBHOOK_RETRY_AFTER_MAX).
 * -1 when done ≥ WEBHOOK_ATTEMPTS: no attempt is left. */
long long webhook_retry_delay_ms(int done, unsigned divisor, double rnd, long long retry_after_s);

/* Seconds from a Retry-After header value (delta-seconds, or an HTTP-date
 * compared with now); 0 when absent, past or unreadable. */
long long webhook_retry_after_s(const char *value, long long now);

/* What an address is, for the SSRF rules. */
typedef enum webhook_addr_kind {
    WEBHOOK_ADDR_PUBLIC,
    WEBHOOK_ADDR_PRIVATE,     /* loopback, RFC 1918, shared (100.64/10), unique local (fc00::/7) */
    WEBHOOK_ADDR_FORBIDDEN,   /* link-local (169.254/16, the cloud metadata address; fe80::/10), multicast,
                               * unspecified, broadcast, reserved and documentation ranges */
} webhook_addr_kind;

/* Classifies an IPv4 or IPv6 socket address (IPv4-mapped and -compatible IPv6
 * addresses as the IPv4 address they carry). Anything else is forbidden. */
webhook_addr_kind webhook_addr_classify(const struct sockaddr *sa);

/* Whether a delivery may connect to an address of that kind. */
int webhook_addr_allowed(webhook_addr_kind kind, int allow_private);

#endif
