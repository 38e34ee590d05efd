/* webhook_url.c — see webhook_url.h. */
#define _GNU_SOURCE
#include "webhook_url.h"

#include <curl/curl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webhook.h"

/* Resolves host and checks every address it has: one forbidden address is
 * enough to refuse, since the delivery may connect to any of them. */
static const char *addresses_check(const char *host, const char *port, const webhook_url_policy *policy)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) return "the host name does not resolve";
    const char *why = NULL;
    for (struct addrinfo *ai = res; ai && !why; ai = ai->ai_next) {
        webhook_addr_kind kind = webhook_addr_classify(ai->ai_addr);
        if (webhook_addr_allowed(kind, policy->allow_private)) continue;
        why = kind == WEBHOOK_ADDR_PRIVATE
                  ? "resolves to a loopback or private address, which this service does not deliver to"
                  : "resolves to a link-local, multicast, unspecified or reserved address, which no delivery "
                    "may reach";
    }
    freeaddrinfo(res);
    return why;
}

const char *webhook_url_check(const char *url, const webhook_url_policy *policy)
{
    const char *why = NULL;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL;
    CURLU *u = curl_url();
    if (!u) return "cannot be checked now (out of memory)";
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        why = "must be an absolute http(s) URL with a host";
        goto out;
    }
    if (strcasecmp(scheme, "https") != 0 && !(policy->allow_http && strcasecmp(scheme, "http") == 0)) {
        why = policy->allow_http ? "must be an http:// or https:// URL" : "must be an https:// URL";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        why = "must not carry credentials (user:password@); authenticate receivers by the signature";
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    /* An IPv6 literal comes back in brackets, perhaps with a zone: getaddrinfo wants the bare address. */
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strcspn(h, "]%")] = '\0';
    }
    why = addresses_check(h, port, policy);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return why;
}
