/* metrics.c — see metrics.h. */
#define _GNU_SOURCE
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "webhook_worker.h"

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429,
                                500, 503};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

typedef struct route_stats {
    const char *label, *method;
    atomic_ulong counts[NSTATUSES + 1]; /* last: other statuses */
    atomic_ulong buckets[NBUCKETS + 1];
    atomic_ulong sum_us;
} route_stats;

static route_stats *stats; /* nroutes of them */
static size_t nroutes;
static atomic_int in_flight;

int metrics_init(size_t n)
{
    if (!n || !(stats = calloc(n, sizeof *stats))) return -1;
    nroutes = n;
    for (size_t i = 0; i < n; i++) stats[i].label = stats[i].method = "";
    return 0;
}

void metrics_free(void)
{
    free(stats);
    stats = NULL;
    nroutes = 0;
}

void metrics_set_label(size_t i, const char *label, const char *method)
{
    if (i >= nroutes) return;
    stats[i].label = label;
    stats[i].method = method;
}

void metrics_record(size_t route, int status, double seconds)
{
    if (!nroutes) return;
    route_stats *r = &stats[route < nroutes ? route : nroutes - 1];
    size_t s = 0;
    while (s < NSTATUSES && statuses[s] != status) s++;
    atomic_fetch_add(&r->counts[s], 1);
    size_t b = 0;
    while (b < NBUCKETS && seconds > bucket_bounds[b]) b++;
    atomic_fetch_add(&r->buckets[b], 1);
    atomic_fetch_add(&r->sum_us, (unsigned long)(seconds * 1e6));
}

void metrics_in_flight(int delta) { atomic_fetch_add(&in_flight, delta); }
static atomic_ulong rate_limited;
void metrics_rate_limited(void) { atomic_fetch_add(&rate_limited, 1); }
int metrics_in_flight_now(void) { return atomic_load(&in_flight); }

char *metrics_render(unsigned pool_size, unsigned pool_in_use)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "# HELP campaignd_http_requests_total HTTP requests by route, method and status.\n"
               "# TYPE campaignd_http_requests_total counter\n");
    for (size_t r = 0; r < nroutes; r++)
        for (size_t s = 0; s <= NSTATUSES; s++) {
            unsigned long v = atomic_load(&stats[r].counts[s]);
            if (!v) continue;
            if (s < NSTATUSES)
                fprintf(f, "campaignd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %lu\n",
                        stats[r].label, stats[r].method, statuses[s], v);
            else
                fprintf(f, "campaignd_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %lu\n",
                        stats[r].label, stats[r].method, v);
        }
    fprintf(f, "# HELP campaignd_http_request_duration_seconds Request latency by route.\n"
               "# TYPE campaignd_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < nroutes; r++) {
        unsigned long cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) cum += atomic_load(&stats[r].buckets[b]);
        if (!cum) continue;
        cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load(&stats[r].buckets[b]);
            if (b < NBUCKETS)
                fprintf(f, "campaignd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %lu\n",
                        stats[r].label, stats[r].method, bucket_bounds[b], cum);
            else
                fprintf(f, "campaignd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %lu\n",
                        stats[r].label, stats[r].method, cum);
        }
        fprintf(f, "campaignd_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", stats[r].label,
                stats[r].method, atomic_load(&stats[r].sum_us) / 1e6);
        fprintf(f, "campaignd_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %lu\n", stats[r].label,
                stats[r].method, cum);
    }
    fprintf(f, "# HELP campaignd_http_in_flight Requests being served.\n# TYPE campaignd_http_in_flight gauge\n"
               "campaignd_http_in_flight %d\n", atomic_load(&in_flight));
    fprintf(f, "# HELP campaignd_db_pool_size Database connections in the pool.\n# TYPE campaignd_db_pool_size gauge\n"
               "campaignd_db_pool_size %u\n", pool_size);
    fprintf(f, "# HELP campaignd_db_pool_in_use Database connections in use.\n# TYPE campaignd_db_pool_in_use gauge\n"
               "campaignd_db_pool_in_use %u\n", pool_in_use);
    fprintf(f, "# HELP campaignd_db_round_trips_total Waits for the database's answers (one per pipeline of"
               " statements).\n# TYPE campaignd_db_round_trips_total counter\ncampaignd_db_round_trips_total %llu\n",
            db_round_trips());
    fprintf(f, "# HELP campaignd_rate_limit_refusals_total Requests refused with 429 by the rate limits.\n"
               "# TYPE campaignd_rate_limit_refusals_total counter\ncampaignd_rate_limit_refusals_total %lu\n",
            atomic_load(&rate_limited));
    fprintf(f, "# HELP campaignd_db_pool_waits_total Checkouts that found every pooled connection taken and waited."
               "\n# TYPE campaignd_db_pool_waits_total counter\ncampaignd_db_pool_waits_total %llu\n", db_pool_waits());
    webhook_counts wc;
    webhook_worker_counts(&wc);
    fprintf(f, "# HELP campaignd_webhook_attempts_total Webhook delivery attempts made by this process, by outcome"
               " (released: cut by a shutdown, due again).\n# TYPE campaignd_webhook_attempts_total counter\n"
               "campaignd_webhook_attempts_total{outcome=\"succeeded\"} %llu\n"
               "campaignd_webhook_attempts_total{outcome=\"failed\"} %llu\n"
               "campaignd_webhook_attempts_total{outcome=\"gone\"} %llu\n"
               "campaignd_webhook_attempts_total{outcome=\"released\"} %llu\n",
            wc.succeeded, wc.failed, wc.gone, wc.released);
    fprintf(f, "# HELP campaignd_webhook_ssrf_refusals_total Webhook attempts refused because the receiver's address"
               " is not allowed.\n# TYPE campaignd_webhook_ssrf_refusals_total counter\n"
               "campaignd_webhook_ssrf_refusals_total %llu\n", wc.refused);
    if (wc.have_stats)
        fprintf(f, "# HELP campaignd_outbox_lag_seconds Age of the oldest event not yet handed to webhook deliveries."
                   "\n# TYPE campaignd_outbox_lag_seconds gauge\ncampaignd_outbox_lag_seconds %.3f\n"
                   "# HELP campaignd_webhook_oldest_due_seconds How long the most overdue due webhook delivery has"
                   " waited.\n# TYPE campaignd_webhook_oldest_due_seconds gauge\n"
                   "campaignd_webhook_oldest_due_seconds %.3f\n"
                   "# HELP campaignd_webhook_deliveries_pending Webhook deliveries not yet succeeded or failed.\n"
                   "# TYPE campaignd_webhook_deliveries_pending gauge\ncampaignd_webhook_deliveries_pending %lld\n"
                   "# HELP campaignd_webhook_subscriptions_disabled Webhook subscriptions the service disabled"
                   " (410 Gone, or failing too long).\n# TYPE campaignd_webhook_subscriptions_disabled gauge\n"
                   "campaignd_webhook_subscriptions_disabled %lld\n",
                wc.outbox_lag_s, wc.oldest_due_s, wc.pending, wc.disabled);
    /* A write that failed (no memory) would leave series out: no text rather than a partial one. */
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(buf);
        return NULL;
    }
    return buf;
}
