/* auth_cache.h — remembers tokens this process has already verified, so a
 * client sending the same bearer token on every request pays for the
 * signature and claim checks once (measured: about a quarter of the service's
 * CPU on a one-row GET). Only successes are kept, keyed by the whole token;
 * a hit re-checks expiry, the one claim that changes with time (nbf and iat
 * only become more valid). Bounded: a fixed table, older entries overwritten. */
#ifndef CAMPAIGND_AUTH_CACHE_H
#define CAMPAIGND_AUTH_CACHE_H

#include "auth.h"

typedef struct auth_cache auth_cache;

auth_cache *auth_cache_new(void);
void auth_cache_free(auth_cache *cache);

/* auth_verify through the cache (cache may be NULL: no caching). */
auth_err auth_cache_verify(auth_cache *cache, const auth_config *cfg, const char *token, time_t now,
                           auth_claims *out);

#endif
