/* metrics.c — see metrics.h. */
#define _GNU_SOURCE
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 500, 503};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

static const char *const *route_labels, *const *route_methods;
static size_t nroutes;
static atomic_ulong counts[METRICS_MAX_ROUTES][NSTATUSES + 1]; /* last: other statuses */
static atomic_ulong buckets[METRICS_MAX_ROUTES][NBUCKETS + 1];
static atomic_ulong sum_us[METRICS_MAX_ROUTES];
static atomic_int in_flight;

void metrics_init(const char *const *labels, const char *const *methods, size_t n)
{
    route_labels = labels;
    route_methods = methods;
    nroutes = n < METRICS_MAX_ROUTES ? n : METRICS_MAX_ROUTES;
}

void metrics_record(size_t route, int status, double seconds)
{
    if (route >= nroutes) route = nroutes - 1;
    size_t s = 0;
    while (s < NSTATUSES && statuses[s] != status) s++;
    atomic_fetch_add(&counts[route][s], 1);
    size_t b = 0;
    while (b < NBUCKETS && seconds > bucket_bounds[b]) b++;
    atomic_fetch_add(&buckets[route][b], 1);
    atomic_fetch_add(&sum_us[route], (unsigned long)(seconds * 1e6));
}

void metrics_in_flight(int delta) { atomic_fetch_add(&in_flight, delta); }
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
            unsigned long v = atomic_load(&counts[r][s]);
            if (!v) continue;
            if (s < NSTATUSES)
                fprintf(f, "campaignd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %lu\n",
                        route_labels[r], route_methods[r], statuses[s], v);
            else
                fprintf(f, "campaignd_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %lu\n",
                        route_labels[r], route_methods[r], v);
        }
    fprintf(f, "# HELP campaignd_http_request_duration_seconds Request latency by route.\n"
               "# TYPE campaignd_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < nroutes; r++) {
        unsigned long cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) cum += atomic_load(&buckets[r][b]);
        if (!cum) continue;
        cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load(&buckets[r][b]);
            if (b < NBUCKETS)
                fprintf(f, "campaignd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %lu\n",
                        route_labels[r], route_methods[r], bucket_bounds[b], cum);
            else
                fprintf(f, "campaignd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %lu\n",
                        route_labels[r], route_methods[r], cum);
        }
        fprintf(f, "campaignd_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", route_labels[r],
                route_methods[r], atomic_load(&sum_us[r]) / 1e6);
        fprintf(f, "campaignd_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %lu\n", route_labels[r],
                route_methods[r], cum);
    }
    fprintf(f, "# HELP campaignd_http_in_flight Requests being served.\n# TYPE campaignd_http_in_flight gauge\n"
               "campaignd_http_in_flight %d\n", atomic_load(&in_flight));
    fprintf(f, "# HELP campaignd_db_pool_size Database connections in the pool.\n# TYPE campaignd_db_pool_size gauge\n"
               "campaignd_db_pool_size %u\n", pool_size);
    fprintf(f, "# HELP campaignd_db_pool_in_use Database connections in use.\n# TYPE campaignd_db_pool_in_use gauge\n"
               "campaignd_db_pool_in_use %u\n", pool_in_use);
    fclose(f);
    return buf;
}
