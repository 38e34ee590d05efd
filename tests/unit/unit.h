/* unit.h — runs one check suite and turns its result into an exit status. */
#ifndef CAMPAIGND_UNIT_H
#define CAMPAIGND_UNIT_H
#include <check.h>

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    /* No fork: the store tests share one pooled connection across tests. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
#endif
