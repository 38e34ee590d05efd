/* test_metrics.c — one series per route, however many routes the table holds. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "unit.h"

START_TEST(every_route_of_a_long_table_has_its_own_series)
{
    enum { N = 300 }; /* far more routes than the service has today */
    static char labels[N][24];
    ck_assert_int_eq(metrics_init(N + 1), 0);
    for (int i = 0; i < N; i++) {
        snprintf(labels[i], sizeof labels[i], "/v1/r%d", i);
        metrics_set_label((size_t)i, labels[i], "GET");
    }
    metrics_set_label(N, "unmatched", "*");
    metrics_record(N - 1, 200, 0.002);
    metrics_record(N - 1, 200, 0.002);
    metrics_record(200, 409, 0.02);
    metrics_record(N, 404, 0.0001);
    metrics_record(N + 50, 404, 0.0001); /* out of range: counted as unmatched, never out of bounds */
    char *text = metrics_render(4, 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "campaignd_http_requests_total{route=\"/v1/r299\",method=\"GET\",status=\"200\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "campaignd_http_requests_total{route=\"/v1/r200\",method=\"GET\",status=\"409\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "campaignd_http_requests_total{route=\"unmatched\",method=\"*\",status=\"404\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "campaignd_http_request_duration_seconds_count{route=\"/v1/r299\",method=\"GET\"} 2\n"));
    ck_assert_ptr_null(strstr(text, "route=\"/v1/r0\"")); /* nothing recorded, nothing shown */
    free(text);
    metrics_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, every_route_of_a_long_table_has_its_own_series);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
