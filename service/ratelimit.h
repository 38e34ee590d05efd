/* ratelimit.h — request limits per token subject and per organisation, in
 * fixed windows, counted in this process's memory. Each replica counts its
 * own requests: behind a load balancer that spreads a client's requests over
 * N replicas, the client gets up to N times the limit (set each replica's
 * limit to the whole's divided by N). Counting in PostgreSQL would hold
 * across replicas but add a round trip and a contended row write to every
 * request — the round trip is what bounds this service's throughput (README,
 * "Round trips"). No ulfius, no libpq. */
#ifndef CAMPAIGND_RATELIMIT_H
#define CAMPAIGND_RATELIMIT_H

typedef struct ratelimit ratelimit;

/* Requests per window_s seconds for one subject of an organisation and for
 * the organisation as a whole (0: that limit is off). NULL when both are off
 * or out of memory. */
ratelimit *ratelimit_new(unsigned subject_limit, unsigned org_limit, unsigned window_s);
void ratelimit_free(ratelimit *rl);

typedef struct ratelimit_result {
    int allowed;            /* counted; 0: refused (and not counted) */
    const char *policy;     /* the policy that binds most ("subject" or "organisation"), static */
    unsigned remaining;     /* requests left in it this window */
    unsigned reset_s;       /* seconds until the window ends */
} ratelimit_result;

/* Counts a request of sub in org at Unix time now_s when both policies allow
 * it; fills *out either way. More distinct keys in one window than the table
 * holds are not limited (the table is sized for tens of thousands). */
void ratelimit_take(ratelimit *rl, const char *org, const char *sub, long long now_s, ratelimit_result *out);

/* The RateLimit-Policy header value: `"subject";q=600;w=60, "organisation";q=3000;w=60` (the policies
 * that are on) into buf. */
void ratelimit_policy_header(const ratelimit *rl, char *buf, unsigned long size);

#endif
