/* lifecycle.h — the worker that moves campaigns along their dates (scheduled
 * → live → completed; sql/migrations/0008_lifecycle.sql). Every replica runs
 * one; the database makes concurrent runs harmless. */
#ifndef CAMPAIGND_LIFECYCLE_H
#define CAMPAIGND_LIFECYCLE_H

#include "db.h"

typedef struct lifecycle_worker lifecycle_worker;

/* Starts a thread that runs the date moves at once and then every
 * interval_s seconds. NULL when interval_s is 0 (disabled) or on failure
 * (logged). */
lifecycle_worker *lifecycle_start(db_pool *pool, unsigned interval_s);

/* Wakes the thread, waits for it to finish its current run, and frees it. NULL is a no-op. */
void lifecycle_stop(lifecycle_worker *w);

#endif
