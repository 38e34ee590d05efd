/* measurement.c — see measurement.h. */
#define _GNU_SOURCE
#include "measurement.h"

#include <stdlib.h>
#include <string.h>

#include "kpi.h"

const char *const measurement_columns[] = {
    "campaign_id", "channel", "date", "source", "external_id", "impressions", "reach", "sends", "opens", "clicks",
    "bounces", "unsubscribes", "visits", "leads", "mqls", "sqls", "conversions", "spend", "revenue", NULL};

/* The counters follow the KPI catalogue (a unit test holds them together). */
static const field_spec measurement_row_fields[] = {
    {"campaign_id", FK_UUID, FS_REQUIRED, 0, 0, NULL, NULL},
    {"channel", FK_SLUG, FS_NULLABLE, 0, 0, NULL, NULL},
    {"date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"source", FK_TEXT, FS_REQUIRED, 1, 100, NULL, NULL},
    {"external_id", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"impressions", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"reach", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"sends", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"opens", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"clicks", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"bounces", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"unsubscribes", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"visits", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"leads", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"mqls", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"sqls", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"conversions", FK_INTEGER, FS_NULLABLE, 0, MEASUREMENT_COUNT_MAX, NULL, NULL},
    {"spend", FK_DECIMAL, FS_NULLABLE, 0, 0, NULL, NULL},
    {"revenue", FK_DECIMAL, FS_NULLABLE, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"currency", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t measurement_validate_row(json_t *j_row, verrs *v)
{
    if (!json_is_object(j_row)) {
        verrs_add(v, "", "must be an object");
        return 1;
    }
    return validate_object(j_row, measurement_row_fields, VALIDATE_CREATE, "", v);
}

void measurement_batch_free(measurement_batch *b)
{
    json_decref(b->j_errors);
    json_decref(b->j_valid);
    memset(b, 0, sizeof *b);
}

typedef struct row_key {
    const char *source, *external_id;
    size_t index;
} row_key;

static int key_cmp(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    int c = strcmp(x->source, y->source);
    if (!c) c = strcmp(x->external_id, y->external_id);
    if (!c) c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

int measurement_batch_check(json_t *j_rows, int notes, measurement_batch *b)
{
    memset(b, 0, sizeof *b);
    b->n = json_array_size(j_rows);
    row_key *keys = calloc(b->n ? b->n : 1, sizeof *keys);
    size_t nkeys = 0;
    if (!keys || !(b->j_errors = json_array()) || !(b->j_valid = json_array())) goto oom;
    for (size_t i = 0; i < b->n; i++) {
        json_t *j_row = json_array_get(j_rows, i);
        verrs v;
        verrs_init(&v);
        const char *note = notes ? json_string_value(json_object_get(j_row, "")) : NULL;
        if (note) verrs_add(&v, "", "%s", note);
        else if (measurement_validate_row(j_row, &v) == 0) {
            keys[nkeys].source = json_string_value(json_object_get(j_row, "source"));
            keys[nkeys].external_id = json_string_value(json_object_get(j_row, "external_id"));
            keys[nkeys++].index = i;
        }
        json_t *j_list = verrs_count(&v) ? verrs_take(&v) : json_null();
        verrs_free(&v);
        if (!j_list || json_array_append_new(b->j_errors, j_list) != 0) goto oom;
    }
    /* The same key twice in one batch: the later row is the error (a store
     * could not tell which of the two the source meant). */
    qsort(keys, nkeys, sizeof *keys, key_cmp);
    for (size_t k = 1; k < nkeys; k++) {
        if (strcmp(keys[k].source, keys[k - 1].source) || strcmp(keys[k].external_id, keys[k - 1].external_id))
            continue;
        verrs v;
        verrs_init(&v);
        size_t first = k;
        while (first > 0 && !strcmp(keys[first - 1].source, keys[k].source) &&
               !strcmp(keys[first - 1].external_id, keys[k].external_id))
            first--;
        verrs_add(&v, "external_id", "repeats the source and external_id of row %zu of this batch", keys[first].index);
        json_t *j_list = verrs_take(&v);
        verrs_free(&v);
        if (!j_list || json_array_set_new(b->j_errors, keys[k].index, j_list) != 0) goto oom;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (!json_is_null(json_array_get(b->j_errors, i))) continue;
        json_t *j_row = json_copy(json_array_get(j_rows, i));
        if (!j_row || json_object_set_new(j_row, "ord", json_integer((json_int_t)i)) != 0) {
            json_decref(j_row);
            goto oom;
        }
        if (json_array_append_new(b->j_valid, j_row) != 0) goto oom; /* stolen even when it fails */
    }
    free(keys);
    return 0;
oom:
    free(keys);
    measurement_batch_free(b);
    return -1;
}
