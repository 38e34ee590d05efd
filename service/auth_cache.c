/* auth_cache.c — see auth_cache.h. */
#define _GNU_SOURCE
#include "auth_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024 /* a power of two */
#define LOCKS 16

typedef struct slot {
    uint64_t hash;
    char *token; /* NULL: empty */
    auth_claims claims;
} slot;

struct auth_cache {
    pthread_mutex_t locks[LOCKS];
    slot slots[SLOTS];
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

auth_cache *auth_cache_new(void)
{
    auth_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < LOCKS; i++) pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void auth_cache_free(auth_cache *c)
{
    if (!c) return;
    for (int i = 0; i < SLOTS; i++) free(c->slots[i].token);
    for (int i = 0; i < LOCKS; i++) pthread_mutex_destroy(&c->locks[i]);
    free(c);
}

auth_err auth_cache_verify(auth_cache *c, const auth_config *cfg, const char *token, time_t now, auth_claims *out)
{
    if (!c || !token || strlen(token) > cfg->max_token_len) return auth_verify(cfg, token, now, out);
    uint64_t h = fnv1a(token);
    slot *s = &c->slots[h & (SLOTS - 1)];
    pthread_mutex_t *lock = &c->locks[h & (LOCKS - 1)];
    int hit = 0;
    pthread_mutex_lock(lock);
    if (s->token && s->hash == h && strcmp(s->token, token) == 0 && (long long)now < s->claims.exp + cfg->leeway) {
        *out = s->claims;
        hit = 1;
    }
    pthread_mutex_unlock(lock);
    if (hit) return AUTH_OK;
    auth_claims claims;
    auth_err e = auth_verify(cfg, token, now, &claims);
    if (e != AUTH_OK) return e;
    char *copy = strdup(token);
    pthread_mutex_lock(lock);
    if (copy) {
        free(s->token);
        s->token = copy;
        s->hash = h;
        s->claims = claims;
    }
    pthread_mutex_unlock(lock);
    *out = claims;
    return AUTH_OK;
}
