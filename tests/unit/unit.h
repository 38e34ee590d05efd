/* unit.h — runs one check suite and turns its result into an exit status; names what a validator refused. */
#ifndef CAMPAIGND_UNIT_H
#define CAMPAIGND_UNIT_H
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    /* No fork: sanitizers and the leak check see every test in one process. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

static inline char *unit_why_buf(void)
{
    static char buf[4096];
    return buf;
}

/* The fields v names, in order, separated by spaces ("" when none), and empties v (it stays usable). The text
 * lives until the next call; unit_why() then gives "field: message" of each, separated by "; ". Tests assert
 * which field was refused (and, where one field can fail for several reasons, why) instead of counting errors:
 * a count also passes when the wrong field is refused. */
static inline const char *unit_refused(verrs *v)
{
    static char fields[2048];
    char *why = unit_why_buf();
    fields[0] = why[0] = '\0';
    json_t *j_list = verrs_take(v);
    size_t i;
    json_t *j_e;
    json_array_foreach(j_list, i, j_e) {
        const char *f = json_string_value(json_object_get(j_e, "field"));
        const char *m = json_string_value(json_object_get(j_e, "message"));
        size_t n = strlen(fields), w = strlen(why);
        snprintf(fields + n, sizeof fields - n, "%s%s", n ? " " : "", f ? f : "?");
        snprintf(why + w, 4096 - w, "%s%s: %s", w ? "; " : "", f ? f : "?", m ? m : "?");
    }
    json_decref(j_list);
    return fields;
}

/* "field: message; ..." of the last unit_refused() call. */
static inline const char *unit_why(void)
{
    return unit_why_buf();
}
#endif
