/* webhook_worker.h — the delivery worker: threads in every replica that fan
 * new outbox events out into deliveries, claim due deliveries (SKIP LOCKED,
 * under a lease) and attempt each over HTTP with libcurl, signed as the
 * Standard Webhooks specification says. All state is in the database
 * (webhook_store.h): a replica that stops or dies leaves nothing behind that
 * another cannot pick up. */
#ifndef CAMPAIGND_WEBHOOK_WORKER_H
#define CAMPAIGND_WEBHOOK_WORKER_H

#include "config.h"
#include "db.h"

typedef struct webhook_worker webhook_worker;

/* Starts cfg->webhook.workers threads (libcurl's global state must be set up
 * first: curl_global_init in main). NULL when that is 0 or on failure (logged). */
webhook_worker *webhook_worker_start(db_pool *pool, const config *cfg);

/* Takes no new delivery from now on; an attempt in flight may go on for
 * grace_s seconds, then it is cut and its delivery left due at once for the
 * next replica (nothing recorded: the attempt did not count). Returns at once. */
void webhook_worker_quiesce(webhook_worker *w, unsigned grace_s);

/* Quiesces (with no grace left when quiesce was not called), waits for the
 * threads and frees w. NULL is a no-op. */
void webhook_worker_stop(webhook_worker *w);

/* Deliveries attempted by this process, by outcome, and the delivery state as
 * this replica's worker last read it from the database (every STATS_EVERY_MS;
 * have_stats 0 until then, and in a replica that delivers nothing), for
 * /metrics, which so never waits for the database. */
typedef struct webhook_counts {
    unsigned long long succeeded, failed, gone, released, refused;
    int have_stats;
    double outbox_lag_s, oldest_due_s;
    long long pending, disabled;
} webhook_counts;
void webhook_worker_counts(webhook_counts *out);

#endif
