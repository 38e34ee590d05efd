/* kpi.h — the KPI catalogue: every counter a measurement carries and every
 * KPI derived from summed counters, in one table (kpi.c) that GET /v1/kpis
 * serves, that validates measurement rows and targets, and that computes
 * the derived figures. Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_KPI_H
#define CAMPAIGND_KPI_H

#include <jansson.h>
#include <stddef.h>

typedef enum kpi_unit { KPI_UNIT_COUNT, KPI_UNIT_MONEY, KPI_UNIT_RATIO } kpi_unit;

/* The counters, in the order of the catalogue and of kpi_counters.v. */
typedef enum kpi_counter {
    KPI_IMPRESSIONS,
    KPI_REACH,
    KPI_SENDS,
    KPI_OPENS,
    KPI_CLICKS,
    KPI_BOUNCES,
    KPI_UNSUBSCRIBES,
    KPI_VISITS,
    KPI_LEADS,
    KPI_MQLS,
    KPI_SQLS,
    KPI_CONVERSIONS,
    KPI_SPEND,   /* money: v holds minor units (cents) */
    KPI_REVENUE, /* money: v holds minor units (cents) */
    KPI_COUNTERS
} kpi_counter;

#define KPI_NONE (-1)

/* One entry of the catalogue. A counter has num = itself and no den; a
 * derived KPI is (num - minus) / den over summed counters (minus: KPI_NONE
 * when there is none). */
typedef struct kpi_def {
    const char *key;
    const char *label;
    kpi_unit unit;
    int higher_is_better;
    int num, minus, den; /* kpi_counter values, or KPI_NONE */
    const char *formula; /* the formula in words of counter keys, as the catalogue shows it */
    const char *description;
} kpi_def;

/* The whole catalogue (counters first, in kpi_counter order); *n gets its length. */
const kpi_def *kpi_catalogue(size_t *n);

/* The entry for key, or NULL. */
const kpi_def *kpi_find(const char *key);

/* Whether def is a counter (stored) rather than derived. */
int kpi_is_counter(const kpi_def *def);

extern const char *const kpi_unit_names[]; /* count, money, ratio */
extern const char *const kpi_keys[];       /* every key, in catalogue order; NULL-terminated */

/* The catalogue as GET /v1/kpis answers it (new reference; NULL on OOM). */
json_t *kpi_catalogue_json(void);

/* Summed counters of some measurements: v[c] is the sum, present bit c set
 * when at least one row reported counter c. Money in minor units of one
 * currency (sums across currencies are never made). */
typedef struct kpi_counters {
    long long v[KPI_COUNTERS];
    unsigned present;
} kpi_counters;

/* The value of one catalogue entry over c. */
typedef struct kpi_value {
    int is_null;     /* a zero or missing denominator, or a missing numerator */
    kpi_unit unit;
    long long count; /* KPI_UNIT_COUNT */
    long long cents; /* KPI_UNIT_MONEY: minor units, rounded half away from zero */
    double ratio;    /* KPI_UNIT_RATIO */
} kpi_value;

/* Evaluates def over c: a counter gives its sum, a derived KPI its formula
 * over the sums (never an average of ratios); a zero denominator is null. */
kpi_value kpi_eval(const kpi_def *def, const kpi_counters *c);

/* Parses a money amount ("1250.5", "1250.50", "0") into minor units; 0 on
 * success, -1 when s is not a decimal with at most 2 decimals and 14 digits. */
int kpi_parse_cents(const char *s, long long *out);

/* Formats minor units as a decimal with 2 decimals ("1250.50") into out. */
void kpi_format_cents(long long cents, char out[32]);

/* The value as JSON: null, an integer, a number, or for money
 * {"amount": "96.00", "currency": currency} (new reference). */
json_t *kpi_value_json(const kpi_value *val, const char *currency);

#endif
