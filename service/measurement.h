/* measurement.h — measured results: the rows a CRM or an emailing tool
 * pushes (JSON batch or CSV import), checked row by row. Pure: no ulfius,
 * no libpq. The database checks the same again and knows what only it can
 * (the campaign, its owner and currency, the ingestion key). */
#ifndef CAMPAIGND_MEASUREMENT_H
#define CAMPAIGND_MEASUREMENT_H

#include <jansson.h>

#include "validate.h"

#define MEASUREMENT_BATCH_MAX 10000
#define MEASUREMENT_COUNT_MAX 1000000000000000LL /* 10^15: any real counter, far from bigint's end */

/* The columns of a measurement as CSV shows them and as a row's fields are
 * named (NULL-terminated; the counters in catalogue order). */
extern const char *const measurement_columns[];

/* A batch checked row by row. */
typedef struct measurement_batch {
    size_t n;          /* rows in the request */
    json_t *j_errors;  /* array of n: null for a valid row, else its [{field, message}] */
    json_t *j_valid;   /* the valid rows, each with "ord" (its index), for the store */
} measurement_batch;

/* Checks rows (an array of up to MEASUREMENT_BATCH_MAX objects): each row's
 * fields (campaign_id, channel, date, source, external_id, the counters;
 * money as decimal strings) and that no two rows share (source, external_id).
 * With notes, a row holding only the key "" (a reader's note: a CSV record
 * with the wrong number of fields) fails with that note as its message.
 * Returns 0 and fills *b, or -1 out of memory. */
int measurement_batch_check(json_t *j_rows, int notes, measurement_batch *b);
void measurement_batch_free(measurement_batch *b);

/* Validates one row; returns the number of errors added to v. */
size_t measurement_validate_row(json_t *j_row, verrs *v);

#endif
