/* metrics.h — request counters and latency histograms per route, kept with
 * atomics (no lock on the request path), rendered as Prometheus text. */
#ifndef CAMPAIGND_METRICS_H
#define CAMPAIGND_METRICS_H

#include <stddef.h>

/* Makes room for n routes (index = route index; the last one is for unmatched
 * requests), however many the route table holds. -1 on OOM. Call once, before
 * serving; metrics_free at the end. */
int metrics_init(size_t n);
void metrics_free(void);

/* Names route i (label and method are borrowed: they must outlive the metrics). */
void metrics_set_label(size_t i, const char *label, const char *method);

/* Counts a request of route (an index out of range counts as the last route). */
void metrics_record(size_t route, int status, double seconds);
void metrics_in_flight(int delta);
/* Counts a request refused by the rate limits. */
void metrics_rate_limited(void);
int metrics_in_flight_now(void);

/* Renders the text exposition format; returns malloc'd text (NULL when out of memory). pool_* describe the db pool. */
char *metrics_render(unsigned pool_size, unsigned pool_in_use);

#endif
