/* ratelimit.c — see ratelimit.h. One table of counters for the current
 * window, keyed by a 64-bit hash of (kind, org, sub); the table is emptied
 * when the window turns, so it never holds more than one window's keys. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 65536 /* a power of two; distinct keys one window may hold */
#define PROBES 32

typedef struct slot {
    uint64_t key; /* 0: empty */
    unsigned count;
} slot;

struct ratelimit {
    unsigned subject_limit, org_limit, window_s;
    pthread_mutex_t lock;
    long long window; /* the window the table counts */
    slot *slots;
};

ratelimit *ratelimit_new(unsigned subject_limit, unsigned org_limit, unsigned window_s)
{
    if ((!subject_limit && !org_limit) || window_s == 0) return NULL;
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl || !(rl->slots = calloc(SLOTS, sizeof *rl->slots))) {
        free(rl);
        return NULL;
    }
    rl->subject_limit = subject_limit;
    rl->org_limit = org_limit;
    rl->window_s = window_s;
    rl->window = -1;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl) return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

/* FNV-1a over kind, org and sub with separators; never 0. */
static uint64_t key_of(char kind, const char *org, const char *sub)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ (unsigned char)kind) * 1099511628211ULL;
    for (const char *p = org; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (const char *p = sub; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ? h : 1;
}

/* The counter of key (created at 0), or NULL when the table is too full around it. Under the lock. */
static slot *find(ratelimit *rl, uint64_t key)
{
    for (unsigned i = 0; i < PROBES; i++) {
        slot *s = &rl->slots[(key + i) & (SLOTS - 1)];
        if (s->key == key) return s;
        if (s->key == 0) {
            s->key = key;
            s->count = 0;
            return s;
        }
    }
    return NULL;
}

void ratelimit_take(ratelimit *rl, const char *org, const char *sub, long long now_s, ratelimit_result *out)
{
    long long window = now_s / rl->window_s;
    out->reset_s = (unsigned)((window + 1) * rl->window_s - now_s);
    pthread_mutex_lock(&rl->lock);
    if (window != rl->window) {
        memset(rl->slots, 0, SLOTS * sizeof *rl->slots);
        rl->window = window;
    }
    slot *s = rl->subject_limit ? find(rl, key_of('s', org, sub)) : NULL;
    slot *o = rl->org_limit ? find(rl, key_of('o', org, NULL)) : NULL;
    /* Remaining before this request in each policy that is on (and has a counter). */
    long long rs = s ? (long long)rl->subject_limit - s->count : -1;
    long long ro = o ? (long long)rl->org_limit - o->count : -1;
    out->allowed = rs != 0 && ro != 0;
    if (out->allowed) {
        if (s) s->count++, rs--;
        if (o) o->count++, ro--;
    }
    pthread_mutex_unlock(&rl->lock);
    /* The binding policy: the one with fewer requests left. */
    if (ro >= 0 && (rs < 0 || ro < rs)) {
        out->policy = "organisation";
        out->remaining = (unsigned)(ro < 0 ? 0 : ro);
    } else {
        out->policy = "subject";
        out->remaining = (unsigned)(rs < 0 ? (rl->subject_limit ? rl->subject_limit : rl->org_limit) : rs);
    }
}

void ratelimit_policy_header(const ratelimit *rl, char *buf, unsigned long size)
{
    int n = 0;
    buf[0] = '\0';
    if (rl->subject_limit)
        n = snprintf(buf, size, "\"subject\";q=%u;w=%u", rl->subject_limit, rl->window_s);
    if (rl->org_limit && n >= 0 && (unsigned long)n < size)
        snprintf(buf + n, size - (unsigned long)n, "%s\"organisation\";q=%u;w=%u", n ? ", " : "", rl->org_limit,
                 rl->window_s);
}
