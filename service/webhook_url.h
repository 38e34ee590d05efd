/* webhook_url.h — where a webhook may point (the SSRF rules): an http(s) URL
 * without credentials whose host resolves only to addresses a delivery may
 * reach (webhook_addr_allowed). Checked when a subscription is written and
 * again by every delivery, on the address it actually connects to (DNS can
 * change in between). Parses with libcurl's URL API, the parser the delivery
 * uses; resolves with getaddrinfo (blocking: call it before taking a
 * database connection). */
#ifndef CAMPAIGND_WEBHOOK_URL_H
#define CAMPAIGND_WEBHOOK_URL_H

typedef struct webhook_url_policy {
    int allow_http;    /* http:// as well as https:// */
    int allow_private; /* loopback and private addresses (tests, on-premises receivers) */
} webhook_url_policy;

/* NULL when url may receive deliveries under policy; otherwise a sentence
 * (static) saying why not, for the url field's 422. */
const char *webhook_url_check(const char *url, const webhook_url_policy *policy);

#endif
