/* target.c — see target.h. */
#include "target.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kpi.h"

static const char *const target_directions[] = {"higher", "lower", NULL};

/* `target` is checked by the kpi's unit, outside the table. */
static const field_spec target_fields[] = {
    {"kpi", FK_ENUM, FS_REQUIRED, 0, 0, kpi_keys, NULL},
    {"channel", FK_SLUG, FS_NULLABLE, 0, 0, NULL, NULL},
    {"direction", FK_ENUM, FS_NULLABLE, 0, 0, target_directions, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

#define TARGET_COUNT_MAX 1000000000000000LL
#define TARGET_RATIO_MAX 1000000.0

/* Writes the target's text for the store into out: 1, or 0 after adding an error. */
static int target_text(const kpi_def *def, json_t *j, const char *path, char out[40], verrs *v)
{
    switch (def->unit) {
    case KPI_UNIT_COUNT:
        if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > TARGET_COUNT_MAX) {
            verrs_add(v, path, "must be an integer from 0 to %lld (%s is a count)", TARGET_COUNT_MAX, def->key);
            return 0;
        }
        snprintf(out, 40, "%lld", (long long)json_integer_value(j));
        return 1;
    case KPI_UNIT_RATIO:
        if (!json_is_number(j) || !isfinite(json_number_value(j)) || json_number_value(j) < 0 ||
            json_number_value(j) > TARGET_RATIO_MAX) {
            verrs_add(v, path, "must be a number from 0 to 1000000 (%s is a ratio: 0.025 is 2.5 %%)", def->key);
            return 0;
        }
        snprintf(out, 40, "%.15g", json_number_value(j));
        return 1;
    case KPI_UNIT_MONEY:
        if (!json_is_string(j) || !valid_decimal_amount(json_string_value(j))) {
            verrs_add(v, path, "must be a decimal string >= 0 with at most 2 decimals, e.g. \"50.00\" (%s is money)",
                      def->key);
            return 0;
        }
        snprintf(out, 40, "%s", json_string_value(j));
        return 1;
    }
    return 0;
}

size_t target_validate_put(json_t *j_body, json_t **j_rows, verrs *v)
{
    size_t before = verrs_count(v);
    json_t *j_targets = json_object_get(j_body, "targets"), *j_out = json_array();
    if (!j_out) {
        verrs_add(v, "targets", "could not be read (out of memory)");
        return verrs_count(v) - before;
    }
    const char *key;
    json_t *j_val;
    json_object_foreach(j_body, key, j_val)
        if (strcmp(key, "targets") != 0) verrs_add(v, key, "is not a known field");
    if (!j_targets) verrs_add(v, "targets", "is required (an empty list removes every target)");
    else if (!json_is_array(j_targets) || json_array_size(j_targets) > TARGETS_MAX)
        verrs_add(v, "targets", "must be an array of at most %d targets", TARGETS_MAX);
    size_t i;
    json_t *j_t;
    json_array_foreach(json_is_array(j_targets) ? j_targets : NULL, i, j_t) {
        char prefix[32], path[48], text[40];
        snprintf(prefix, sizeof prefix, "targets[%zu]", i);
        if (!json_is_object(j_t)) { verrs_add(v, prefix, "must be an object"); continue; }
        json_t *j_fields = json_copy(j_t);
        if (!j_fields) { verrs_add(v, prefix, "out of memory"); continue; }
        json_object_del(j_fields, "target");
        size_t errs = validate_object(j_fields, target_fields, VALIDATE_CREATE, prefix, v);
        json_decref(j_fields);
        snprintf(path, sizeof path, "%s.target", prefix);
        json_t *j_target = json_object_get(j_t, "target");
        const kpi_def *def = kpi_find(json_string_value(json_object_get(j_t, "kpi")));
        if (!j_target) { verrs_add(v, path, "is required"); continue; }
        if (!def || errs) continue;
        if (!target_text(def, j_target, path, text, v)) continue;
        const char *channel = json_string_value(json_object_get(j_t, "channel"));
        for (size_t k = 0; k < i; k++) {
            json_t *j_prev = json_array_get(j_targets, k);
            const char *pk = json_string_value(json_object_get(j_prev, "kpi"));
            const char *pc = json_string_value(json_object_get(j_prev, "channel"));
            if (pk && strcmp(pk, def->key) == 0 && ((!pc && !channel) || (pc && channel && !strcmp(pc, channel)))) {
                snprintf(path, sizeof path, "%s.kpi", prefix);
                verrs_add(v, path, "repeats the kpi and channel of targets[%zu]", k);
                break;
            }
        }
        const char *dir = json_string_value(json_object_get(j_t, "direction"));
        json_t *j_row = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I}", "kpi", def->key, "unit",
                                  kpi_unit_names[def->unit], "channel", channel, "target", text, "direction",
                                  dir ? dir : def->higher_is_better ? "higher" : "lower", "position", (json_int_t)i);
        if (!j_row || json_array_append_new(j_out, j_row) != 0) verrs_add(v, prefix, "out of memory");
    }
    size_t added = verrs_count(v) - before;
    if (added) json_decref(j_out);
    else *j_rows = j_out;
    return added;
}
