/* metrics.h — request counters and latency histograms per route, kept with
 * atomics (no lock on the request path), rendered as Prometheus text. */
#ifndef CAMPAIGND_METRICS_H
#define CAMPAIGND_METRICS_H

#include <stddef.h>

#define METRICS_MAX_ROUTES 64

/* labels: one per route (index = route index); the last is used for unmatched requests. */
void metrics_init(const char *const *labels, const char *const *methods, size_t n);
void metrics_record(size_t route, int status, double seconds);
void metrics_in_flight(int delta);
int metrics_in_flight_now(void);

/* Renders the text exposition format; returns malloc'd text. pool_* describe the db pool. */
char *metrics_render(unsigned pool_size, unsigned pool_in_use);

#endif
